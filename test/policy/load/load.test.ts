// loadPolicy: one staged loader whose result carries every origin as data, so the check pass (and
// every projection) works from the result alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allProfiles, checkPolicy, findProfile, loadPolicy, memoryFileReader } from '../../../src/policy/index.js';

const files = {
  '/etc/apparmor.d/tunables/global': '@{HOME}=/home/*/ /root/\n$LOG = true\n',
  '/etc/apparmor.d/abstractions/site': '  /srv/@{SITE}/** r,\n  capability chwon,\n',
  '/etc/apparmor.d/web': `include <tunables/global>
@{SITE}=alice
profile web /usr/sbin/web {
  @{HOME}/.cache/ r,
  ^alice {
    include <abstractions/site>
  }
  profile /usr/bin/helper {
  }
}
`,
};

test('the loader returns files, the resolved policy with origins, and resolution and check diagnostics', () => {
  const loaded = loadPolicy('/etc/apparmor.d/web', memoryFileReader(files));
  assert.equal(loaded.unreadable, false);
  assert.deepEqual([...loaded.files.keys()], ['/etc/apparmor.d/web', '/etc/apparmor.d/tunables/global', '/etc/apparmor.d/abstractions/site']);
  // the misspelt capability comes from the check stage, reported where it was written, through the include
  const typo = loaded.diagnostics.find((d) => d.code === 'check/unknown-capability');
  assert.ok(typo, JSON.stringify(loaded.diagnostics));
  assert.equal(typo.file, '/etc/apparmor.d/abstractions/site');
  assert.equal(typo.line, 2);
  assert.deepEqual(typo.includeChain?.map((c) => [c.file, c.line]), [['/etc/apparmor.d/web', 6]]);
  assert.equal(loaded.ok, false);

  const hat = findProfile(loaded.resolved.profiles, 'web//alice')!;
  assert.equal(hat.kind, 'hat');
  assert.deepEqual([hat.source.file, hat.source.line], ['/etc/apparmor.d/web', 5]);
  const rule = hat.rules.find((r) => r.class === 'file')!;
  assert.equal(rule.class === 'file' && rule.pattern, '/srv/alice/**');
  assert.deepEqual([rule.source.file, rule.source.line, rule.source.includeChain.length], ['/etc/apparmor.d/abstractions/site', 1, 1]);

  const variables = loaded.resolved.variables ?? [];
  const home = variables.find((v) => v.name === 'HOME');
  assert.deepEqual(home && home.kind === 'set' && [home.values, home.source.file, home.source.line], [['/home/*/', '/root/'], '/etc/apparmor.d/tunables/global', 1]);
  assert.deepEqual(variables.find((v) => v.name === 'LOG'), { kind: 'boolean', name: 'LOG', value: true, source: variables.find((v) => v.name === 'LOG')!.source });
});

test('the check pass needs only the result: a structured clone of the resolved policy checks the same', () => {
  const loaded = loadPolicy('/etc/apparmor.d/web', memoryFileReader(files));
  const direct = checkPolicy({ resolved: loaded.resolved, files: loaded.files });
  const cloned = checkPolicy({ resolved: structuredClone(loaded.resolved), files: loaded.files });
  assert.ok(direct.length > 0);
  assert.deepEqual(cloned, direct);
  // and the one-call form reports what the loader reports
  const oneCall = checkPolicy('/etc/apparmor.d/web', { reader: memoryFileReader(files), workingDirectory: '/' });
  assert.deepEqual(oneCall.diagnostics, loaded.diagnostics);
});

test('findProfile: by name, by a top-level attachment, path-named children; allProfiles walks them all', () => {
  const { resolved } = loadPolicy('/etc/apparmor.d/web', memoryFileReader(files));
  assert.equal(findProfile(resolved.profiles, 'web')?.name, 'web');
  assert.equal(findProfile(resolved.profiles, '/usr/sbin/web')?.name, 'web');
  assert.equal(findProfile(resolved.profiles, '/usr/sbin/web//alice')?.name, 'web//alice');
  assert.equal(findProfile(resolved.profiles, 'web///usr/bin/helper')?.kind, 'child');
  assert.equal(findProfile(resolved.profiles, 'web//bob'), undefined);
  assert.equal(findProfile(resolved.profiles, 'alice'), undefined);
  assert.deepEqual(allProfiles(resolved.profiles).map((p) => p.name), ['web', 'web//alice', 'web///usr/bin/helper']);
});

test('an unreadable entry is one diagnostic, never a throw', () => {
  const loaded = loadPolicy('/nope', memoryFileReader({}));
  assert.equal(loaded.unreadable, true);
  assert.equal(loaded.ok, false);
  assert.deepEqual(loaded.resolved.profiles, []);
  assert.equal(loaded.diagnostics[0]?.code, 'resolve/unreadable-input');
});
