// PHP-FPM pools and their apparmor_hat targets (hats-and-web.md §11).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { nodeFileReader } from '../../src/policy-node/index.js';
import { fpmPoolTargets, memoryFileSystem, nodeFileSystem, profileTreesFromPolicy, readFpmConfig, type ProfileTree } from '../../src/web/index.js';

const files = {
  '/etc/php/8.2/fpm/php-fpm.conf': '; comment\n[global]\npid = /run/php/php8.2-fpm.pid\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n',
  '/etc/php/8.2/fpm/pool.d/alice.conf': '[alice]\nuser = alice\ngroup = "alice"\nlisten = /run/php/$pool.sock ; trailing comment\nchroot = /srv/$pool\nchdir = /\nphp_admin_value[open_basedir] = /srv/$pool/htdocs:/tmp\napparmor_hat = alice\n',
  '/etc/php/8.2/fpm/pool.d/bob.conf': '[bob]\nuser = bob\nlisten = 127.0.0.1:9001\napparmor_hat = bob\n',
  '/etc/php/8.2/fpm/pool.d/plain.conf': '[plain]\nuser = www-data\nlisten = ${FPM_SOCK}\n',
};

const master = (mode: ProfileTree['mode'], rules?: string[]): ProfileTree & { changeProfileRules?: readonly string[] } => ({
  name: 'php-fpm', baseName: 'php-fpm', isHat: false, mode,
  children: [{ name: 'php-fpm//alice', baseName: 'alice', isHat: false, mode, children: [] }],
  ...(rules ? { changeProfileRules: rules } : {}),
});

test('pools with $pool substitution, quotes, comments, ${ENV} and includes', () => {
  const r = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem(files), env: { FPM_SOCK: '/run/php/plain.sock' } });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.config.pools.map((p) => p.name), ['alice', 'bob', 'plain']);
  const alice = r.config.pools[0]!;
  assert.equal(alice.user, 'alice');
  assert.equal(alice.group, 'alice');
  assert.equal(alice.listen, '/run/php/alice.sock');
  assert.equal(alice.chroot, '/srv/alice');
  assert.equal(alice.chdir, '/');
  assert.equal(alice.openBasedir, '/srv/alice/htdocs:/tmp');
  assert.equal(alice.apparmorHat, 'alice');
  assert.equal(r.config.pools[2]!.listen, '/run/php/plain.sock');
  assert.equal(r.config.global['pid'], '/run/php/php8.2-fpm.pid');
});

test('targets: an existing child profile works, a missing one makes every worker exit 70 in enforce mode', () => {
  const { config } = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem(files), env: { FPM_SOCK: 's' } });
  const t = fpmPoolTargets(config, master('enforce', ['php-fpm//*']));
  assert.deepEqual(t.map((x) => [x.pool, x.target, x.kind, x.exists, x.outcome]), [
    ['alice', 'php-fpm//alice', 'profile', true, 'changes'],
    ['bob', 'php-fpm//bob', 'missing', false, 'exit-70'],
    ['plain', null, 'none', false, 'unchanged'],
  ]);
  assert.equal(t[0]!.allowedBy, 'php-fpm//*');
  assert.match(t[1]!.reason, /exits 70/);
});

test('complain mode: a missing target becomes a learning profile instead of exit 70', () => {
  const { config } = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem(files), env: { FPM_SOCK: 's' } });
  const target = fpmPoolTargets(config, master('complain'))[1]!;
  assert.equal(target.outcome, 'learning');
  // The kernel names the learning profile after the whole target: <master>//null-<master>//<hat> (seen on 6.1).
  assert.ok(target.reason.includes(`php-fpm//null-${target.target}`), target.reason);
});

test('an existing target without a change_profile rule allowing it fails in enforce mode', () => {
  const { config } = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem(files), env: { FPM_SOCK: 's' } });
  assert.equal(fpmPoolTargets(config, master('enforce', ['other//*']))[0]!.outcome, 'exit-70');
});

test('an unconfined master targets unconfined//hat, which fails', () => {
  const { config } = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: memoryFileSystem(files), env: { FPM_SOCK: 's' } });
  const t = fpmPoolTargets(config, 'unconfined');
  assert.equal(t[0]!.target, 'unconfined//alice');
  assert.equal(t[0]!.outcome, 'exit-70');
});

test('malformed FPM configs: file:line diagnostics, never a throw', () => {
  const r = readFpmConfig('/f.conf', {
    fs: memoryFileSystem({
      '/f.conf': 'orphan = 1\n[]\n[p]\nno equals sign\nbogus_key = 1\n# hash comment\ninclude = /f.conf\ninclude = /missing.conf\n',
    }),
  });
  assert.deepEqual(r.diagnostics.map((d) => `${d.line} ${d.code}`), [
    '1 web/fpm-syntax', '2 web/fpm-syntax', '4 web/fpm-syntax', '5 web/fpm-unknown-key', '6 web/fpm-hash-comment',
    '7 web/fpm-include-loop', '8 web/fpm-include-not-found', '3 web/fpm-pool-missing-key', '3 web/fpm-pool-missing-key',
  ]);
});

test("Debian's shipped php-fpm.conf reads without errors, and the php-fpm profile allows php-fpm//*", (t) => {
  if (!existsSync('/etc/php/8.2/fpm/php-fpm.conf')) return t.skip('skipped: php8.2-fpm not installed (apt-get install php-fpm)');
  const r = readFpmConfig('/etc/php/8.2/fpm/php-fpm.conf', { fs: nodeFileSystem() });
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.config.pools.some((p) => p.name === 'www' && p.user === 'www-data'));
  if (!existsSync('/etc/apparmor.d/php-fpm')) return;
  const policy = profileTreesFromPolicy('/etc/apparmor.d/php-fpm', { reader: nodeFileReader() });
  const fpm = policy.trees.find((p) => p.name === 'php-fpm');
  assert.ok(fpm);
  assert.ok(fpm.changeProfileRules.includes('php-fpm//*'));
});
