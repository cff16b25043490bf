// Fair sharing under a hostile client or a hostile site (issue 17, item 8): every request body is held to
// maxBodyBytes even when its handler never reads it; a pipelined hat change is answered 421, never a
// hang; idle keep-alive connections are shed (oldest first) before a saturated pool or front refuses;
// one client address holds a bounded number of connections. Real servers on loopback; the "clients" are
// told apart by their source address (127.0.0.x), as a server sees different hosts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { get, json, sleep, startFromYaml, type TestServer } from './helpers.js';

const HELLO = `export default async function handler() { return Response.json({ hat: process.env.HATTER_HAT, pid: process.pid }); }
`;
const IGNORE_BODY = `export default async function handler() { return new Response('ignored\\n'); }
`;
const LATE_IGNORE_BODY = `export default async function handler() { await new Promise((r) => setTimeout(r, 300)); return new Response('late\\n'); }
`;

const SITES = `sites:
  - serverName: alice.test
    documentRoot: alice
    handler: { type: node, module: hello.mjs }
    locations:
      - prefix: /ignore
        handler: { type: node, module: ignore.mjs }
      - prefix: /late
        handler: { type: node, module: late.mjs }
  - serverName: bob.test
    documentRoot: bob
    handler: { type: node, module: hello.mjs }
    locations:
      - prefix: /hold
        handler: { type: node, module: hold.mjs }
`;
// Code in bob's worker that holds every connection it gets (never answers).
const HOLD = `export default function handler() { return new Promise(() => {}); }
`;
const FILES = { 'hello.mjs': HELLO, 'ignore.mjs': IGNORE_BODY, 'late.mjs': LATE_IGNORE_BODY, 'hold.mjs': HOLD, 'alice/index.html': 'a\n', 'bob/index.html': 'b\n' };

/** One client connection from a chosen loopback source address; collects everything the server sends. */
class Client {
  readonly socket: Socket;
  text = '';
  closed = false;
  constructor(port: number, from = '127.0.0.1') {
    this.socket = connect({ port, host: '127.0.0.1', localAddress: from });
    this.socket.on('data', (chunk: Buffer) => { this.text += chunk.toString('latin1'); });
    this.socket.on('close', () => { this.closed = true; });
    this.socket.on('error', () => {});
  }
  async connected(): Promise<void> {
    if (this.socket.readyState === 'open') return;
    await new Promise<void>((resolve) => { this.socket.once('connect', resolve); this.socket.once('close', resolve); });
  }
  /** Wait (bounded) until the text matches or the server closed the connection. */
  async until(pattern: RegExp, timeoutMs = 8000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text) && !this.closed && Date.now() < deadline) await sleep(20);
    return pattern.test(this.text);
  }
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    return this.closed;
  }
  close(): void { this.socket.destroy(); }
}

/**
 * Stream a chunked body of up to `total` bytes; stop when the server closes the connection (or after
 * `timeoutMs`). Returns how many body bytes were written and whether the server cut the connection.
 */
async function streamChunked(client: Client, head: string, total: number, timeoutMs: number): Promise<{ sent: number; cut: boolean }> {
  await client.connected();
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  client.socket.write(head);
  let sent = 0;
  const deadline = Date.now() + timeoutMs;
  while (sent < total && !client.closed && Date.now() < deadline) {
    if (!client.socket.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(done, 200);
        client.socket.once('drain', done);
      });
    }
    sent += chunk.length;
  }
  if (!client.closed) client.socket.write('0\r\n\r\n');
  return { sent, cut: await client.closedWithin(Math.max(0, deadline - Date.now())) };
}

describe('request bodies and pipelining', () => {
  let server: TestServer;
  before(async () => {
    server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
front: { maxBodyBytes: 65536 }
pool: { min: 1, max: 1, requestTimeoutMs: 5000 }
${SITES}`, FILES);
  });
  after(async () => { await server.stop(); });

  test('a chunked body to a handler that never reads it is cut at maxBodyBytes, not drained forever', async () => {
    for (const path of ['/ignore', '/late']) {
      const client = new Client(server.port);
      const total = 64 * 1024 * 1024;
      const { sent, cut } = await streamChunked(client, `POST ${path} HTTP/1.1\r\nHost: alice.test\r\nTransfer-Encoding: chunked\r\n\r\n`, total, 8000);
      client.close();
      assert.ok(cut, `${path}: the server kept reading a body past maxBodyBytes (${sent} bytes sent, connection still open)`);
      assert.ok(sent < total, `${path}: all ${sent} bytes were accepted`);
    }
    assert.equal((await get(server.port, 'alice.test', '/')).status, 200, 'the worker lives on');
  });

  test('a later request on a kept-alive connection with Content-Length over the limit gets 413 before its handler runs', async () => {
    const client = new Client(server.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
    assert.ok(await client.until(/^HTTP\/1\.1 200 /));
    client.socket.write('POST /ignore HTTP/1.1\r\nHost: alice.test\r\nContent-Length: 70000\r\n\r\n');
    assert.ok(await client.until(/HTTP\/1\.1 413 /), client.text);
    assert.doesNotMatch(client.text, /ignored/);
    client.close();
  });

  test('one write with a request for bob, then a POST and a GET for alice: 200, then 421 and the connection is closed', async () => {
    const client = new Client(server.port);
    client.socket.write('GET / HTTP/1.1\r\nHost: bob.test\r\n\r\n'
      + 'POST / HTTP/1.1\r\nHost: alice.test\r\nContent-Length: 5\r\n\r\nhello'
      + 'GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
    const closed = await client.closedWithin(6000);
    client.close();
    assert.ok(closed, `the connection hangs; got ${JSON.stringify(client.text.slice(0, 400))}`);
    const statuses = [...client.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.equal(statuses[0], 200);
    assert.ok(statuses.slice(1).length >= 1 && statuses.slice(1).every((s) => s === 421), `statuses ${statuses.join(', ')}`);
    assert.match(client.text, /Connection: close/i);
    // The server still works for both sites afterwards.
    assert.equal((await json(server.port, 'alice.test', '/')).hat, 'alice.test');
    assert.equal((await json(server.port, 'bob.test', '/')).hat, 'bob.test');
  });
});

describe('connections: idle ones are shed first, one client address is bounded', () => {
  let server: TestServer;
  before(async () => {
    server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
front: { idleTimeoutMs: 30000, headerTimeoutMs: 20000, maxConnections: 24, maxConnectionsPerClient: 8 }
pool: { min: 1, max: 1, connectionsPerWorker: 6, queue: 8, requestTimeoutMs: 5000, maxConnectionsPerClient: 3 }
${SITES}`, FILES);
  });
  after(async () => { await server.stop(); });

  /** A kept-alive connection from `from` that has had one answered request for `host` and is now idle. */
  async function idleConnection(from: string, host: string): Promise<Client> {
    const client = new Client(server.port, from);
    client.socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    await client.until(/\r\n\r\n\{[^}]*\}/, 8000);
    return client;
  }

  test('a pool full of idle keep-alive connections (from many addresses) sheds the oldest for a new client', async () => {
    const idle: Client[] = [];
    try {
      // Six addresses, one connection each: connectionsPerWorker (6) of the only worker are taken.
      for (let i = 0; i < 6; i++) idle.push(await idleConnection(`127.0.0.${10 + i}`, 'bob.test'));
      assert.ok(idle.every((c) => /^HTTP\/1\.1 200 /.test(c.text) && !c.closed), 'the idle connections were served and kept open');
      const started = Date.now();
      const fresh = await get(server.port, 'bob.test', '/');
      assert.equal(fresh.status, 200);
      assert.ok(Date.now() - started < 4000, `a new client waited ${Date.now() - started} ms`);
      assert.ok(await idle[0]!.closedWithin(2000), 'the oldest idle connection was the one shed');
      assert.ok(idle.slice(1).some((c) => !c.closed), 'only as many as needed were shed');
      assert.equal((await get(server.port, 'alice.test', '/')).status, 200, 'the other site is reachable');
    } finally {
      for (const c of idle) c.close();
    }
  });

  test('one client address holds at most pool.maxConnectionsPerClient connections in a pool (429), others are served', async () => {
    const held: Client[] = [];
    try {
      for (let i = 0; i < 3; i++) held.push(await idleConnection('127.0.0.20', 'alice.test'));
      assert.ok(held.every((c) => /^HTTP\/1\.1 200 /.test(c.text)));
      const extra = new Client(server.port, '127.0.0.20');
      extra.socket.write('GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
      assert.ok(await extra.until(/^HTTP\/1\.1 429 /), `got ${JSON.stringify(extra.text.slice(0, 200))}`);
      assert.ok(await extra.closedWithin(3000));
      const other = new Client(server.port, '127.0.0.21');
      other.socket.write('GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
      assert.ok(await other.until(/^HTTP\/1\.1 200 /), `another address: ${JSON.stringify(other.text.slice(0, 200))}`);
      other.close();
      // Closing one frees a place for that address again.
      held.shift()!.close();
      await sleep(300);
      const again = new Client(server.port, '127.0.0.20');
      again.socket.write('GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
      assert.ok(await again.until(/^HTTP\/1\.1 200 /), `after a close: ${JSON.stringify(again.text.slice(0, 200))}`);
      again.close();
    } finally {
      for (const c of held) c.close();
    }
  });

  test('the front holds at most front.maxConnectionsPerClient silent connections per address, and sheds the oldest silent ones when full', async () => {
    const silent: Client[] = [];
    try {
      for (let i = 0; i < 8; i++) { const c = new Client(server.port, '127.0.0.30'); await c.connected(); silent.push(c); }
      const ninth = new Client(server.port, '127.0.0.30');
      ninth.socket.write('GET / HTTP/1.1\r\nHost: alice.test\r\n\r\n');
      assert.ok(await ninth.until(/^HTTP\/1\.1 429 /), `got ${JSON.stringify(ninth.text.slice(0, 200))}`);
      ninth.close();
      // Fill the front (24) from other addresses: a new client is still served, the oldest silent one goes.
      for (let i = 0; i < 16; i++) { const c = new Client(server.port, `127.0.0.${40 + (i % 2)}`); await c.connected(); silent.push(c); }
      await sleep(200);
      const fresh = new Client(server.port, '127.0.0.50');
      fresh.socket.write('GET / HTTP/1.1\r\nHost: bob.test\r\n\r\n');
      assert.ok(await fresh.until(/^HTTP\/1\.1 200 /), `a new client at a full front: ${JSON.stringify(fresh.text.slice(0, 200))}`);
      fresh.close();
      assert.ok(await silent[0]!.closedWithin(2000), 'the oldest silent connection was shed');
    } finally {
      for (const c of silent) c.close();
    }
  });

  test('while bob\'s own code holds every connection of its pool, alice is served at once', async () => {
    const holders: Client[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const c = new Client(server.port, `127.0.0.${60 + i}`);
        c.socket.write('GET /hold HTTP/1.1\r\nHost: bob.test\r\n\r\n');
        holders.push(c);
      }
      await sleep(500);
      const started = Date.now();
      assert.equal((await json(server.port, 'alice.test', '/')).hat, 'alice.test');
      assert.ok(Date.now() - started < 5000, `alice waited ${Date.now() - started} ms`);
    } finally {
      for (const c of holders) c.close();
    }
  });
});
