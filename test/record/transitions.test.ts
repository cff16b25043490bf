// Exec transitions from a compiled policy: the label the recorder gives a process after an exec, as the
// kernel would (Px/Cx targets, attachments, fallbacks, ux), decided by the policy evaluator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventsFromTrace, policyTransitions } from '../../src/record/index.js';
import { compileText } from '../policy/eval/support.js';

const policy = compileText(`
profile web {
  /usr/bin/px-named Px -> helper,
  /usr/bin/px-attached Px,
  /usr/bin/px-missing Px -> nowhere,
  /usr/bin/pix-missing Pix -> nowhere,
  /usr/bin/pux-missing Pux -> nowhere,
  /usr/bin/cx-named Cx -> kid,
  /usr/bin/cx-attached Cx,
  /usr/bin/inherit ix,
  /usr/bin/un Ux,
  /usr/bin/* Px -> helper,
  deny /usr/bin/denied x,
  /usr/bin/denied Px -> helper,
  ^site {
    /usr/bin/helper-of-site Px -> helper,
    /usr/bin/kid-of-site Cx -> kid,
  }
  profile kid { }
  profile /usr/bin/cx-attached { }
}
profile helper { }
profile attached /usr/bin/px-attached { }
`);

test('px/cx go to their named or attached profile; ix, deny, a missing rule and a missing target keep the label', () => {
  const next = policyTransitions(policy);
  assert.equal(next('web', '/usr/bin/px-named'), 'helper');
  assert.equal(next('web', '/usr/bin/px-attached'), 'attached');
  assert.equal(next('web', '/usr/bin/cx-named'), 'web//kid');
  assert.equal(next('web', '/usr/bin/cx-attached'), 'web///usr/bin/cx-attached');
  assert.equal(next('web', '/usr/bin/other'), 'helper', 'the glob rule');
  assert.equal(next('web', '/usr/bin/inherit'), undefined);
  assert.equal(next('web', '/usr/bin/denied'), undefined, 'deny x wins over the Px rule');
  assert.equal(next('web', '/usr/sbin/none'), undefined, 'no x rule: the exec is not a transition');
  assert.equal(next('web', '/usr/bin/px-missing'), undefined, 'without a target the exec fails; the process keeps its label');
  assert.equal(next('web', '/usr/bin/pix-missing'), undefined);
  assert.equal(next('web', '/usr/bin/pux-missing'), 'unconfined');
  assert.equal(next('web', '/usr/bin/un'), 'unconfined');
  // A hat's rules, not its parent's: cx names a child of the hat itself, which this policy does not have.
  assert.equal(next('web//site', '/usr/bin/helper-of-site'), 'helper');
  assert.equal(next('web//site', '/usr/bin/px-named'), undefined);
  assert.equal(next('web//site', '/usr/bin/kid-of-site'), undefined);
  assert.equal(next('nosuch', '/usr/bin/px-named'), undefined);
});

test('the recorder labels a helper\'s accesses with its profile; a ux helper is not recorded at all', () => {
  const host = { realpath: (path: string) => path, isDirectory: () => false };
  const trace = [
    '1 1.0 fork() = 2',
    '2 1.1 execve("/usr/bin/px-named", ["px-named"], 0x1 /* 0 vars */) = 0',
    '2 1.2 openat(AT_FDCWD</>, "/etc/helper.conf", O_RDONLY) = 3</etc/helper.conf>',
    '1 1.3 fork() = 3',
    '3 1.4 execve("/usr/bin/un", ["un"], 0x1 /* 0 vars */) = 0',
    '3 1.5 openat(AT_FDCWD</>, "/etc/shadow", O_RDONLY) = 3</etc/shadow>',
    '1 1.6 openat(AT_FDCWD</>, "/etc/web.conf", O_RDONLY) = 3</etc/web.conf>',
  ].join('\n');
  const { events } = eventsFromTrace(trace, { label: 'web', cwd: '/', host, transitions: policyTransitions(policy) });
  assert.deepEqual(events.map((e) => [e.operation, e.label?.text, e.object.name, e.object.target]), [
    ['exec', 'web', '/usr/bin/px-named', 'helper'],
    ['open', 'helper', '/etc/helper.conf', undefined],
    ['exec', 'web', '/usr/bin/un', 'unconfined'],
    ['open', 'web', '/etc/web.conf', undefined],
  ]);
});
