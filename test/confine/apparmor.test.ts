import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AppArmorBackend, parseCurrentLabel, parseProfilesList, onexecCommand } from '../../src/confine/apparmor.js';
import { chooseBackend } from '../../src/confine/choose.js';
import { launcherPath, scratchDir } from '../support/confine.js';

const request = { profile: 'hatter', hat: 'bob.localhost', runtime: { read: [], write: [], exec: [] } } as const;

/** A fake /sys and /proc with AppArmor enabled, these loaded profiles and this supervisor label. */
function fakeHost(options: { enabled?: string; securityfs?: boolean; current?: string | null; profiles?: string } = {}): { sys: string; proc: string } {
  const root = scratchDir('aa');
  const sys = join(root, 'sys');
  const proc = join(root, 'proc');
  mkdirSync(join(sys, 'module', 'apparmor', 'parameters'), { recursive: true });
  writeFileSync(join(sys, 'module', 'apparmor', 'parameters', 'enabled'), `${options.enabled ?? 'Y'}\n`);
  if (options.securityfs !== false) {
    mkdirSync(join(sys, 'kernel', 'security', 'apparmor', 'features', 'domain'), { recursive: true });
    for (const feature of ['change_hat', 'change_onexec', 'change_profile', 'stack']) writeFileSync(join(sys, 'kernel', 'security', 'apparmor', 'features', 'domain', feature), 'yes\n');
    writeFileSync(join(sys, 'kernel', 'security', 'apparmor', 'profiles'), options.profiles ?? 'hatter//bob.localhost (enforce)\nhatter//alice.localhost (complain)\nhatter (enforce)\n');
  }
  mkdirSync(join(proc, 'self', 'attr', 'apparmor'), { recursive: true });
  if (options.current !== null) writeFileSync(join(proc, 'self', 'attr', 'apparmor', 'current'), options.current ?? 'hatter (enforce)\n');
  writeFileSync(join(proc, 'self', 'attr', 'apparmor', 'exec'), '');
  return { sys, proc };
}

test('labels are split from the mode at the last " ("', () => {
  assert.deepEqual(parseCurrentLabel('apache2//HANDLING_UNTRUSTED_INPUT (enforce)\n'), { label: 'apache2//HANDLING_UNTRUSTED_INPUT', mode: 'enforce' });
  assert.deepEqual(parseCurrentLabel('unconfined\n'), { label: 'unconfined', mode: null });
  assert.deepEqual(parseCurrentLabel('/usr/bin/odd (name) (complain)\n'), { label: '/usr/bin/odd (name)', mode: 'complain' });
  assert.deepEqual(parseCurrentLabel('a//&b (mixed)\0'), { label: 'a//&b', mode: 'mixed' });
  assert.deepEqual([...parseProfilesList('hatter (enforce)\nhatter//bob (complain)\n\n')], [['hatter', 'enforce'], ['hatter//bob', 'complain']]);
  assert.equal(onexecCommand('hatter//bob'), 'exec hatter//bob');
  assert.equal(onexecCommand('hatter//bob', true), 'stack hatter//bob');
});

test('probe: AppArmor counts only with enabled=Y, securityfs and a readable attr/apparmor/current', async () => {
  const launcher = '/bin/true';
  const ok = await new AppArmorBackend({ roots: fakeHost(), launcher }).probe();
  assert.equal(ok.available, true);
  assert.equal(ok.details.supervisorLabel, 'hatter');
  assert.deepEqual(ok.details.domainFeatures, ['change_hat', 'change_onexec', 'change_profile', 'stack']);
  const disabled = await new AppArmorBackend({ roots: fakeHost({ enabled: 'N' }), launcher }).probe();
  assert.equal(disabled.available, false);
  assert.match(disabled.reason, /disabled/);
  const noSecurityfs = await new AppArmorBackend({ roots: fakeHost({ securityfs: false }), launcher }).probe();
  assert.match(noSecurityfs.reason, /securityfs is not mounted/);
  const noAttr = await new AppArmorBackend({ roots: fakeHost({ current: null }), launcher }).probe();
  assert.match(noAttr.reason, /ENOENT.*not the active LSM/);
  const absent = await new AppArmorBackend({ roots: { sys: scratchDir('empty'), proc: '/proc' }, launcher }).probe();
  assert.match(absent.reason, /no AppArmor/);
});

test('this machine (no AppArmor) is reported unavailable, and auto then picks Landlock or refuses', async () => {
  const real = await new AppArmorBackend().probe();
  if (real.available) return; // a real AppArmor host: covered by the kernel suite
  const choice = await chooseBackend('auto', { ...request, hat: 'x' });
  if (choice.backend) assert.equal(choice.backend.name, 'landlock');
  else assert.match(choice.reason, /pass --backend none/);
  const none = await chooseBackend('none');
  assert.equal(none.backend?.name, 'none');
});

test('auto prefers AppArmor only when the hat is loaded', async () => {
  const roots = fakeHost();
  const loaded = await chooseBackend('auto', request, { apparmor: { roots, launcher: '/bin/true' } });
  assert.equal(loaded.backend?.name, 'apparmor');
  const missing = await chooseBackend('auto', { ...request, hat: 'carol.localhost' }, { apparmor: { roots, launcher: '/bin/true' }, landlock: { launcher: '/nonexistent' } });
  assert.equal(missing.backend, undefined);
  assert.match(missing.reason, /hatter\/\/carol.localhost is not loaded.*pass --backend none/);
});

test('prepare refuses hats that are not loaded, warns on complain mode and a supervisor outside the parent', async () => {
  const roots = fakeHost({ current: 'unconfined\n' });
  const backend = new AppArmorBackend({ roots, launcher: '/bin/true' });
  const missing = await backend.prepare({ ...request, hat: 'carol.localhost', policyFile: '/etc/apparmor.d/hatter' });
  assert.equal(missing.prepared, undefined);
  assert.equal(missing.diagnostics[0]?.code, 'confine/profile-not-loaded');
  assert.match(missing.diagnostics[0]!.message, /hatter\/\/carol.localhost is not loaded/);
  const complain = await backend.prepare({ ...request, hat: 'alice.localhost' });
  assert.equal(complain.prepared?.label, 'hatter//alice.localhost');
  assert.ok(complain.prepared?.warnings.some((w) => /complain mode/.test(w)));
  assert.ok(complain.prepared?.warnings.some((w) => /supervisor runs as unconfined.*AppArmorProfile=hatter/.test(w)));
});

test('--load-policy runs apparmor_parser -r with include dirs, then re-reads the loaded profiles', async () => {
  const roots = fakeHost({ profiles: 'hatter (enforce)\n' });
  const calls: string[][] = [];
  const backend = new AppArmorBackend({
    roots, launcher: '/bin/true', loadPolicy: true,
    runParser: (args) => {
      calls.push([...args]);
      writeFileSync(join(roots.sys, 'kernel', 'security', 'apparmor', 'profiles'), 'hatter (enforce)\nhatter//bob.localhost (enforce)\n');
      return { status: 0, stderr: '' };
    },
  });
  await backend.loadedProfiles(); // cached before loading: must be refreshed
  const result = await backend.prepare({ ...request, policyFile: '/srv/policy/hatter', includeDirs: ['/srv/policy/abstractions'] });
  assert.deepEqual(calls, [['-r', '-I', '/srv/policy/abstractions', '/srv/policy/hatter']]);
  assert.equal(result.prepared?.label, 'hatter//bob.localhost');
  const failing = new AppArmorBackend({ roots, launcher: '/bin/true', loadPolicy: true, runParser: () => ({ status: 1, stderr: 'AppArmor parser error at line 3: syntax error\n' }) });
  const failed = await failing.prepare({ ...request, policyFile: '/srv/policy/hatter' });
  assert.equal(failed.diagnostics[0]?.code, 'confine/policy-load-failed');
  assert.match(failed.diagnostics[0]!.message, /syntax error/);
});

test('spawn writes "exec profile//hat" to attr/exec before execve, and verify refuses a wrong label', { skip: launcherPath ? undefined : 'launcher not built' }, async () => {
  const roots = fakeHost();
  const backend = new AppArmorBackend({ roots, launcher: launcherPath! });
  const { prepared } = await backend.prepare(request);
  assert.ok(prepared);
  const child = backend.spawn(prepared, '/bin/sleep', ['5'], { stdio: 'ignore' });
  // The kernel would switch the label at execve; in the fake tree we show what it would read back.
  mkdirSync(join(roots.proc, String(child.pid), 'attr', 'apparmor'), { recursive: true });
  symlinkSync('/bin/sleep', join(roots.proc, String(child.pid), 'exe'));
  writeFileSync(join(roots.proc, String(child.pid), 'attr', 'apparmor', 'current'), 'hatter//bob.localhost (enforce)\n');
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(readFileSync(join(roots.proc, 'self', 'attr', 'apparmor', 'exec'), 'utf8'), 'exec hatter//bob.localhost');
    // no_new_privs would make the kernel refuse the transition into the hat: the launcher must not set it
    assert.match(readFileSync(`/proc/${child.pid}/status`, 'utf8'), /^NoNewPrivs:\s*0$/m);
    assert.deepEqual(await backend.verify(prepared, child.pid!), { ok: true, detail: `process ${child.pid} runs as hatter//bob.localhost (enforce)` });
    writeFileSync(join(roots.proc, String(child.pid), 'attr', 'apparmor', 'current'), 'hatter//alice.localhost (enforce)\n');
    const wrong = await backend.verify(prepared, child.pid!);
    assert.equal(wrong.ok, false);
    assert.match(wrong.detail, /runs as hatter\/\/alice.localhost \(enforce\), expected hatter\/\/bob.localhost: refusing it/);
    writeFileSync(join(roots.proc, String(child.pid), 'attr', 'apparmor', 'current'), 'unconfined\n');
    assert.equal((await backend.verify(prepared, child.pid!)).ok, false);
  } finally {
    child.kill();
  }
});

test('the launcher refuses to run the program when the label cannot be written', { skip: launcherPath ? undefined : 'launcher not built' }, async () => {
  const roots = fakeHost();
  const backend = new AppArmorBackend({ roots, launcher: launcherPath! });
  const { prepared } = await backend.prepare(request);
  assert.ok(prepared);
  // a real kernel answers ENOENT for an unknown profile; here the attr files vanish
  rmSync(join(roots.proc, 'self'), { recursive: true });
  const child = backend.spawn(prepared, '/bin/echo', ['site code ran'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk) => { stdout += chunk; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 125);
  assert.equal(stdout, '');
});

test('without the profiles file, loaded profiles and hats are read from the policy/profiles tree', async () => {
  const roots = fakeHost();
  const security = join(roots.sys, 'kernel', 'security', 'apparmor');
  rmSync(join(security, 'profiles'));
  const parent = join(security, 'policy', 'profiles', 'hatter.3');
  const hat = join(parent, 'profiles', 'bob.localhost.4');
  mkdirSync(hat, { recursive: true });
  writeFileSync(join(parent, 'name'), 'hatter\n');
  writeFileSync(join(parent, 'mode'), 'enforce\n');
  writeFileSync(join(hat, 'name'), 'hatter//bob.localhost\n');
  writeFileSync(join(hat, 'mode'), 'complain\n');
  const backend = new AppArmorBackend({ roots, launcher: '/bin/true' });
  assert.deepEqual([...await backend.loadedProfiles()], [['hatter', 'enforce'], ['hatter//bob.localhost', 'complain']]);
  const { prepared } = await backend.prepare(request);
  assert.equal(prepared?.label, 'hatter//bob.localhost');
});

test('verify waits while the child is still a fork of this process, then reads the label it runs as', async () => {
  const roots = fakeHost();
  const launcher = '/opt/hatter/hatter-launch';
  const backend = new AppArmorBackend({ roots, launcher });
  const prepared = { backend: 'apparmor', label: 'hatter//bob.localhost', summary: {}, warnings: [], launcher } as unknown as Parameters<AppArmorBackend['verify']>[0];
  const dir = join(roots.proc, '201');
  mkdirSync(join(dir, 'attr', 'apparmor'), { recursive: true });
  // a fork of this process: this executable, this command line, this process's label
  symlinkSync(readlinkSync('/proc/self/exe'), join(dir, 'exe'));
  writeFileSync(join(dir, 'cmdline'), readFileSync('/proc/self/cmdline'));
  writeFileSync(join(dir, 'attr', 'apparmor', 'current'), 'hatter (enforce)\n');
  // it execs: the new label, then the new command line (in this order, a reader between the two writes
  // still sees a fork with the right label, never the new program under the old label)
  setTimeout(() => {
    writeFileSync(join(dir, 'attr', 'apparmor', 'current'), 'hatter//bob.localhost (enforce)\n');
    writeFileSync(join(dir, 'cmdline'), 'node\0worker.js\0');
  }, 80);
  assert.deepEqual(await backend.verify(prepared, 201), { ok: true, detail: 'process 201 runs as hatter//bob.localhost (enforce)' });
  // once it runs something else under the wrong label, it is refused at once
  writeFileSync(join(dir, 'attr', 'apparmor', 'current'), 'hatter (enforce)\n');
  const refused = await backend.verify(prepared, 201);
  assert.equal(refused.ok, false);
  assert.match(refused.detail, /runs as hatter \(enforce\), expected hatter\/\/bob.localhost: refusing it/);
});
