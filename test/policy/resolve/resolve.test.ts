import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryFileReader, resolvePolicy, type ResolvedFileRule, type ResolvedProfile } from '../../../src/policy/resolve/index.js';
import { checkPolicy } from '../../../src/policy/check/index.js';

function resolve(files: Record<string, string>, main = '/etc/apparmor.d/main') {
  return resolvePolicy(main, { reader: memoryFileReader(files), workingDirectory: '/', includePaths: ['/etc/apparmor.d'] });
}

function fileRules(profile: ResolvedProfile): ResolvedFileRule[] {
  return profile.rules.filter((r): r is ResolvedFileRule => r.class === 'file');
}

function codes(text: string, extra: Record<string, string> = {}): string[] {
  const result = checkPolicy('/etc/apparmor.d/main', { reader: memoryFileReader({ '/etc/apparmor.d/main': text, ...extra }), workingDirectory: '/' });
  return result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
}

test('rules from abstractions keep their file, line and include chain', () => {
  const { policy, diagnostics } = resolve({
    '/etc/apparmor.d/main': 'include <tunables/global>\nprofile app /usr/bin/app {\n  include <abstractions/base>\n  @{HOME}/.app/** rw,\n}\n',
    '/etc/apparmor.d/tunables/global': '@{HOME} = /home/*/ /root/\n',
    '/etc/apparmor.d/abstractions/base': '# base\n  include <abstractions/inner>\n',
    '/etc/apparmor.d/abstractions/inner': '\n\n  /etc/ld.so.cache r,\n',
  });
  assert.deepEqual(diagnostics, []);
  const [profile] = policy.profiles;
  assert.equal(profile!.name, 'app');
  assert.equal(profile!.attachment, '/usr/bin/app');
  const [cache, home] = fileRules(profile!);
  assert.equal(cache!.pattern, '/etc/ld.so.cache');
  assert.deepEqual([...cache!.permissions], ['r']);
  assert.deepEqual({ file: cache!.source.file, line: cache!.source.line, col: cache!.source.col }, { file: '/etc/apparmor.d/abstractions/inner', line: 3, col: 3 });
  assert.deepEqual(cache!.source.includeChain, [
    { file: '/etc/apparmor.d/main', line: 3, col: 3 },
    { file: '/etc/apparmor.d/abstractions/base', line: 2, col: 3 },
  ]);
  assert.equal(home!.pattern, '{/home/*,/root}/.app/**');
  assert.deepEqual(home!.source.includeChain, []);
});

test('hats get hierarchical names; @{profile_name} is escaped; prefixes are parsed', () => {
  const { policy, diagnostics } = resolve({
    '/etc/apparmor.d/main': [
      'profile apache2 /usr/sbin/apache2 {',
      '  ^DEFAULT_URI { /srv/www/** r, }',
      '  ^/app/index.php {',
      '    owner /run/@{profile_name}/** rw,',
      '    audit deny /etc/shadow r,',
      '    /usr/bin/php Pix,',
      '  }',
      '}',
    ].join('\n'),
  });
  assert.deepEqual(diagnostics, []);
  const hats = policy.profiles[0]!.children;
  assert.deepEqual(hats.map((h) => [h.name, h.kind]), [['apache2//DEFAULT_URI', 'hat'], ['apache2///app/index.php', 'hat']]);
  assert.equal(hats[1]!.attachment, undefined);
  const [run, shadow, php] = fileRules(hats[1]!);
  assert.equal(run!.pattern, '/run/apache2/app/index.php/**'); // slash filtering collapses the '///'
  assert.equal(run!.prefix.owner, 'owner');
  assert.deepEqual(shadow!.prefix, { audit: true, decision: 'deny', owner: 'any', priority: 0 });
  assert.deepEqual(php!.exec, { transition: 'profile', fallback: 'inherit', safe: true, text: 'Pix' });
});

test('conditionals pick one branch; aliases duplicate matching rules', () => {
  const { policy } = resolve({
    '/etc/apparmor.d/main': [
      '$debug = false',
      '@{V} = 2',
      'alias /usr/ -> /mnt/usr/,',
      '/bin/x {',
      '  if $debug { /debug r, } else if @{V} > 10 { /big r, } else { /usr/small r, }',
      '}',
    ].join('\n'),
  });
  const patterns = fileRules(policy.profiles[0]!).map((r) => [r.pattern, r.fromAlias ?? false]);
  assert.deepEqual(patterns, [['/usr/small', false], ['/mnt/usr/small', true]]);
});

test('including a file twice in one profile is a no-op; another profile includes it again', () => {
  const { policy } = resolve({
    '/etc/apparmor.d/main': '/a { include <x>\n include <x> }\n/b { include <x> }\n',
    '/etc/apparmor.d/x': '/x r,\n',
  });
  assert.deepEqual(policy.profiles.map((p) => p.rules.length), [1, 1]);
});

test('exec modes: exact beats glob, overlapping globs with different modes conflict', () => {
  assert.deepEqual(codes('/p {\n /bin/cat ix,\n /bin/* Px,\n}\n'), []);
  assert.deepEqual(codes('/p {\n /bin/* ix,\n /bin/** Px,\n}\n'), ['check/conflicting-exec-modes']);
  assert.deepEqual(codes('/p {\n /bin/a* ix,\n /bin/*b Px,\n}\n'), ['check/conflicting-exec-modes']);
  assert.deepEqual(codes('/p {\n /bin/a* ix,\n /bin/b* Px,\n}\n'), []);
  assert.deepEqual(codes('/p {\n /bin/* Px -> a,\n /bin/** Px -> a,\n}\n'), []);
  assert.deepEqual(codes('/p {\n /bin/* px -> a,\n /bin/** px -> b,\n}\n'), ['check/conflicting-exec-modes']);
  assert.deepEqual(codes('/p {\n owner /x ix,\n /x Px,\n}\n'), ['check/conflicting-exec-modes']);
  assert.deepEqual(codes('/p {\n owner /x ix,\n other /x Px,\n}\n'), []);
  assert.deepEqual(codes('/p {\n /x ix,\n deny /x x,\n}\n'), []);
  assert.deepEqual(codes('/p {\n priority=1 /bin/* ix,\n /bin/** Px,\n}\n'), []);
});

test('semantic errors apparmor_parser raises', () => {
  assert.deepEqual(codes('/p { capability chown foobar, }'), ['check/unknown-capability']);
  assert.deepEqual(codes('/p { owner capability chown, }'), ['check/owner-not-allowed']);
  assert.deepEqual(codes('/p { priority=1001 /a r, }'), ['check/priority-range']);
  assert.deepEqual(codes('/p flags=(complain, kill) { }'), ['check/conflicting-profile-modes']);
  assert.deepEqual(codes('/p { ^h xattrs=(a=b) { } }'), ['check/xattrs-on-hat']);
  assert.deepEqual(codes('/p { set rlimit nice <= 20, }'), ['check/bad-rlimit-value']);
  assert.deepEqual(codes('/p { signal set=(hup nohup), }'), ['check/unknown-signal']);
  assert.deepEqual(codes('/p { network inet foo, }'), ['check/unknown-network-word']);
  assert.ok(codes('/p { /a{b r, }').length > 0);
  assert.deepEqual(codes('@{A} = @{B}\n@{B} = @{A}\n/p { @{A} r, }'), ['resolve/recursive-variable']);
  assert.deepEqual(codes('/p { @{NOPE} r, }'), ['resolve/undefined-variable']);
  assert.deepEqual(codes('/p { ^h { } ^h { } }'), ['check/duplicate-profile']);
  assert.deepEqual(codes('/p { include <missing> }'), ['resolve/include-not-found']);
  assert.deepEqual(codes('/p { include if exists <missing> }'), []);
});

test('@{profile_name} escapes AARE characters of the name', () => {
  const { policy } = resolve({ '/etc/apparmor.d/main': 'profile g[x] { /run/@{profile_name} r, }' });
  assert.equal(fileRules(policy.profiles[0]!)[0]!.pattern, '/run/g\\[x\\]');
});

test("bare 'file,' is every file permission with ix, so a glob Px conflicts with it", () => {
  assert.deepEqual(codes('/p {\n file,\n /bin/* Px,\n}\n'), ['check/conflicting-exec-modes']);
  assert.deepEqual(codes('/p {\n file,\n /bin/foo Px,\n}\n'), []);
  assert.deepEqual(codes('/p {\n deny file,\n /bin/* Px,\n}\n'), []);
});

test('aliases also cover attachments; @{attach_path} stays the written attachment', () => {
  const { policy } = resolve({ '/etc/apparmor.d/main': 'alias /usr/ -> /mnt/usr/,\nprofile p /usr/bin/p { @{attach_path} r, }\n' });
  const profile = policy.profiles[0]!;
  assert.equal(profile.attachment, '{/usr/bin/p,/mnt/usr/bin/p}');
  assert.deepEqual(fileRules(profile).map((r) => r.pattern), ['/usr/bin/p', '/mnt/usr/bin/p']);
});

test("'profile parent//child' and 'hat parent//h' at file level join their parent", () => {
  const { policy, diagnostics } = resolve({ '/etc/apparmor.d/main': 'profile a { }\nprofile a//c { /c r, }\nhat a//h { /h r, }\nprofile x//y { }\n' });
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(policy.profiles.map((p) => p.name), ['a', 'x//y']);
  assert.deepEqual(policy.profiles[0]!.children.map((c) => [c.name, c.kind]), [['a//h', 'hat'], ['a//c', 'child']]);
});

test('syntax errors in an included file carry the include chain', () => {
  const { diagnostics } = resolve({
    '/etc/apparmor.d/main': 'profile p {\n  include <abstractions/broken>\n}\n',
    '/etc/apparmor.d/abstractions/broken': '  /a r\n',
  });
  const error = diagnostics.find((d) => d.severity === 'error');
  assert.ok(error);
  assert.equal(error.file, '/etc/apparmor.d/abstractions/broken');
  assert.deepEqual(error.includeChain, [{ file: '/etc/apparmor.d/main', line: 2, col: 3 }]);
});
