import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseBackend, createBackend } from '../../src/confine/choose.js';
import { LandlockBackend, wideningWarnings, type LandlockPrepared } from '../../src/confine/landlock.js';
import { NoneBackend, UNCONFINED_WARNING } from '../../src/confine/none.js';
import { elfInterpreter, nodeRuntimeNeeds, resolveCommand } from '../../src/confine/launcher.js';
import { landlockSkipReason, launcherPath, scratchDir } from '../support/confine.js';

const skip = landlockSkipReason();
const empty = { read: [], write: [], exec: [] };

test('backend none spawns plainly and says loudly that workers are unconfined', async () => {
  const backend = createBackend('none');
  assert.ok(backend instanceof NoneBackend);
  const { prepared } = await backend.prepare({ profile: 'hatter', hat: 'bob', runtime: empty });
  assert.equal(prepared?.label, 'hatter//bob');
  assert.deepEqual(prepared?.warnings, [`hatter//bob: ${UNCONFINED_WARNING}`]);
  const child = backend.spawn(prepared!, process.execPath, ['-e', 'process.send(process.pid); process.disconnect()'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  assert.equal(await new Promise((resolve) => child.once('message', resolve)), child.pid);
  assert.deepEqual(await backend.verify(prepared!, child.pid!), { ok: true, detail: 'unconfined (backend none)' });
});

test('an explicit backend that is unavailable is refused with its reason', async () => {
  const choice = await chooseBackend('landlock', undefined, { landlock: { launcher: '/nonexistent/hatter-launch' } });
  assert.equal(choice.backend, undefined);
  assert.match(choice.reason, /^backend landlock is not available: the launcher failed to probe Landlock/);
  const prepared = await new LandlockBackend({ launcher: '/nonexistent/hatter-launch' }).prepare({ profile: 'p', hat: null, runtime: empty });
  assert.equal(prepared.diagnostics[0]?.code, 'confine/landlock-unavailable');
});

test('prepare turns a hat into a launch plan with the site uid and gid, and a status summary', { skip }, async () => {
  const dir = scratchDir('backend');
  mkdirSync(join(dir, 'site', 'public'), { recursive: true });
  writeFileSync(join(dir, 'site', 'public', 'index.php'), '');
  const policy = join(dir, 'policy');
  writeFileSync(policy, `profile hatter {\n  ^site {\n    ${dir}/site/public/** r,\n    ${dir}/site/public/*.php rix,\n  }\n}\n`);
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const { prepared, diagnostics } = await backend.prepare({ policyFile: policy, profile: 'hatter', hat: 'site', runtime: nodeRuntimeNeeds(), uid: 1234, gid: 5678 });
  assert.deepEqual(diagnostics, []);
  const landlock = prepared as LandlockPrepared;
  assert.equal(landlock.plan.uid, 1234);
  assert.equal(landlock.plan.gid, 5678);
  // public/** r on the directory; *.php rix on the existing script only (exec beneath public would widen)
  assert.ok(landlock.plan.landlock!.paths.some((p) => p.path === join(dir, 'site', 'public') && p.read && !p.exec && !p.write));
  assert.ok(landlock.plan.landlock!.paths.some((p) => p.path === join(dir, 'site', 'public', 'index.php') && p.read && p.exec && !p.write));
  assert.equal(landlock.summary.backend, 'landlock');
  assert.equal(landlock.summary.uid, 1234);
  assert.match(String(landlock.summary.network), /^tcp restricted: bind \[\], connect \[\]$/);
  assert.equal((landlock.summary.widening as string[]).some((w) => /^exec beneath .*\/site\/public/.test(w)), false);
  assert.match(landlock.warnings[0]!, /^hatter\/\/site: Landlock grants more than the hat in \d+ ways, including .*metadata.*hatter confine explain --policy/);
});

test('verify refuses a process that did not come through the launcher', { skip }, async () => {
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const { prepared } = await backend.prepare({ profile: 'p', hat: null, runtime: nodeRuntimeNeeds() });
  const plain = spawn('/bin/sleep', ['5'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await backend.verify(prepared!, plain.pid!);
    assert.equal(result.ok, false);
    assert.match(result.detail, /without no_new_privs: it did not pass the launcher/);
  } finally {
    plain.kill();
  }
  const gone = await backend.verify(prepared!, 2 ** 22 + 7);
  assert.equal(gone.ok, false);
});

test('startup warnings: one headline, then each path widening; none when nothing widens', () => {
  assert.deepEqual(wideningWarnings('p//h', []), []);
  const lines = wideningWarnings('p//h', [
    { kind: 'metadata', summary: 'stat anywhere' },
    { kind: 'glob', summary: 'read beneath /srv for /srv/*.html' },
  ], '/etc/apparmor.d/p');
  assert.deepEqual(lines, [
    'p//h: Landlock grants more than the hat in 2 ways, including metadata (never mediated by Landlock) (details: hatter confine explain --policy /etc/apparmor.d/p --backend landlock p//h)',
    'p//h: Landlock widening [glob]: read beneath /srv for /srv/*.html',
  ]);
});

test('runtime needs: EXECUTE only on the program and its ELF interpreter; commands resolve like execvp', () => {
  const needs = nodeRuntimeNeeds({});
  assert.equal(needs.exec.length, 2);
  assert.ok(needs.exec[0]!.endsWith('node') || needs.exec[0]!.includes('node'));
  assert.match(needs.exec[1]!, /ld-linux|ld-musl|ld\.so/);
  assert.ok(needs.read.includes('/etc/ld.so.cache'));
  assert.equal(nodeRuntimeNeeds({ NODE_EXTRA_CA_CERTS: '/x/ca.pem' }).read.includes('/x/ca.pem'), true);
  assert.equal(elfInterpreter('/etc/hostname'), undefined);
  assert.equal(elfInterpreter('/nonexistent'), undefined);
  assert.equal(resolveCommand('sh', { PATH: '/nonexistent:/usr/bin' }), realpathSync('/usr/bin/sh'));
  assert.equal(resolveCommand('no-such-command-here', { PATH: '/usr/bin' }), undefined);
});

test('without a policy file the worker gets its runtime grants only, TCP limited to its runtime ports', { skip }, async () => {
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const { prepared } = await backend.prepare({ profile: 'hatter', hat: 'plain', runtime: { ...nodeRuntimeNeeds(), connectPorts: [9000] } });
  const plan = (prepared as LandlockPrepared).plan.landlock!;
  assert.deepEqual(plan.network, { bind: [], connect: [9000] });
  assert.equal(plan.scoped, true);
  assert.ok(plan.paths.every((p) => !p.write));
  assert.ok(prepared!.warnings.some((w) => /metadata/.test(w)));
});

test('a per-site uid closes the metadata gap: stat of another site\'s 0700 tree fails (root only)', { skip: skip ?? (process.getuid?.() === 0 ? undefined : 'needs root to change uid') }, async () => {
  const dir = scratchDir('uid');
  chmodSync(dir, 0o755);
  const alice = join(dir, 'alice');
  mkdirSync(alice, { mode: 0o700 });
  writeFileSync(join(alice, 'secret.txt'), 'alice');
  const script = join(dir, 'stat.cjs');
  writeFileSync(script, `const fs = require('fs'); let r; try { fs.statSync(${JSON.stringify(join(alice, 'secret.txt'))}); r = 'ok'; } catch (e) { r = e.code; } process.send({ uid: process.getuid(), stat: r }); process.disconnect();`);
  const backend = new LandlockBackend({ launcher: launcherPath! });
  const needs = nodeRuntimeNeeds();
  const request = { profile: 'hatter', hat: 'bob', runtime: { ...needs, read: [...needs.read, script] } };
  const run = async (extra: { uid?: number; gid?: number }) => {
    const { prepared } = await backend.prepare({ ...request, ...extra });
    const child = backend.spawn(prepared!, process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve) => child.once('message', resolve));
  };
  // same uid as the supervisor: Landlock alone lets stat through (metadata widening)
  assert.deepEqual(await run({}), { uid: 0, stat: 'ok' });
  // the site's own uid: the kernel's permission check on alice's 0700 directory stops it
  assert.deepEqual(await run({ uid: 65534, gid: 65534 }), { uid: 65534, stat: 'EACCES' });
});

/** A fake /proc entry for `pid` that looks like a fork of this process (exe and command line are ours). */
function forkLikeThisProcess(proc: string, pid: number, status: string): { readonly dir: string } {
  const dir = join(proc, String(pid));
  mkdirSync(dir, { recursive: true });
  symlinkSync(readlinkSync('/proc/self/exe'), join(dir, 'exe'));
  writeFileSync(join(dir, 'cmdline'), readFileSync('/proc/self/cmdline'));
  writeFileSync(join(dir, 'status'), status);
  return { dir };
}

test('verify waits while the child is still a fork of this process (spawn returns before execve), then judges what it runs', async () => {
  const proc = scratchDir('fake-proc');
  const launcher = '/opt/hatter/hatter-launch';
  const backend = new LandlockBackend({ launcher, procRoot: proc });
  const prepared = { backend: 'landlock', label: 'p', summary: {}, warnings: [], launcher } as unknown as LandlockPrepared;
  const notYet = 'Name:\tnode\nNoNewPrivs:\t0\n';
  // the fork execs (through the launcher) into node with no_new_privs: confined
  const confined = forkLikeThisProcess(proc, 101, notYet);
  // (no_new_privs first: the launcher sets it before its execve)
  setTimeout(() => {
    writeFileSync(join(confined.dir, 'status'), 'Name:\tnode\nNoNewPrivs:\t1\n');
    writeFileSync(join(confined.dir, 'cmdline'), 'node\0front.js\0');
  }, 80);
  const ok = await backend.verify(prepared, 101);
  assert.equal(ok.ok, true, ok.detail);
  // it execs something without no_new_privs (not through the launcher): refused
  const escaped = forkLikeThisProcess(proc, 102, notYet);
  setTimeout(() => writeFileSync(join(escaped.dir, 'cmdline'), 'node\0front.js\0'), 80);
  const refused = await backend.verify(prepared, 102);
  assert.equal(refused.ok, false);
  assert.match(refused.detail, /runs .* without no_new_privs: it did not pass the launcher/);
  // it never execs: refused after the wait
  forkLikeThisProcess(proc, 103, notYet);
  const stuck = await backend.verify(prepared, 103);
  assert.deepEqual(stuck, { ok: false, detail: 'process 103 is still in the launcher (or not yet started) after 500 ms' });
});
