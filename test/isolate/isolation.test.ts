// isolation(): direct reach, shared paths, exec transitions, change_profile, signals, ptrace and unix
// sockets between tenants, on small policies whose answers are known by construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../src/policy/eval/index.js';
import { isolation, type Flow } from '../../src/isolate/index.js';
import { tenantsFromFlags } from '../../src/web/index.js';
import { compileText } from '../policy/eval/support.js';

const model = (...specs: string[]) => tenantsFromFlags(specs);
const TWO = model('alice=/srv/www/alice', 'bob=/srv/www/bob');

function web(alice: string, bob = '', extra = ''): string {
  return `${extra}profile web {
  /usr/lib/** mr,
  ^alice {
    /srv/www/alice/** rw,
${alice}
  }
  ^bob {
    /srv/www/bob/** rw,
${bob}
  }
}
`;
}

const kinds = (flows: readonly Flow[], from = 'alice', to = 'bob') => flows.filter((f) => f.from === from && f.to === to).map((f) => f.kind).sort();

test('hats that keep to their own roots are isolated', () => {
  const result = isolation(compileText(web('')), TWO, { profile: 'web' });
  assert.deepEqual(result.flows, []);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
});

test('a broad glob reaches the other tenant with the shortest witness and the granting rule', () => {
  const compiled = compileText(web('    /srv/www/*/cache/** r,'));
  const result = isolation(compiled, TWO, { profile: 'web' });
  assert.deepEqual(kinds(result.flows), ['read']);
  const flow = result.flows[0]!;
  assert.equal(flow.witness, '/srv/www/bob/cache/a');
  assert.equal(flow.label, 'web//alice');
  assert.equal(flow.rules[0]!.line, 5);
  assert.equal(decide(compiled, 'web//alice', { class: 'file', path: flow.witness, permissions: 'r' }).allowed, true);
  assert.deepEqual(kinds(result.flows, 'bob', 'alice'), []);
});

test('each file permission is its own kind; deny removes reach', () => {
  const result = isolation(compileText(web('    /srv/www/bob/** rwlkmix,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(result.flows), ['create', 'exec', 'link', 'lock', 'map-exec', 'read', 'write']);
  // The area is the directory and everything below it, the name without a slash included.
  const denied = isolation(compileText(web('    /srv/www/** r,\n    deny /srv/www/bob{,/**} r,')), TWO, { profile: 'web' });
  assert.deepEqual(denied.flows, []);
  const partly = isolation(compileText(web('    /srv/www/** r,\n    deny /srv/www/bob/ r,\n    deny /srv/www/bob r,')), TWO, { profile: 'web' });
  assert.equal(partly.flows[0]?.witness, '/srv/www/bob/a');
});

test('owner rules reach another tenant only when both run as the same user', () => {
  const compiled = compileText(web('    owner /srv/www/** r,'));
  const same = isolation(compiled, TWO, { profile: 'web' });
  assert.equal(same.flows.length, 1);
  assert.equal(same.flows[0]!.ownerOnly, true);
  const differ = { ...TWO, tenants: TWO.tenants.map((t, i) => ({ ...t, user: `u${i}` })) };
  assert.deepEqual(isolation(compiled, differ, { profile: 'web' }).flows, []);
});

test('a shared writable directory is a flow from the writer to the reader', () => {
  const result = isolation(compileText(web('    /tmp/** w,', '    /tmp/** r,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(result.flows), ['shared-path']);
  const flow = result.flows.find((f) => f.kind === 'shared-path')!;
  assert.equal(flow.witness, '/tmp/a');
  assert.equal(flow.reader, 'web//bob');
  assert.deepEqual(kinds(result.flows, 'bob', 'alice'), []);
});

test('an ix into a broad helper is the hat itself; a Px into a broad profile is a transition', () => {
  const broad = 'profile helper /usr/bin/helper {\n  /srv/** r,\n}\n';
  const px = isolation(compileText(web('    /usr/bin/helper Px,', '', broad)), TWO, { profile: 'web' });
  const flow = px.flows.find((f) => f.kind === 'transition')!;
  assert.ok(flow, JSON.stringify(px.flows));
  assert.equal(flow.access, 'read');
  assert.equal(flow.witness, '/srv/www/bob');
  assert.match(flow.via!.join(' '), /helper/);
  const ux = isolation(compileText(web('    /usr/bin/tool Ux,')), TWO, { profile: 'web' });
  assert.ok(ux.flows.some((f) => f.kind === 'transition' && f.via!.some((v) => v.startsWith('unconfined'))));
});

test('change_profile into the other tenant\'s hat, signals, ptrace and unix sockets', () => {
  const cp = isolation(compileText(web('    change_profile -> web//bob,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(cp.flows), ['change_profile']);
  const signal = isolation(compileText(web('    signal send peer=web//bob,', '    signal receive peer=web//alice,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(signal.flows), ['signal']);
  const oneSided = isolation(compileText(web('    signal send peer=web//bob,')), TWO, { profile: 'web' });
  assert.deepEqual(oneSided.flows, []);
  const trace = isolation(compileText(web('    ptrace trace peer=web//bob,', '    ptrace tracedby peer=web//alice,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(trace.flows), ['ptrace']);
  const unix = isolation(compileText(web('    unix (connect, send) type=stream,', '    unix (accept, receive) type=stream,')), TWO, { profile: 'web' });
  assert.deepEqual(kinds(unix.flows), ['unix']);
});

test('--allow moves a deliberate flow to accepted; bad names are diagnostics', () => {
  const compiled = compileText(web('    /tmp/** w,', '    /tmp/** r,'));
  const result = isolation(compiled, TWO, { profile: 'web', allow: [{ from: 'alice', to: 'bob', kind: 'shared-path' }] });
  assert.deepEqual(result.flows, []);
  assert.equal(result.accepted.length, 1);
  const bad = isolation(compiled, TWO, { profile: 'web', allow: [{ from: 'alice', to: 'carol', kind: '*' }] });
  assert.ok(bad.diagnostics.some((d) => d.code === 'isolate/unknown-allow'));
});

test('a hat the configuration names but the policy lacks is an error', () => {
  const result = isolation(compileText(web('')), model('alice=/srv/www/alice', 'carol=/srv/www/carol'), { profile: 'web' });
  assert.ok(result.diagnostics.some((d) => d.code === 'isolate/missing-hat' && d.severity === 'error' && /carol/.test(d.message)));
});

test('the parent profile and shared hats are reported apart', () => {
  const text = web('').replace('/usr/lib/** mr,', '/usr/lib/** mr,\n  /srv/www/** r,\n  ^DEFAULT_URI {\n    /srv/www/bob/index.html r,\n  }');
  const result = isolation(compileText(text), { ...TWO, shared: ['DEFAULT_URI'] }, { profile: 'web' });
  assert.deepEqual(result.flows, []);
  assert.ok(result.shared.some((s) => s.label === 'web' && s.tenant === 'bob' && s.kind === 'read'));
  assert.ok(result.shared.some((s) => s.label === 'web//DEFAULT_URI' && s.witness === '/srv/www/bob/index.html'));
});

test('the Landlock view reports what the grants reach', () => {
  const compiled = compileText(web(''));
  const landlock = new Map([
    ['web//alice', [{ path: '/srv/www/alice', read: true, write: true, exec: false }, { path: '/srv/www', read: true, write: false, exec: false }, { path: '/tmp', read: false, write: true, exec: false }]],
    ['web//bob', [{ path: '/srv/www/bob', read: true, write: true, exec: false }, { path: '/tmp/cache', read: true, write: false, exec: false }]],
  ]);
  const result = isolation(compiled, TWO, { profile: 'web', landlock });
  assert.equal(result.view, 'landlock');
  const read = result.flows.find((f) => f.kind === 'read' && f.from === 'alice')!;
  assert.equal(read.witness, '/srv/www/bob');
  assert.equal(read.grant, '/srv/www');
  const shared = result.flows.find((f) => f.kind === 'shared-path')!;
  assert.equal(shared.witness, '/tmp/cache');
  assert.deepEqual(kinds(result.flows, 'bob', 'alice'), []);
});

test('the printed matrix marks, for every ordered pair, exactly the kinds of its flows', async () => {
  const { formatMatrix } = await import('../../src/cli/isolate.js');
  const three = model('alice=/srv/www/alice', 'bob=/srv/www/bob', 'carol=/srv/www/carol');
  const compiled = compileText(`profile web {
  ^alice {
    /srv/www/alice/** rw,
    /srv/www/bob/** r,
    /srv/shared/** w,
  }
  ^bob {
    /srv/www/bob/** rw,
    /srv/www/carol/** rwk,
  }
  ^carol {
    /srv/www/carol/** rw,
    /srv/shared/** r,
  }
}
`);
  const result = isolation(compiled, three, { profile: 'web' });
  const lines = formatMatrix(result).split('\n');
  const names = ['alice', 'bob', 'carol'];
  const cells = lines.slice(1).map((line) => line.trim().split(/\s+/).slice(1));
  const marks: Record<string, string> = { read: 'r', write: 'w', create: 'c', link: 'l', lock: 'k', 'map-exec': 'm', exec: 'x', 'shared-path': 'S' };
  names.forEach((from, i) => names.forEach((to, j) => {
    const expected = from === to ? '-' : (kinds(result.flows, from, to).map((k) => marks[k]).sort().join('') || '.');
    assert.equal([...cells[i]![j]!].sort().join(''), [...expected].sort().join(''), `${from} -> ${to}`);
  }));
  // Known by construction: alice reads bob; bob reads, writes, creates, locks in carol; alice's shared write reaches carol.
  assert.deepEqual(kinds(result.flows, 'alice', 'bob'), ['read']);
  assert.ok(kinds(result.flows, 'bob', 'carol').includes('lock'));
  assert.ok(kinds(result.flows, 'alice', 'carol').includes('shared-path'));
});
