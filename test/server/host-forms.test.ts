// #17: `Host: bob.localhost.` (and with a port, or in upper case) reached alice's pool with bob's cookies.
// Through a running `hatter serve` (the demo, backend none): every spelling of bob's name reaches bob,
// on a new connection (the front routes it) and on a kept-alive one (the worker checks it again).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { json, RawConnection, startFromFile, type TestServer } from './helpers.js';
import { repoRoot } from '../support/repo.js';

let server: TestServer;
before(async () => { server = await startFromFile(join(repoRoot, 'examples', 'hosting', 'hatter.yaml'), true); });
after(async () => { await server.stop(); });

const BOB_FORMS = ['bob.localhost.', 'bob.localhost.:80', 'BOB.LOCALHOST', 'Bob.Localhost.:8080', 'bob.localhost:'];

test('every spelling of bob.localhost in Host reaches bob\'s hat', async () => {
  for (const host of BOB_FORMS) {
    const reply = await json(server.port, host, '/hello');
    assert.equal(reply.hat, 'bob.localhost', host);
    assert.equal(reply.label, 'hatter-demo//bob.localhost', host);
  }
  assert.equal((await json(server.port, 'alice.localhost.', '/hello')).hat, 'alice.localhost');
});

test('a kept-alive connection stays with bob\'s worker across spellings, and leaves it for alice', async () => {
  const conn = new RawConnection(server.port);
  const pids = new Set<unknown>();
  for (const host of BOB_FORMS) {
    conn.write(`GET /hello HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    const reply = await conn.response();
    assert.equal(reply.status, 200, host);
    const body = JSON.parse(reply.body) as { hat: string; pid: number };
    assert.equal(body.hat, 'bob.localhost', host);
    pids.add(body.pid);
  }
  assert.equal(pids.size, 1, 'the worker routed every spelling to its own hat (no hand-back)');
  conn.write('GET /hello HTTP/1.1\r\nHost: ALICE.localhost.:80\r\n\r\n');
  const alice = await conn.response();
  assert.equal(alice.status, 200);
  assert.equal((JSON.parse(alice.body) as { hat: string }).hat, 'alice.localhost');
  conn.close();
});

test('a malformed Host (`..`, as httpd refuses) is a 400', async () => {
  const conn = new RawConnection(server.port);
  conn.write('GET /hello HTTP/1.1\r\nHost: bob..localhost\r\n\r\n');
  const reply = await conn.response();
  assert.equal(reply.status, 400);
  assert.match(String(reply.body), /malformed Host/);
  conn.close();
});
