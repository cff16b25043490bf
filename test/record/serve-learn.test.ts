// hatter serve --learn end to end on the demo: the workload's accesses are recorded and attributed to the
// right hat (pages, Node handlers, a CGI script), and the status page says the server is learning.
// Then, when `hatter learn` is in this build, the learned policy is applied and served under Landlock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LearningBackend } from '../../src/cli/learn-backend.js';
import { findStrace, RecordingSession, StraceRecorder } from '../../src/record/index.js';
import { loadConfigFile, prepareServe, startServer } from '../../src/server/serve.js';
import { repoRoot } from '../support/repo.js';
import { get, serverStatus } from '../server/helpers.js';

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

const learnBuilt = existsSync(join(repoRoot, 'dist', 'src', 'cli', 'learn.js'));
// Not automated yet (see docs/record.md, "Status of the end-to-end checks"): learn --apply on the recording
// was tried by hand on a merge with the learn branches; serving the learned policy must run in demo mode,
// because the demo policy's @{HATTER_DEMO}=/**/examples/hosting is only made exact there.
test('learned hats serve the same workload under Landlock', learnBuilt ? { todo: 'learn --apply, then serve --backend landlock in demo mode with the learned policy' } : { skip: 'skipped: hatter learn (src/cli/learn.ts) is not in this build' }, () => undefined);
