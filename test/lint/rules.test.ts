// Every lint rule with a policy that has the mistake (positive) and a close one that does not (negative).
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { loadPolicy, memoryFileReader } from '../../src/policy/index.js';
import { lintPolicy, LINT_RULES, type LintFinding, type LintWeb } from '../../src/lint/index.js';
import { memoryFileSystem, readApacheConfig, readFpmConfig, tenantsFromFlags, type WebFileSystem } from '../../src/web/index.js';

const ABI = { '/p/abi/3.0': '' };

function lint(body: string, options: { web?: LintWeb; preamble?: string; files?: Record<string, string> } = {}): LintFinding[] {
  const text = `${options.preamble ?? 'abi <abi/3.0>,\n'}profile apache2 /usr/sbin/apache2 {\n${body}\n}\n`;
  const reader = memoryFileReader({ ...ABI, '/p/web': text, ...(options.files ?? {}) });
  const loaded = loadPolicy('/p/web', reader, { workingDirectory: '/p', includePaths: ['/p'] });
  assert.ok(loaded.ok, loaded.diagnostics.map((d) => d.message).join('\n'));
  return [...lintPolicy({ loaded, ...(options.web ? { web: options.web } : {}) }).findings];
}

const codes = (findings: readonly LintFinding[]) => [...new Set(findings.map((f) => f.code))].sort();
const only = (findings: readonly LintFinding[], code: string) => findings.filter((f) => f.code === code);
const tenants = tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob']);

test('lint/php-writable-code: a hat that writes what it executes, or PHP files it serves', () => {
  const exec = only(lint('  ^alice {\n    /srv/www/alice/** rw,\n    /srv/www/alice/bin/* ix,\n  }'), 'lint/php-writable-code').filter((f) => /executes/.test(f.message));
  assert.equal(exec.length, 1);
  assert.match(exec[0]!.message, /can write files it also executes, e\.g\. \/srv\/www\/alice\/bin\//);
  assert.equal(exec[0]!.line, 4);
  const php = only(lint('  ^alice {\n    /srv/www/alice/** r,\n    /srv/www/alice/uploads/** w,\n  }'), 'lint/php-writable-code');
  assert.equal(php.length, 1);
  assert.match(php[0]!.message, /PHP files it also serves, e\.g\. \/srv\/www\/alice\/uploads\/\.php/);
  // Negative: the uploads directory cannot hold PHP (deny), and nothing writable is executable.
  assert.deepEqual(only(lint('  ^alice {\n    /srv/www/alice/** r,\n    /srv/www/alice/uploads/** w,\n    deny /srv/www/alice/uploads/**.{php,phtml,phar} w,\n    /usr/bin/* ix,\n  }'), 'lint/php-writable-code'), []);
  // An owner-only deny leaves the other half: still a finding (exactness, not string matching).
  assert.equal(only(lint('  ^alice {\n    /srv/www/alice/** rw,\n    deny owner /srv/www/alice/**.php w,\n  }'), 'lint/php-writable-code').length, 1);
});

test('lint/cross-site-glob: a rule whose automaton meets another tenant\'s area, with a witness', () => {
  const found = only(lint('  ^alice {\n    /srv/www/*/config.php r,\n  }', { web: { tenants } }), 'lint/cross-site-glob');
  assert.equal(found.length, 1);
  assert.match(found[0]!.message, /reaches bob's area: this rule matches \/srv\/www\/bob\/config\.php/);
  // Negative: own area only; a glob that looks broad but a deny carves the other site out.
  assert.deepEqual(only(lint('  ^alice {\n    /srv/www/alice/** r,\n    /srv/www/{alice,carol}/x r,\n  }', { web: { tenants } }), 'lint/cross-site-glob'), []);
  assert.deepEqual(only(lint('  ^alice {\n    /srv/www/*/config.php r,\n    deny /srv/www/bob/** r,\n  }', { web: { tenants } }), 'lint/cross-site-glob'), []);
  // Not a prefix question: /srv/www/b* reaches bob although no string prefix says /srv/www/bob.
  assert.equal(only(lint('  ^alice {\n    /srv/www/b*/** r,\n  }', { web: { tenants } }), 'lint/cross-site-glob').length, 1);
});

const memoryWebFs = (files: Record<string, string>): WebFileSystem => memoryFileSystem(files);

test('lint/missing-hat and lint/unreachable-hat from Apache: AAHatName to a hat that does not exist, a hat nobody enters', () => {
  const fs = memoryWebFs({ '/a/apache2.conf': 'LoadModule apparmor_module m.so\n<VirtualHost *:80>\nServerName shop.example\nAADefaultHatName shop\n<Location /admin>\nAAHatName shop-admin\n</Location>\n</VirtualHost>\n' });
  const { config } = readApacheConfig('/a/apache2.conf', { fs });
  const findings = lint('  ^shop {\n  }\n  ^old-site {\n  }', { web: { apache: { config, map: { defaultServerName: 'localhost' } } } });
  const missing = only(findings, 'lint/missing-hat');
  assert.equal(missing.length, 1);
  assert.equal(missing[0]!.file, '/a/apache2.conf');
  assert.equal(missing[0]!.line, 5); // the <Location> section that sets it
  assert.match(missing[0]!.message, /AAHatName shop-admin: apache2 has no hat 'shop-admin'.*run in apache2\/\/shop/);
  const dead = only(findings, 'lint/unreachable-hat');
  assert.deepEqual(dead.map((f) => f.message.split(':')[0]), ['hat apache2//old-site']);
  // Negative: every configured name exists, every hat is entered.
  const clean = lint('  ^shop {\n  }\n  ^shop-admin {\n  }', { web: { apache: { config, map: { defaultServerName: 'localhost' } } } });
  assert.deepEqual([...only(clean, 'lint/missing-hat'), ...only(clean, 'lint/unreachable-hat')], []);
});

test('lint/missing-hat and lint/hat-not-allowed from PHP-FPM: exit 70 explained', () => {
  const fs = memoryWebFs({ '/f/php-fpm.conf': '[global]\n[www]\nuser = www-data\nlisten = /run/www.sock\napparmor_hat = www\n[blog]\nuser = blog\nlisten = /run/blog.sock\napparmor_hat = blog\n' });
  const { config } = readFpmConfig('/f/php-fpm.conf', { fs });
  const text = 'abi <abi/3.0>,\nprofile php-fpm /usr/sbin/php-fpm* {\n  change_profile -> php-fpm//www,\n  ^www {\n  }\n  ^blog {\n  }\n}\n';
  const loaded = loadPolicy('/p/php-fpm', memoryFileReader({ ...ABI, '/p/php-fpm': text }), { workingDirectory: '/p', includePaths: ['/p'] });
  const findings = lintPolicy({ loaded, web: { fpm: { config } } }).findings;
  const notAllowed = only(findings, 'lint/hat-not-allowed');
  assert.equal(notAllowed.length, 1);
  assert.match(notAllowed[0]!.message, /\[blog\].*exits 70/);
  const missingText = text.replace('  ^blog {\n  }\n', '').replace('php-fpm//www', 'php-fpm//*');
  const missing = only(lintPolicy({ loaded: loadPolicy('/p/php-fpm', memoryFileReader({ ...ABI, '/p/php-fpm': missingText }), { workingDirectory: '/p', includePaths: ['/p'] }), web: { fpm: { config } } }).findings, 'lint/missing-hat');
  assert.equal(missing.length, 1);
  assert.equal(missing[0]!.line, 9);
  assert.match(missing[0]!.message, /apparmor_hat = blog: php-fpm\/\/blog does not exist \(ENOENT\).*exits 70/);
  const good = text.replace('php-fpm//www', 'php-fpm//*');
  const clean = lintPolicy({ loaded: loadPolicy('/p/php-fpm', memoryFileReader({ ...ABI, '/p/php-fpm': good }), { workingDirectory: '/p', includePaths: ['/p'] }), web: { fpm: { config } } }).findings;
  assert.deepEqual(codes(clean).filter((c) => /missing-hat|hat-not-allowed|unreachable/.test(c)), []);
});

test('lint/missing-hat from hatter.yaml sites', () => {
  const findings = lint('  ^shop {\n  }', { web: { configuredHats: [
    { hat: 'shop', profile: 'apache2', at: { file: 'hatter.yaml', line: 1, col: 1 }, by: 'sites[0] (shop)', consequence: 'x' },
    { hat: 'blog', profile: 'apache2', at: { file: 'hatter.yaml', line: 1, col: 1 }, by: 'sites[1] (blog)', consequence: 'falls through' },
  ] } });
  assert.deepEqual(only(findings, 'lint/missing-hat').map((f) => f.message), ["sites[1] (blog) 'blog': apache2 has no hat 'blog'; falls through"]);
});

test('lint/null-leftover: rules for //null- learning profiles, with a fix that removes the rule', () => {
  const findings = only(lint('  ^shop {\n    signal (receive) peer=apache2//null-shop.example,\n    /srv/x r,\n  }\n  change_profile -> apache2//null-*,'), 'lint/null-leftover');
  assert.equal(findings.length, 2);
  assert.equal(findings[0]!.fix?.description, 'remove the rule');
  assert.deepEqual(only(lint('  ^shop {\n    signal (receive) peer=apache2//shop,\n  }\n  change_profile -> apache2//shop,'), 'lint/null-leftover'), []);
  assert.equal(only(lint('  ^null-shop {\n  }'), 'lint/null-leftover').length, 1);
});

test('lint/shell-inherit: ix on a shell inside a hat (exact: /{,usr/}bin/* covers dash)', () => {
  assert.equal(only(lint('  ^shop {\n    /{,usr/}bin/* ix,\n  }'), 'lint/shell-inherit').length, 1);
  assert.equal(only(lint('  ^shop {\n    /bin/dash pix,\n  }'), 'lint/shell-inherit').length, 1);
  assert.deepEqual(only(lint('  ^shop {\n    /usr/bin/convert ix,\n    /bin/dash Cx -> sh,\n  }\n  profile sh {\n  }'), 'lint/shell-inherit'), []);
  // Outside hats it is not this rule's business.
  assert.deepEqual(only(lint('  /bin/dash ix,'), 'lint/shell-inherit'), []);
});

test('lint/unconfined-exec: Ux, pux fallback and change_profile to unconfined', () => {
  const f = only(lint('  ^shop {\n    /usr/bin/a Ux,\n    /usr/bin/b pux,\n    change_profile -> unconfined,\n  }'), 'lint/unconfined-exec');
  assert.equal(f.length, 3);
  assert.ok(f.every((x) => x.severity === 'error'));
  assert.equal(only(lint('  /usr/bin/a Ux,'), 'lint/unconfined-exec')[0]!.severity, 'warning');
  assert.deepEqual(only(lint('  ^shop {\n    /usr/bin/a Px,\n    /usr/bin/b Cix -> b,\n  }\n  profile b {\n  }'), 'lint/unconfined-exec'), []);
});

test('lint/dangerous-capability: dac_override, setuid, bare capability in a hat', () => {
  const f = only(lint('  ^shop {\n    capability dac_override setuid net_bind_service,\n    capability,\n  }'), 'lint/dangerous-capability');
  assert.equal(f.length, 2);
  assert.match(f[0]!.message, /dac_override, setuid/);
  assert.deepEqual(only(lint('  ^shop {\n    capability net_bind_service,\n  }\n  capability setuid,'), 'lint/dangerous-capability'), []);
});

test('lint/shared-tmp: writes in /tmp without owner, with the owner fix; owner and reads are fine', () => {
  const f = only(lint('  ^shop {\n    audit /tmp/** rw,\n    /var/tmp/x w,\n  }'), 'lint/shared-tmp');
  assert.equal(f.length, 2);
  assert.equal(f[0]!.fix?.edits[0]?.replacement, 'owner ');
  assert.deepEqual(only(lint('  ^shop {\n    owner /tmp/** rw,\n    /tmp/** r,\n    /srv/tmp/** w,\n  }'), 'lint/shared-tmp'), []);
});

test('lint/broad-change-profile: targets outside the profile\'s own hats', () => {
  const f = only(lint('  change_profile -> {apache2//*,other},\n  ^shop {\n  }'), 'lint/broad-change-profile');
  assert.equal(f.length, 1);
  assert.match(f[0]!.message, /change_profile to other/);
  assert.equal(only(lint('  ^shop {\n    change_profile -> apache2//*,\n  }'), 'lint/broad-change-profile')[0]?.severity, 'error');
  assert.deepEqual(only(lint('  change_profile -> apache2//*,\n  ^shop {\n  }'), 'lint/broad-change-profile'), []);
});

test('lint/read-all-files, lint/any-peer-ipc, lint/network-any-family in hats', () => {
  const f = lint('  ^shop {\n    /** r,\n    ptrace (read),\n    signal (send) set=(kill),\n    network,\n  }');
  assert.equal(only(f, 'lint/read-all-files').length, 1);
  assert.equal(only(f, 'lint/any-peer-ipc').length, 2);
  assert.equal(only(f, 'lint/network-any-family').length, 1);
  const clean = lint('  ^shop {\n    /srv/** r,\n    signal (send) peer=apache2//shop,\n    network inet stream,\n    ptrace (readby),\n    ptrace (tracedby),\n    signal (receive, send) set=("exists"),\n  }');
  assert.deepEqual(codes(clean).filter((c) => /read-all|any-peer|network-any/.test(c)), []);
});

test('lint/broad-abstraction: desktop and admin abstractions in a hat', () => {
  const files = { '/p/abstractions/authentication': '/etc/shadow r,\n', '/p/abstractions/base': '/etc/ld.so.cache r,\n' };
  assert.equal(only(lint('  ^shop {\n    include <abstractions/authentication>\n  }', { files }), 'lint/broad-abstraction').length, 1);
  assert.deepEqual(only(lint('  include <abstractions/authentication>\n  ^shop {\n    include <abstractions/base>\n  }', { files }), 'lint/broad-abstraction'), []);
});

test('lint/complain-hat, lint/deprecated-include (fix), lint/missing-abi', () => {
  assert.equal(only(lint('  ^shop flags=(complain) {\n  }'), 'lint/complain-hat').length, 1);
  assert.deepEqual(only(lint('  ^shop {\n  }'), 'lint/complain-hat'), []);
  const files = { '/p/tunables/global': '@{HOME}=/home/\n' };
  const dep = only(lint('', { preamble: 'abi <abi/3.0>,\n#include <tunables/global>\n', files }), 'lint/deprecated-include');
  assert.equal(dep.length, 1);
  assert.deepEqual(dep[0]!.fix?.edits.map((e) => [e.offset, e.length, e.replacement]), [[15, 8, 'include']]);
  assert.deepEqual(only(lint('', { preamble: 'abi <abi/3.0>,\ninclude <tunables/global>\n', files }), 'lint/deprecated-include'), []);
  assert.equal(only(lint('', { preamble: '' }), 'lint/missing-abi').length, 1);
  assert.deepEqual(only(lint(''), 'lint/missing-abi'), []);
});

test('suppressions: a reason is required; the comment covers its line and the next', () => {
  const body = '  ^shop {\n    # hatter-lint: allow lint/shared-tmp — the lock name is fixed per site\n    /tmp/shop.lock w,\n    /tmp/other w, # hatter-lint: allow lint/shared-tmp\n    /tmp/third w, # hatter-lint: allow lint/no-such-rule -- x\n  }';
  const text = `abi <abi/3.0>,\nprofile apache2 {\n${body}\n}\n`;
  const loaded = loadPolicy('/p/web', memoryFileReader({ ...ABI, '/p/web': text }), { workingDirectory: '/p', includePaths: ['/p'] });
  const result = lintPolicy({ loaded });
  assert.deepEqual(result.suppressed.map((s) => [s.finding.line, s.by.reason]), [[5, 'the lock name is fixed per site']]);
  assert.deepEqual(only(result.findings, 'lint/shared-tmp').map((f) => f.line), [6, 7]);
  assert.deepEqual(only(result.findings, 'lint/suppression-without-reason').map((f) => f.line), [6, 7]);
});

test('every rule in the catalog has a test in this file, and codes are unique', () => {
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  for (const rule of LINT_RULES) assert.ok(source.includes(`'${rule.code}'`), `${rule.code} has no test`);
  assert.equal(new Set(LINT_RULES.map((r) => r.code)).size, LINT_RULES.length);
});
