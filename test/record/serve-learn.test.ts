// hatter serve --learn end to end on the demo: the workload's accesses are recorded and attributed to the
// right hat (pages, Node handlers, a CGI script), and the status page says the server is learning.
// Then `hatter learn --apply --write` turns the recording into the hats, and the learned policy is served
// under Landlock (root: the launcher) with the same workload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { findLauncher } from '../../src/confine/launcher.js';
import { LearningBackend } from '../../src/cli/learn-backend.js';
import { findStrace, RecordingSession, StraceRecorder } from '../../src/record/index.js';
import { loadConfigFile, prepareServe, startServer } from '../../src/server/serve.js';
import { repoRoot } from '../support/repo.js';
import { runCli } from '../support/cli.js';
import { get, serverStatus, startFromFile } from '../server/helpers.js';

const strace = findStrace(process.env['PATH']);
const skip = strace ? false : 'skipped: strace is not installed (Debian package strace)';
const demo = join(repoRoot, 'examples', 'hosting');

/** The demo's workload: every kind of handler of both sites. */
export async function demoWorkload(port: number): Promise<Array<{ host: string; path: string; status: number }>> {
  const requests: Array<[string, string]> = [
    ['alice.localhost', '/'], ['alice.localhost', '/hello'], ['alice.localhost', '/cgi-bin/hello.cgi'], ['alice.localhost', '/read?path=alice/secret.txt'],
    ['bob.localhost', '/'], ['bob.localhost', '/hello'], ['bob.localhost', '/cgi-bin/hello.cgi'], ['bob.localhost', '/read?path=bob/secret.txt'],
  ];
  const replies = [];
  for (const [host, path] of requests) replies.push({ host, path, status: (await get(port, host, path)).status });
  return replies;
}

test('serve --learn records each pool under its hat, children (CGI) included', { skip, timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const session = new RecordingSession(new StraceRecorder(strace!), { write: (text) => { lines.push(...text.trim().split('\n')); } }, { counter: { intervalMs: 60_000, cap: 10_000 } });
  const backend = new LearningBackend(session, 'memory');
  const overrides = { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, accessLog: 'off' as const };
  const prepared = prepareServe(loadConfigFile(join(demo, 'hatter.yaml')), overrides, true).prepared!;
  const { supervisor } = await startServer(prepared, backend, 'learning (test)', { info: () => undefined, warn: () => undefined });
  const running = supervisor.run();
  try {
    const port = supervisor.addresses[0]!.port;
    const replies = await demoWorkload(port);
    assert.deepEqual(replies.filter((r) => r.status !== 200), []);
    const status = await serverStatus(supervisor.adminAddress!.port);
    assert.equal(status['backend']['learning'], true);
    assert.match(status['backend']['warning'], /LEARNING, UNCONFINED/);
  } finally {
    supervisor.enqueue('stop');
    await running;
    session.stop();
  }
  const events = lines.map((line) => JSON.parse(line) as Record<string, string>);
  const labels = new Set(events.map((e) => e['label']));
  assert.deepEqual([...labels].sort(), ['hatter-demo//alice.localhost', 'hatter-demo//bob.localhost']);
  const has = (label: string, operation: string, name: string): boolean => events.some((e) => e['label'] === `hatter-demo//${label}` && e['operation'] === operation && e['name'] === name);
  for (const site of ['alice', 'bob']) {
    const label = `${site}.localhost`;
    assert.ok(has(label, 'open', join(demo, site, 'secret.txt')), `${site} read its secret`);
    assert.ok(has(label, 'open', join(demo, site, 'public', 'index.html')), `${site}'s page`);
    assert.ok(has(label, 'open', join(demo, site, 'app', 'hello.mjs')), `${site}'s Node handler`);
    assert.ok(has(label, 'exec', join(demo, site, 'cgi-bin', 'hello.cgi')), `${site}'s CGI script, exec'd by the worker`);
  }
  // Nothing of one site is attributed to the other.
  assert.ok(!events.some((e) => e['label'] === 'hatter-demo//bob.localhost' && (e['name'] ?? '').startsWith(join(demo, 'alice'))));
  assert.ok(!events.some((e) => e['label'] === 'hatter-demo//alice.localhost' && (e['name'] ?? '').startsWith(join(demo, 'bob'))));
});

const landlock = await createBackend('landlock').probe();
const learnSkip = skip || (process.getuid?.() !== 0 ? 'skipped: serving under Landlock with the hatter launcher needs root' : landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`);

/**
 * A scratch copy of the demo whose site hats are stripped to what every worker needs (node, hatter's code,
 * the network), so the sites' own files, CGI scripts and helpers can only come from the recording. The
 * policy's variables are set to real paths, as `serve` does for the embedded demo, so no hat is a glob.
 */
function scratchDemo(root: string): { config: string; policy: string } {
  const copy = join(root, 'hosting');
  cpSync(demo, copy, { recursive: true });
  const policy = join(copy, 'policy', 'hatter-demo');
  const launcher = findLauncher(process.env, repoRoot);
  const stripped = readFileSync(policy, 'utf8')
    .replace(/^@\{HATTER_DEMO\}=.*$/m, `@{HATTER_DEMO}=${copy}`)
    .replace(/^@\{HATTER_CODE\}=.*$/m, `@{HATTER_CODE}=${realpathSync(join(repoRoot, 'dist'))}`)
    .replace(/^@\{HATTER_MODULES\}=.*$/m, `@{HATTER_MODULES}=${realpathSync(join(repoRoot, 'node_modules'))}`)
    .replace(/^@\{HATTER_LAUNCH\}=.*$/m, (line) => (launcher ? `@{HATTER_LAUNCH}=${realpathSync(launcher)}` : line))
    .split('\n')
    .filter((line) => !/^\s*(@\{HATTER_DEMO\}\/(alice|bob)\/|\/\{usr\/,\}bin\/|\/dev\/null )/.test(line))
    .join('\n');
  writeFileSync(policy, stripped);
  return { config: join(copy, 'hatter.yaml'), policy };
}

// PHP: the demo has no PHP page; a php-fpm site is left out of this run (one boot of FPM under strace
// and again under Landlock would double the test's time on this 2-core machine).
test('learned hats serve the same workload under Landlock, and bob still cannot read alice\'s secret', { skip: learnSkip, timeout: 240_000 }, async () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hatter-serve-learn-')));
  try {
    const { config, policy } = scratchDemo(root);
    const copy = join(root, 'hosting');
    assert.doesNotMatch(readFileSync(policy, 'utf8'), /hosting\/alice\//, 'the stripped hats grant nothing of the sites');
    // 1. Record the workload with serve --learn.
    const log = join(root, 'learn.jsonl');
    const events: string[] = [];
    const session = new RecordingSession(new StraceRecorder(strace!), { write: (text) => { events.push(text); } }, { counter: { intervalMs: 60_000, cap: 10_000 } });
    const overrides = { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, accessLog: 'off' as const };
    const prepared = prepareServe(loadConfigFile(config), overrides, false).prepared!;
    const { supervisor } = await startServer(prepared, new LearningBackend(session, log), 'learning (test)', { info: () => undefined, warn: () => undefined });
    const running = supervisor.run();
    try {
      const replies = await demoWorkload(supervisor.addresses[0]!.port);
      assert.deepEqual(replies.filter((r) => r.status !== 200), []);
    } finally {
      supervisor.enqueue('stop');
      await running;
      session.stop();
    }
    writeFileSync(log, events.join(''));
    // 2. hatter learn proposes the hats from the recording and writes them into the policy.
    const learned = await runCli(['learn', log, '--policy', policy, '--config', config, '--apply', '--write'], { cwd: copy });
    assert.equal(learned.code, 0, learned.stderr + learned.stdout);
    const text = readFileSync(policy, 'utf8');
    for (const site of ['alice', 'bob']) {
      assert.ok(text.includes(join(copy, site, 'public', 'index.html')) || text.includes(join(copy, site, 'public')), `${site}'s pages learned:\n${text}`);
      assert.ok(text.includes(join(copy, site, 'cgi-bin')), `${site}'s CGI learned:\n${text}`);
    }
    // 3. The learned policy, served under Landlock: the same workload, no EACCES, no 403.
    const server = await startFromFile(config, false, { backend: 'landlock' });
    try {
      const replies = await demoWorkload(server.port);
      assert.deepEqual(replies.filter((r) => r.status !== 200), [], `the learned policy:\n${text}`);
      const bob = await get(server.port, 'bob.localhost', '/read?path=alice/secret.txt');
      assert.equal(bob.status, 403);
      assert.match(bob.body.toString(), /EACCES/);
      assert.doesNotMatch(bob.body.toString(), /alice's database password/);
      const alice = await get(server.port, 'alice.localhost', '/read?path=alice/secret.txt');
      assert.match(alice.body.toString(), /alice's database password/);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
