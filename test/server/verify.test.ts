// Every worker's confinement is checked (backend.verify) before it may serve: a worker that fails is
// killed, logged, counted on the status page and replaced with the pool's backoff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NoneBackend, type PreparedConfinement } from '../../src/confine/index.js';
import { demoConfigPath, loadConfigFile, prepareServe, startServer } from '../../src/server/serve.js';
import { get, serverStatus, sleep } from './helpers.js';

/** The none backend, except that verify refuses workers of one label (the first `failures` times). */
class RefusingBackend extends NoneBackend {
  verified: string[] = [];
  constructor(private readonly refuse: string, private failures: number) { super(); }
  override async verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }> {
    this.verified.push(prepared.label);
    if (prepared.label === this.refuse && this.failures > 0) {
      this.failures--;
      return { ok: false, detail: `process ${pid} runs as unconfined, expected ${prepared.label}` };
    }
    return super.verify(prepared, pid);
  }
}

async function startDemo(backend: NoneBackend) {
  const file = demoConfigPath(join(process.cwd()));
  assert.ok(file, 'the demo configuration is in the repository');
  const prepared = prepareServe(loadConfigFile(file), { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, backend: 'none', accessLog: 'off' }, true);
  assert.ok(prepared.prepared);
  const messages: string[] = [];
  const output = { info: (line: string) => { messages.push(line); }, warn: (line: string) => { messages.push(line); } };
  const { supervisor } = await startServer(prepared.prepared, backend, 'refusing (test)', output);
  const running = supervisor.run();
  return {
    messages,
    port: supervisor.addresses[0]!.port,
    adminPort: supervisor.adminAddress!.port,
    async stop() { supervisor.enqueue('stop'); await running; },
  };
}

test('a worker whose confinement cannot be verified never serves; it is killed, counted and respawned with backoff', async () => {
  const backend = new RefusingBackend('hatter-demo//bob.localhost', Infinity);
  const server = await startDemo(backend);
  try {
    // alice is unaffected.
    const alice = await get(server.port, 'alice.localhost', '/hello');
    assert.equal(alice.status, 200);
    await sleep(1500);
    const status = await serverStatus(server.adminPort);
    const bob = status.pools.find((p: { label: string }) => p.label === 'hatter-demo//bob.localhost');
    assert.ok(bob, 'bob has a pool');
    assert.ok(bob.verifyFailures >= 2, `verifyFailures ${bob.verifyFailures}`);
    assert.match(bob.lastVerifyFailure, /expected hatter-demo\/\/bob\.localhost/);
    assert.ok(bob.workers.every((w: { state: string }) => w.state !== 'ready'), JSON.stringify(bob.workers));
    assert.equal(bob.requests, 0);
    assert.ok(server.messages.some((m) => /REFUSED hatter-demo\/\/bob\.localhost: worker \d+ \(pid \d+\) is not confined as prepared/.test(m)), server.messages.join('\n'));
    // Backoff, not a tight loop: 2 workers at start, then at 100, 200, 400 ms ... in 1.5 s: a handful.
    const refusals = backend.verified.filter((l) => l === 'hatter-demo//bob.localhost').length;
    assert.ok(refusals <= 12, `${refusals} bob workers started in 1.5 s`);
    assert.ok(server.messages.some((m) => /hatter-demo\/\/bob\.localhost: restarting a worker in \d+ ms/.test(m)));
  } finally {
    await server.stop();
  }
});

test('after a refused worker, the replacement that passes verification serves', async () => {
  const backend = new RefusingBackend('hatter-demo//bob.localhost', 1);
  const server = await startDemo(backend);
  try {
    const reply = await get(server.port, 'bob.localhost', '/hello');
    assert.equal(reply.status, 200);
    const status = await serverStatus(server.adminPort);
    const bob = status.pools.find((p: { label: string }) => p.label === 'hatter-demo//bob.localhost');
    assert.equal(bob.verifyFailures, 1);
  } finally {
    await server.stop();
  }
});

test('user: of a site reaches the pool\'s confinement as a uid (root), or is reported as ignored (not root)', async () => {
  const { startFromYaml } = await import('./helpers.js');
  const server = await startFromYaml(`
listen: 127.0.0.1:0
sites:
  - { serverName: a.example, documentRoot: public, user: 65534 }
`, { 'public/index.html': 'hi\n' });
  try {
    const status = await serverStatus(server.adminPort);
    const pool = status.pools.find((p: { label: string }) => p.label.endsWith('a.example'));
    if (process.getuid?.() === 0) assert.equal(pool?.confinement.uid, 65534, JSON.stringify(status.pools));
    else assert.ok(server.messages.some((m) => /serve\/account-needs-root/.test(m)), server.messages.join('\n'));
  } finally {
    await server.stop();
  }
});
