// hatter record on real programs under real strace: a C fixture with a known sequence of system calls
// gives exactly the expected events; 100 forked children are all attributed; bad input is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventsFromTrace, findStrace, nodeRecordHost, StraceRecorder } from '../../src/record/index.js';
import { runCli } from '../support/cli.js';
import { cliMain, repoRoot } from '../support/repo.js';

const strace = findStrace(process.env['PATH']);
const cc = spawnSync('cc', ['--version']).status === 0;
const skip = !strace ? 'skipped: strace is not installed (Debian package strace)' : !cc ? 'skipped: no C compiler (cc) for the fixture' : false;
const fixtureSource = join(repoRoot, 'test/record/fixtures/actions.c');

function compile(dir: string): string {
  const binary = join(dir, 'actions');
  const result = spawnSync('cc', ['-O0', '-o', binary, fixtureSource], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return binary;
}

async function listen(server: Server, where: number | string): Promise<void> {
  await new Promise<void>((resolve) => server.listen(where as never, resolve));
}

test('the fixture produces exactly the expected events', { skip, timeout: 60_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-record-test-')));
  try {
    const binary = compile(root);
    const site = join(root, 'site');
    mkdirSync(join(site, 'sub'), { recursive: true });
    writeFileSync(join(site, 'data.txt'), 'data');
    writeFileSync(join(site, 'log.txt'), '');
    writeFileSync(join(site, 'sub/inner.txt'), 'inner');
    symlinkSync('data.txt', join(site, 'link-to-data'));
    const tcp = createServer((socket) => socket.destroy());
    await listen(tcp, 0);
    const port = (tcp.address() as { port: number }).port;
    const socketPath = join(root, 'app.sock');
    const unix = createServer((socket) => socket.destroy());
    await listen(unix, socketPath);
    const out = join(root, 'events.jsonl');
    const result = await runCli(['record', '--profile', 'fixture', '--out', out, '--', binary, site, String(port), socketPath], { cwd: root });
    tcp.close();
    unix.close();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /actions exited with 0/);
    const events = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const e of events) assert.equal(e['label'], 'fixture');
    // The process's own /proc entry is named with its real pid, as the kernel does (learn maps it to @{pid}).
    const ownProc = (e: Record<string, unknown>): boolean => typeof e['name'] === 'string' && e['name'].startsWith(`/proc/${String(e['pid'])}/`);
    const ours = events.filter((e) => typeof e['name'] !== 'string' || (e['name'] as string).startsWith(root) || ownProc(e) || e['operation'] === 'exec');
    const seen = ours.map((e) => [e['type'], e['operation'], ownProc(e) ? (e['name'] as string).replace(/^\/proc\/\d+\//, '/proc/PID/') : e['name'] ?? e['signal'] ?? e['family'], e['requested'], e['target'] ?? e['peer'] ?? e['foreignPort'] ?? e['sockType'], (e['extra'] as Record<string, string>)['count']].map((v) => v ?? '-').join(' '));
    assert.deepEqual(seen.sort(), [
      `ALLOWED open ${site}/data.txt r - 3`, // by name, through the symlink, and by openat(sub, "../data.txt")
      `ALLOWED open ${site}/log.txt a - 1`,
      `ALLOWED open ${site}/new.txt wc - 1`,
      `ALLOWED rename_src ${site}/new.txt rwd ${site}/renamed.txt 1`,
      `ALLOWED rename_dest ${site}/renamed.txt wc - 1`,
      `HINT open ${site}/missing.txt r - 1`,
      `ALLOWED open ${site}/sub/ r - 1`,
      `ALLOWED open ${site}/sub/inner.txt r - 1`,
      'ALLOWED open /proc/PID/status r - 1',
      `ALLOWED mkdir ${site}/made/ c - 1`,
      `ALLOWED unlink ${site}/renamed.txt d - 1`,
      `ALLOWED connect ${socketPath} w - 1`,
      'ALLOWED connect unix connect stream 1',
      `ALLOWED connect inet connect ${port} 1`,
      'ALLOWED exec /usr/bin/true x - 1',
      'ALLOWED signal term send fixture 1',
    ].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a program that forks 100 children: every child is in the tree and attributed', { skip, timeout: 60_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-record-test-')));
  try {
    const binary = compile(root);
    const trace = join(root, 'trace.txt');
    const wrapped = new StraceRecorder(strace!).wrap(binary, ['--forks', '100'], trace);
    const run = spawnSync(wrapped.command, wrapped.args, { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const { events, diagnostics } = eventsFromTrace(readFileSync(trace, 'utf8'), { label: 'forker', cwd: root, host: nodeRecordHost });
    assert.deepEqual(diagnostics, []);
    const children = events.filter((e) => e.object.name === `/proc/${String(e.pid)}/fd/`);
    assert.equal(children.length, 100);
    assert.equal(new Set(children.map((e) => e.pid)).size, 100);
    const parents = new Set(children.map((e) => e.parent));
    assert.equal(parents.size, 1);
    assert.ok(children.every((e) => e.label?.text === 'forker' && e.pid !== [...parents][0]));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad input: unknown command, strace missing, no program, a program that exits at once', { skip: strace ? false : 'skipped: strace is not installed', timeout: 60_000 }, async () => {
  const missing = await runCli(['record', '--', 'no-such-program-hatter']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no-such-program-hatter: command not found/);
  const noStrace = await runCli(['record', '--', '/bin/true'], { env: { PATH: '/nonexistent' } });
  assert.equal(noStrace.code, 2);
  assert.match(noStrace.stderr, /strace is not installed.*Debian package 'strace'/);
  const none = await runCli(['record']);
  assert.equal(none.code, 2);
  const quick = await runCli(['record', '--', '/bin/false']);
  assert.equal(quick.code, 0);
  assert.match(quick.stderr, /false exited with 1/);
  const badCap = await runCli(['record', '--cap', 'x', '--', '/bin/true']);
  assert.equal(badCap.code, 2);
});

function descendants(pid: number): number[] {
  let children: number[] = [];
  try { children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function comm(pid: number): string {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; }
}

test('a program that never exits: SIGINT stops it and keeps what was recorded', { skip: strace ? false : 'skipped: strace is not installed', timeout: 60_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-record-test-')));
  try {
    const out = join(root, 'events.jsonl');
    writeFileSync(join(root, 'marker'), '');
    const child = spawn(process.execPath, [cliMain.replace(/main\.js$/, 'bin.js'), 'record', '--out', out, '--', '/bin/sh', '-c', `cat ${join(root, 'marker')}; exec sleep 600`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    // Stop only once the program runs (`sleep` under strace under hatter): a loaded machine starts slowly.
    const deadline = Date.now() + 30_000;
    while (!descendants(child.pid!).some((pid) => comm(pid) === 'sleep') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /was killed by SIGINT|exited with/);
    const text = readFileSync(out, 'utf8');
    assert.match(text, new RegExp(`"name":"${join(root, 'marker')}"`));
    assert.match(text, /"operation":"exec".*"name":"\/usr\/bin\/sleep"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--policy: a program the profile runs with Px is recorded under its target; a bad policy is a diagnostic', { skip: strace ? false : 'skipped: strace is not installed', timeout: 60_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-record-policy-')));
  try {
    const data = join(root, 'data.txt');
    const own = join(root, 'own.txt');
    writeFileSync(data, 'data\n');
    writeFileSync(own, 'own\n');
    const cat = realpathSync('/bin/cat');
    writeFileSync(join(root, 'policy'), `profile shell {\n  ${cat} Px -> catter,\n}\nprofile catter {\n}\n`);
    const out = join(root, 'events.jsonl');
    const result = await runCli(['record', '--profile', 'shell', '--policy', join(root, 'policy'), '--out', out, '--', '/bin/sh', '-c', `read line < ${own}; ${cat} ${data}`], { cwd: root });
    assert.equal(result.code, 0, result.stderr);
    const events = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const labelsOf = (name: string, operation: string): unknown[] => [...new Set(events.filter((e) => e['name'] === name && e['operation'] === operation).map((e) => e['label']))];
    assert.deepEqual(labelsOf(data, 'open'), ['catter']);
    assert.deepEqual(labelsOf(own, 'open'), ['shell']);
    assert.deepEqual(events.filter((e) => e['operation'] === 'exec' && e['name'] === cat).map((e) => [e['label'], e['target']]), [['shell', 'catter']]);
    // Without --policy the shell's child stays in the shell's profile.
    const plain = await runCli(['record', '--profile', 'shell', '--', '/bin/sh', '-c', `${cat} ${data}`], { cwd: root });
    assert.ok(plain.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).some((e) => e['name'] === data && e['label'] === 'shell'));

    writeFileSync(join(root, 'broken'), 'profile shell {\n  /usr/bin/cat Px -> catter\n');
    const broken = await runCli(['record', '--profile', 'shell', '--policy', 'broken', '--', '/bin/true'], { cwd: root });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /broken:\d+:\d+/);
    assert.match(broken.stderr, /cannot follow the exec transitions of broken/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
