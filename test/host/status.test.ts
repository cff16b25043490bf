// `hatter status` on a fake /sys + /proc tree: aa-status's view, and each web worker's hat against the configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabel, readApparmorState } from '../../src/host/status.js';
import { runCli } from '../support/cli.js';

function fakeRoot(processes: { pid: number; exe: string; cmdline: string; attr: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'hatter-status-'));
  mkdirSync(join(root, 'sys/module/apparmor/parameters'), { recursive: true });
  writeFileSync(join(root, 'sys/module/apparmor/parameters/enabled'), 'Y\n');
  mkdirSync(join(root, 'sys/kernel/security/apparmor'), { recursive: true });
  writeFileSync(join(root, 'sys/kernel/security/apparmor/profiles'), [
    'php-fpm//shop (enforce)', 'php-fpm (enforce)', 'apache2//shop (complain)', 'apache2//DEFAULT_URI (enforce)', 'apache2 (enforce)', '',
  ].join('\n'));
  for (const p of processes) {
    const dir = join(root, 'proc', String(p.pid));
    mkdirSync(join(dir, 'attr/apparmor'), { recursive: true });
    writeFileSync(join(dir, 'attr/apparmor/current'), `${p.attr}\n`);
    writeFileSync(join(dir, 'cmdline'), `${p.cmdline.split(' ').join('\0')}\0`);
    symlinkSync(p.exe, join(dir, 'exe'));
  }
  mkdirSync(join(root, 'proc/self'), { recursive: true });
  return root;
}

/** A configuration with one vhost (hat shop) and one pool (apparmor_hat shop). */
function fakeConfig(): string {
  const prefix = mkdtempSync(join(tmpdir(), 'hatter-status-etc-'));
  mkdirSync(join(prefix, 'etc/apache2'), { recursive: true });
  writeFileSync(join(prefix, 'etc/apache2/apache2.conf'), 'LoadModule apparmor_module /usr/lib/apache2/modules/mod_apparmor.so\n<VirtualHost *:80>\n  ServerName shop.example\n  DocumentRoot /srv/shop\n  AADefaultHatName shop\n</VirtualHost>\n');
  mkdirSync(join(prefix, 'etc/php/8.2/fpm/pool.d'), { recursive: true });
  writeFileSync(join(prefix, 'etc/php/8.2/fpm/php-fpm.conf'), `[global]\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n`);
  writeFileSync(join(prefix, 'etc/php/8.2/fpm/pool.d/shop.conf'), '[shop]\nuser = www-data\nlisten = /run/php/shop.sock\napparmor_hat = shop\n');
  writeFileSync(join(prefix, 'etc/php/8.2/fpm/pool.d/blog.conf'), '[blog]\nuser = www-data\nlisten = /run/php/blog.sock\napparmor_hat = blog\n');
  return prefix;
}

test('parseLabel reads `label (mode)` and bare unconfined', () => {
  assert.deepEqual(parseLabel('apache2//shop (complain)\n'), { label: 'apache2//shop', mode: 'complain' });
  assert.deepEqual(parseLabel('unconfined\n'), { label: 'unconfined', mode: 'unconfined' });
  assert.deepEqual(parseLabel('/usr/bin/a b (enforce)'), { label: '/usr/bin/a b', mode: 'enforce' });
});

test('status --json: aa-status fields, hats of processes, and which web workers are where the configuration puts them', async () => {
  const root = fakeRoot([
    { pid: 100, exe: '/usr/sbin/apache2', cmdline: '/usr/sbin/apache2 -k start', attr: 'apache2 (enforce)' },
    { pid: 101, exe: '/usr/sbin/apache2', cmdline: '/usr/sbin/apache2 -k start', attr: 'apache2//shop (complain)' },
    { pid: 102, exe: '/usr/sbin/apache2', cmdline: '/usr/sbin/apache2 -k start', attr: 'apache2//null-other.example (complain)' },
    { pid: 200, exe: '/usr/sbin/php-fpm8.2', cmdline: 'php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)', attr: 'php-fpm (enforce)' },
    { pid: 201, exe: '/usr/sbin/php-fpm8.2', cmdline: 'php-fpm: pool shop', attr: 'php-fpm//shop (enforce)' },
    { pid: 202, exe: '/usr/sbin/php-fpm8.2', cmdline: 'php-fpm: pool blog', attr: 'php-fpm (enforce)' },
    { pid: 300, exe: '/usr/bin/bash', cmdline: 'bash', attr: 'unconfined' },
  ]);
  const prefix = fakeConfig();
  try {
    const r = await runCli(['status', '--json', '--root', root, '--prefix', prefix]);
    assert.equal(r.code, 1, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.version, '2');
    assert.deepEqual(json.profiles, { 'apache2': 'enforce', 'apache2//DEFAULT_URI': 'enforce', 'apache2//shop': 'complain', 'php-fpm': 'enforce', 'php-fpm//shop': 'enforce' });
    assert.deepEqual(json.processes['/usr/sbin/apache2'], [
      { profile: 'apache2', pid: '100', status: 'enforce' },
      { profile: 'apache2//shop', pid: '101', status: 'complain' },
      { profile: 'apache2//null-other.example', pid: '102', status: 'complain' },
    ]);
    assert.equal(json.processes['/usr/bin/bash'], undefined);
    const workers = Object.fromEntries(json.workers.map((w: { pid: number; matches: boolean }) => [w.pid, w.matches]));
    assert.deepEqual(workers, { 100: true, 101: true, 102: false, 200: true, 201: true, 202: false });
    const blog = json.workers.find((w: { pid: number }) => w.pid === 202);
    assert.deepEqual(blog.expected, ['php-fpm//blog']);
    assert.equal(blog.pool, 'blog');

    const text = await runCli(['status', '--root', root, '--prefix', prefix]);
    assert.match(text.stdout, /^5 profiles are loaded\.$/m);
    assert.match(text.stdout, /^1 profiles are in complain mode\.\n   apache2\/\/shop$/m);
    assert.match(text.stdout, /php-fpm pool blog \(202\) php-fpm  MISMATCH: the pool's apparmor_hat is blog/);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(prefix, { recursive: true, force: true });
  }
});

test('status without AppArmor: exit 2 and what hatter can still do', async () => {
  const root = mkdtempSync(join(tmpdir(), 'hatter-status-none-'));
  try {
    assert.deepEqual(readApparmorState(root), { enabled: false, reason: 'the kernel has no AppArmor (/sys/module/apparmor is missing)' });
    const r = await runCli(['status', '--root', root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /AppArmor is not enabled: .*\n.*Landlock: hatter serve --backend landlock/);
    mkdirSync(join(root, 'sys/module/apparmor/parameters'), { recursive: true });
    writeFileSync(join(root, 'sys/module/apparmor/parameters/enabled'), 'N\n');
    const off = await runCli(['status', '--json', '--root', root]);
    assert.equal(off.code, 2);
    assert.equal(JSON.parse(off.stdout).enabled, false);
    assert.match(JSON.parse(off.stdout).reason, /not enabled/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('status lists processes that are unconfined although a loaded profile attaches to their executable', async () => {
  const root = fakeRoot([
    { pid: 400, exe: '/usr/sbin/nginx-debug', cmdline: 'nginx: master process', attr: 'unconfined' },
    { pid: 401, exe: '/usr/bin/worker', cmdline: 'worker', attr: 'unconfined' },
    { pid: 402, exe: '/usr/bin/bash', cmdline: 'bash', attr: 'unconfined' },
    { pid: 403, exe: '/usr/sbin/nginx', cmdline: 'nginx: worker process', attr: 'nginx (enforce)' },
    { pid: 404, exe: '/usr/sbin/apache2', cmdline: '/usr/sbin/apache2 -k start', attr: 'unconfined' },
  ]);
  try {
    const security = join(root, 'sys/kernel/security/apparmor');
    writeFileSync(join(security, 'profiles'), ['nginx (enforce)', '/usr/bin/worker (complain)', 'apache2//shop (enforce)', 'apache2 (enforce)', ''].join('\n'));
    // The kernel's view: nginx attaches by an attachment glob; the hat and apache2 (no attachment) by none.
    for (const [dir, name, attach] of [['nginx.3', 'nginx', '/usr/sbin/nginx{,-debug}'], ['apache2.1', 'apache2', '<unknown>']] as const) {
      mkdirSync(join(security, 'policy/profiles', dir), { recursive: true });
      writeFileSync(join(security, 'policy/profiles', dir, 'name'), `${name}\n`);
      writeFileSync(join(security, 'policy/profiles', dir, 'attach'), `${attach}\n`);
    }
    const state = readApparmorState(root);
    assert.ok(state.enabled);
    // /usr/bin/worker has no policy/ entry: a path-named profile attaches to its name.
    assert.deepEqual(state.unconfinedWithProfile.map((p) => [p.pid, p.exe, p.profile]), [
      [400, '/usr/sbin/nginx-debug', 'nginx'],
      [401, '/usr/bin/worker', '/usr/bin/worker'],
    ]);
    assert.deepEqual(state.processes.map((p) => p.pid), [403]);
    const r = await runCli(['status', '--root', root]);
    assert.match(r.stdout, /^2 processes are unconfined but have a profile defined\.\n   \/usr\/sbin\/nginx-debug \(400\) nginx\n   \/usr\/bin\/worker \(401\) \/usr\/bin\/worker$/m);
    const json = JSON.parse((await runCli(['status', '--json', '--root', root])).stdout);
    assert.deepEqual(json.unconfinedWithProfile.map((p: { pid: number }) => p.pid), [400, 401]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
