import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, existsSync, symlinkSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { launcherArgs } from '../../src/confine/launcher.js';
import { createBackend } from '../../src/confine/choose.js';
import type { LandlockPrepared } from '../../src/confine/landlock.js';
import { nodeRuntimeNeeds } from '../../src/confine/launcher.js';
import { landlockAbi, landlockSkipReason, launcherPath, nodeLauncherArgs, runLauncher, scratchDir, writeScript } from '../support/confine.js';

const skip = landlockSkipReason();
const isRoot = process.getuid?.() === 0;

test('launcherArgs spells each grant as the launcher expects', () => {
  const args = launcherArgs({
    landlock: {
      paths: [
        { path: '/srv/bob', read: true, write: false, exec: false },
        { path: '/srv/bob/data', read: true, write: true, exec: false },
        { path: '/usr/bin/node', read: true, write: false, exec: true },
      ],
      network: { bind: [8080], connect: [5432, 443] },
      scoped: true,
    },
    keepFds: [7],
    uid: 1001,
    gid: 1002,
  });
  assert.deepEqual(args, ['-L', '-r', '/srv/bob', '-r', '/srv/bob/data', '-w', '/srv/bob/data', '-x', '/usr/bin/node', '-N', '-b', '8080', '-c', '5432', '-c', '443', '-s', '-k', '7', '-g', '1002', '-u', '1001']);
  assert.deepEqual(launcherArgs({ apparmor: { label: 'hatter//bob', attrRoot: '/proc/self' }, noNewPrivs: false }), ['-A', 'hatter//bob', '-T', '/proc/self', '-n']);
});

test('the launcher reports the Landlock ABI', { skip }, async () => {
  const direct = await new Promise<string>((resolve) => {
    const child = spawn(launcherPath!, ['--probe']);
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('close', () => resolve(out));
  });
  assert.match(direct, /^landlock-abi [1-9]\d* errata \d+\n$/);
});

test('setup failures exit 125 with one line on stderr', { skip }, async () => {
  const unknown = await runLauncher(['-Z'], ['/bin/true']);
  assert.equal(unknown.code, 125);
  assert.match(unknown.stderr, /^hatter-launch: unknown option/);
  const missing = await runLauncher(['-r', '/usr'], ['/nonexistent/program']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /cannot execute \/nonexistent\/program: No such file/);
  const noCommand = await runLauncher(['-r', '/usr'], []);
  assert.equal(noCommand.code, 125);
  const badPort = await runLauncher(['-N', '-b', '70000'], ['/bin/true']);
  assert.equal(badPort.code, 125);
});

test('a confined program reads granted paths and gets EACCES elsewhere, sync, async and in worker threads', { skip }, async () => {
  const dir = scratchDir('launch');
  const allowed = join(dir, 'allowed');
  const secret = join(scratchDir('secret'), 'secret.txt');
  mkdirSync(allowed);
  writeFileSync(join(allowed, 'ok.txt'), 'fine');
  writeFileSync(secret, 'alice');
  // a symlink inside the granted tree pointing at the secret: Landlock checks the resolved target
  symlinkSync(secret, join(allowed, 'link'));
  const script = writeScript(dir, 'probe.cjs', `
    const fs = require('fs');
    const { Worker } = require('worker_threads');
    const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
    (async () => {
      const out = {
        syncAllowed: attempt(() => fs.readFileSync(${JSON.stringify(join(allowed, 'ok.txt'))}, 'utf8')),
        syncSecret: attempt(() => fs.readFileSync(${JSON.stringify(secret)})),
        symlink: attempt(() => fs.readFileSync(${JSON.stringify(join(allowed, 'link'))})),
        writeAllowed: attempt(() => fs.writeFileSync(${JSON.stringify(join(allowed, 'new.txt'))}, 'x')),
        asyncSecret: await fs.promises.readFile(${JSON.stringify(secret)}).then(() => 'ok', (e) => e.code),
        callbackSecret: await new Promise((r) => fs.readFile(${JSON.stringify(secret)}, (e) => r(e ? e.code : 'ok'))),
        worker: await new Promise((r) => {
          const w = new Worker("require('fs').promises.readFile(" + JSON.stringify(${JSON.stringify(secret)}) + ").then(() => require('worker_threads').parentPort.postMessage('ok'), (e) => require('worker_threads').parentPort.postMessage(e.code))", { eval: true });
          w.on('message', r); w.on('error', (e) => r('error ' + e.message));
        }),
        nnp: /NoNewPrivs:\\s*1/.test(fs.readFileSync('/proc/self/status', 'utf8')),
      };
      console.log(JSON.stringify(out));
    })();
  `);
  const result = await runLauncher([...nodeLauncherArgs(dir), '-r', '/proc'], [process.execPath, script]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    syncAllowed: 'ok', syncSecret: 'EACCES', symlink: 'EACCES', writeAllowed: 'EACCES',
    asyncSecret: 'EACCES', callbackSecret: 'EACCES', worker: 'EACCES', nnp: true,
  });
  assert.equal(readFileSync(secret, 'utf8'), 'alice');
});

test('missing paths are skipped (granting nothing) and rules on files carry only file rights', { skip }, async () => {
  const dir = scratchDir('files');
  const file = join(dir, 'log.txt');
  writeFileSync(file, '');
  const result = await runLauncher(['-r', '/does/not/exist', '-w', file, '-x', '/usr', '-r', '/etc/ld.so.cache'], ['/bin/sh', '-c', `echo appended >> ${file}; cat /etc/hostname`]);
  // -w on a regular file would be EINVAL if the launcher passed directory rights through
  assert.equal(readFileSync(file, 'utf8'), 'appended\n', result.stderr);
  assert.match(result.stderr, /Permission denied/);
  assert.notEqual(result.code, 125);
});

test('inherited descriptors other than 0-2 and the IPC channel are closed before the program runs', { skip }, async () => {
  const dir = scratchDir('fds');
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'supervisor secret');
  const script = writeScript(dir, 'fds.cjs', `
    const fs = require('fs');
    const tryFd = (fd) => { try { return fs.readFileSync(fd, 'utf8'); } catch (e) { return e.code; } };
    process.send({ leaked: tryFd(20), kept: tryFd(21) });
    process.disconnect();
  `);
  const leaked = openSync(secret, 'r');
  const kept = openSync(secret, 'r');
  try {
    const child = spawn(launcherPath!, [...nodeLauncherArgs(dir), '-k', '21', '--', process.execPath, script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...Array(16).fill('ignore'), leaked, kept] });
    const message = await new Promise((resolve) => child.on('message', resolve));
    // fd 21 was kept with -k, so its bytes are readable even though Landlock would deny opening the file
    assert.deepEqual(message, { leaked: 'EBADF', kept: 'supervisor secret' });
  } finally {
    closeSync(leaked);
    closeSync(kept);
  }
});

test('IPC works through the launcher: messages and passed server handles', { skip }, async () => {
  const dir = scratchDir('ipc');
  const script = writeScript(dir, 'ipc.cjs', `
    process.on('message', (message, handle) => {
      if (message === 'server') {
        handle.on('connection', (socket) => socket.end('served by confined worker ' + process.pid));
        process.send('listening');
      }
    });
    process.send('ready');
  `);
  const backend = createBackend('landlock', { landlock: { launcher: launcherPath! } });
  const needs = nodeRuntimeNeeds();
  const { prepared, diagnostics } = await backend.prepare({ profile: 'hatter', hat: 'ipc', runtime: { ...needs, read: [...needs.read, dir] } });
  assert.deepEqual(diagnostics, []);
  assert.ok(prepared);
  const child = backend.spawn(prepared, process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const server: Server = createServer();
  try {
    const messages: unknown[] = [];
    const next = () => new Promise((resolve) => child.once('message', (m) => { messages.push(m); resolve(m); }));
    assert.equal(await next(), 'ready');
    assert.deepEqual(await backend.verify(prepared, child.pid!), { ok: true, detail: `process ${child.pid} runs ${process.execPath} inside a Landlock domain (launched by ${(prepared as LandlockPrepared).launcher}, no_new_privs set)` });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    child.send('server', server);
    assert.equal(await next(), 'listening');
    server.close(); // only the worker holds the listening socket now
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => { data += chunk; });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.equal(reply, `served by confined worker ${child.pid}`);
  } finally {
    child.kill();
    server.close();
  }
});

test('TCP ports are restricted with -N (ABI >= 4)', { skip: skip ?? (landlockAbi() < 4 ? 'Landlock ABI < 4 has no network rules' : undefined) }, async () => {
  const dir = scratchDir('net');
  const script = writeScript(dir, 'net.cjs', `
    const net = require('net');
    const listen = (port) => new Promise((r) => { const s = net.createServer(); s.on('error', (e) => r(e.code)); s.listen(port, '127.0.0.1', () => { s.close(); r('ok'); }); });
    (async () => { console.log(JSON.stringify({ allowed: await listen(Number(process.argv[2])), other: await listen(Number(process.argv[2]) + 1) })); })();
  `);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const result = await runLauncher([...nodeLauncherArgs(dir), '-N', '-b', String(port)], [process.execPath, script, String(port)]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { allowed: 'ok', other: 'EACCES' });
});

test('-s scopes signals: a confined program cannot signal processes outside its domain (ABI >= 6)', { skip: skip ?? (landlockAbi() < 6 ? 'Landlock ABI < 6 has no scoping' : undefined) }, async () => {
  const victim = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  try {
    const scoped = await runLauncher(['-x', '/usr', '-r', '/etc/ld.so.cache', '-s'], ['/bin/kill', '-TERM', String(victim.pid)]);
    assert.notEqual(scoped.code, 0);
    assert.match(scoped.stderr, /Operation not permitted/);
    assert.equal(victim.exitCode, null);
    assert.equal(victim.signalCode, null);
  } finally {
    victim.kill();
  }
});

test('-A writes "exec <label>" in one write to attr/apparmor/exec, falling back to attr/exec', { skip: skip && !launcherPath ? skip : undefined }, async () => {
  const root = scratchDir('attr');
  mkdirSync(join(root, 'attr', 'apparmor'), { recursive: true });
  writeFileSync(join(root, 'attr', 'apparmor', 'exec'), '');
  writeFileSync(join(root, 'attr', 'exec'), '');
  const modern = await runLauncher(['-n', '-A', 'hatter//bob.localhost', '-T', root], ['/bin/true']);
  assert.equal(modern.code, 0, modern.stderr);
  assert.equal(readFileSync(join(root, 'attr', 'apparmor', 'exec'), 'utf8'), 'exec hatter//bob.localhost');
  assert.equal(readFileSync(join(root, 'attr', 'exec'), 'utf8'), '');

  const legacy = scratchDir('attr-legacy');
  mkdirSync(join(legacy, 'attr'));
  writeFileSync(join(legacy, 'attr', 'exec'), '');
  const fallback = await runLauncher(['-n', '-S', '-A', 'apache2//alice', '-T', legacy], ['/bin/true']);
  assert.equal(fallback.code, 0, fallback.stderr);
  assert.equal(readFileSync(join(legacy, 'attr', 'exec'), 'utf8'), 'stack apache2//alice');

  const none = scratchDir('attr-none');
  const missing = await runLauncher(['-n', '-A', 'hatter//x', '-T', none], ['/bin/true']);
  assert.equal(missing.code, 125);
  assert.match(missing.stderr, /cannot open .*attr\/exec/);
  assert.equal(existsSync(join(none, 'attr')), false);
});

test('-u/-g drop to the site uid and gid before exec (root only)', { skip: skip ?? (isRoot ? undefined : 'needs root to change uid') }, async () => {
  const result = await runLauncher(['-x', '/usr', '-r', '/etc', '-g', '65534', '-u', '65534'], ['/bin/sh', '-c', 'id -u; id -g; id -G']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '65534\n65534\n65534\n');
});

test('descriptors passed on purpose through the backend stay open; stray inherited ones do not', { skip }, async () => {
  const dir = scratchDir('intended');
  const file = join(dir, 'shared.txt');
  writeFileSync(file, 'handed over on purpose');
  const script = writeScript(dir, 'intended.cjs', `
    const fs = require('fs');
    const tryFd = (fd) => { try { return fs.readFileSync(fd, 'utf8'); } catch (e) { return e.code; } };
    process.send({ passed: tryFd(4) });
    process.disconnect();
  `);
  const backend = createBackend('landlock', { landlock: { launcher: launcherPath! } });
  const { prepared } = await backend.prepare({ profile: 'hatter', hat: 'fds', runtime: { ...nodeRuntimeNeeds(), read: [...nodeRuntimeNeeds().read, dir] } });
  const passed = openSync(file, 'r');
  try {
    const child = backend.spawn(prepared!, process.execPath, [script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', passed] });
    assert.deepEqual(await new Promise((resolve) => child.on('message', resolve)), { passed: 'handed over on purpose' });
  } finally {
    closeSync(passed);
  }
});

test('property: arbitrary launcher arguments never crash it (it runs the command or exits 125)', { skip }, () => {
  const token = fc.oneof(
    fc.constantFrom('-r', '-w', '-x', '-N', '-b', '-c', '-s', '-L', '-A', '-S', '-T', '-k', '-g', '-u', '-n', '-V', '--probe', '-', '--x', '-rr'),
    fc.constantFrom('/usr', '/nonexistent', '/etc/hostname', '0', '65535', '99999999999', '-1', 'abc', '', '/tmp'),
    fc.string({ maxLength: 12 }),
  );
  fc.assert(fc.property(fc.array(token, { maxLength: 12 }), (args) => {
    const result = spawnSync(launcherPath!, [...args, '--', '/bin/true'], { encoding: 'utf8', timeout: 5000 });
    assert.equal(result.signal, null, `killed by ${result.signal}: ${JSON.stringify(args)}`);
    assert.ok(result.status === 0 || result.status === 125 || result.status === 126 || result.status === 127, `status ${result.status} for ${JSON.stringify(args)}: ${result.stderr}`);
  }), { numRuns: 150 });
});

test('graceful degradation: with an older ABI the launcher handles only the rights that ABI knows', { skip: skip ?? (landlockAbi() < 6 ? 'needs a kernel with ABI >= 6 to emulate older ones' : undefined) }, async () => {
  const dir = scratchDir('abi');
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const script = writeScript(dir, 'abi.cjs', `
    const fs = require('fs'); const net = require('net');
    const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
    fs.writeFileSync(${JSON.stringify(join(dir, 'a', 'f'))}, 'x');
    const rename = attempt(() => fs.renameSync(${JSON.stringify(join(dir, 'a', 'f'))}, ${JSON.stringify(join(dir, 'b', 'f'))}));
    const signal = attempt(() => process.kill(Number(process.argv[2]), 0));
    const s = net.createServer(); s.on('error', (e) => { console.log(JSON.stringify({ rename, signal, listen: e.code })); });
    s.listen(0, '127.0.0.1', () => { s.close(); console.log(JSON.stringify({ rename, signal, listen: 'ok' })); });
  `);
  const outside = spawn('/bin/sleep', ['20'], { stdio: 'ignore' });
  try {
    const run = async (abi: number) => {
      const result = await runLauncher(['-V', String(abi), ...nodeLauncherArgs(dir), '-w', join(dir, 'a'), '-w', join(dir, 'b'), '-N', '-s'], [process.execPath, script, String(outside.pid)]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as { rename: string; signal: string; listen: string };
    };
    // ABI 1: no REFER, so moving a file between directories fails with EXDEV; no TCP rules; no scoping
    assert.deepEqual(await run(1), { rename: 'EXDEV', signal: 'ok', listen: 'ok' });
    // ABI 4: REFER and TCP rules, still no scoping
    assert.deepEqual(await run(4), { rename: 'ok', signal: 'ok', listen: 'EACCES' });
    // ABI 6: scoped signals too
    assert.deepEqual(await run(6), { rename: 'ok', signal: 'EPERM', listen: 'EACCES' });
  } finally {
    outside.kill();
  }
});
