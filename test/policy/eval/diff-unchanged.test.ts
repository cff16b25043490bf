// diffPolicies skips profiles whose compiled effects are identical (only where rules were written
// differs). The shortcut must report exactly what the full comparison reports for equal profiles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { diffPolicies } from '../../../src/policy/eval/index.js';
import { compileText, profile } from './support.js';

const rule = fc.constantFrom(
  '/srv/** r,', 'deny /srv/secret w,', 'owner /home/*/ rw,', '/usr/bin/tool ix,', 'capability setuid,', 'network inet stream,',
  'signal (send) set=(hup) peer=x,', 'unix (send) type=stream,', 'dbus send bus=session,', 'mount options=(ro) /dev/a -> /mnt/,',
  'link /l -> /t,', 'change_profile -> other,', 'set rlimit nofile <= 100,', 'ptrace (read) peer=foo,', 'mqueue r type=posix /q,',
);

test('a profile moved around (comments, blank lines) compares equal with the same classes as the full comparison', () => {
  fc.assert(fc.property(fc.array(rule, { minLength: 1, maxLength: 8 }), (rules) => {
    const text = profile(rules.map((r) => `  ${r}`).join('\n'));
    const moved = `# moved\n\n${profile(rules.map((r) => `\n  # here\n  ${r}`).join('\n'))}`;
    // A duplicated rule changes the compiled profile's text but not its meaning: the full comparison runs.
    const duplicated = profile([...rules, rules[0]!].map((r) => `  ${r}`).join('\n'));
    const shortcut = diffPolicies(compileText(text), compileText(moved));
    const full = diffPolicies(compileText(text), compileText(duplicated));
    assert.ok(shortcut.equal);
    assert.ok(full.equal);
    assert.deepEqual(shortcut, full);
  }), { numRuns: 60 });
});

test('a profile whose effects changed is still compared in full', () => {
  const before = compileText(profile('  /srv/** r,\n  capability setuid,'));
  const after = compileText(profile('  /srv/** rw,\n  capability setuid,'));
  const diff = diffPolicies(before, after);
  assert.ok(!diff.equal);
  assert.match(diff.profiles[0]!.classes.find((c) => c.class === 'file')!.witnesses[0]!.summary, /gained: wa? ?on \/srv\//);
});
