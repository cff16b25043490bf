// Integration tests: a real hatter serve (supervisor here, front and workers as child processes,
// backend none) on loopback ports chosen at run time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../support/repo.js';
import { detectDemoHost } from '../../src/server/serve.js';
import { get, json, raw, RawConnection, serverStatus, sleep, startFromFile, startFromYaml, type TestServer } from './helpers.js';

const ECHO = `export default async function handler(request) {
  const url = new URL(request.url);
  let bodyBytes = 0;
  if (request.body) for await (const chunk of request.body) bodyBytes += chunk.byteLength;
  if (url.pathname.startsWith('/slow')) await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms') ?? 300)));
  return Response.json({ hat: process.env.HATTER_HAT, pid: process.pid, path: url.pathname, method: request.method, bodyBytes });
}
`;
const CRASH = `export default function handler() {
  setTimeout(() => { throw new Error('deliberate crash'); }, 10);
  return new Promise(() => {});
}
`;
const HANG = `export default function handler() { return new Promise(() => {}); }
`;
const FIXTURE_YAML = `listen: 127.0.0.1:0
backend: none
pool: { min: 1, max: 2, requestTimeoutMs: 1500, queue: 32 }
front: { maxHeaderBytes: 4096, maxBodyBytes: 20000000 }
drainTimeoutMs: 5000
sites:
  - serverName: alpha.test
    documentRoot: alpha/public
    locations:
      - prefix: /echo
        handler: { type: node, module: alpha/echo.mjs }
      - prefix: /slow
        handler: { type: node, module: alpha/echo.mjs }
      - prefix: /crash
        handler: { type: node, module: alpha/crash.mjs }
      - prefix: /hang
        handler: { type: node, module: alpha/hang.mjs }
      - prefix: /admin-area
        hat: alpha-admin
        handler: { type: node, module: alpha/echo.mjs }
  - serverName: beta.test
    documentRoot: beta/public
    locations:
      - prefix: /echo
        handler: { type: node, module: alpha/echo.mjs }
`;
const digits = Array.from({ length: 100 }, (_, i) => String(i % 10)).join('');
const FIXTURE_FILES = {
  'alpha/echo.mjs': ECHO,
  'alpha/crash.mjs': CRASH,
  'alpha/hang.mjs': HANG,
  'alpha/public/index.html': '<h1>alpha</h1>\n',
  'alpha/public/digits.txt': digits,
  'beta/public/index.html': '<h1>beta</h1>\n',
};

describe('the demo on a host without php-fpm', () => {
  let server: TestServer;
  before(async () => { server = await startFromFile(join(repoRoot, 'examples', 'hosting', 'hatter.yaml'), true, {}, { phpFpm: false }); });
  after(async () => { await server.stop(); });

  test('HATTER_DEMO_PHP=off leaves the PHP pages out even where php-fpm is installed', () => {
    assert.equal(detectDemoHost({ HATTER_DEMO_PHP: 'off' }).phpFpm, false);
  });

  test('starts without any PHP-FPM master, serves its other handlers, and /php/ is not served (nor its source)', async () => {
    assert.ok(!server.messages.some((m) => /PHP-FPM/.test(m)), server.messages.join('\n'));
    assert.equal((await json(server.port, 'alice.localhost', '/hello')).hat, 'alice.localhost');
    const php = await get(server.port, 'alice.localhost', '/php/');
    assert.equal(php.status, 404);
    assert.doesNotMatch(php.body.toString(), /<\?php/);
    assert.equal((await get(server.port, 'alice.localhost', '/php/index.php')).status, 404);
  });
});

describe('the demo (examples/hosting) with backend none', () => {
  let server: TestServer;
  before(async () => { server = await startFromFile(join(repoRoot, 'examples', 'hosting', 'hatter.yaml'), true); });
  after(async () => { await server.stop(); });

  test('each site is served in its own hat; an unknown Host goes to the first site', async () => {
    const alice = await json(server.port, 'alice.localhost', '/hello');
    assert.equal(alice.hat, 'alice.localhost');
    assert.equal(alice.label, 'hatter-demo//alice.localhost');
    const bob = await json(server.port, 'bob.localhost:8080', '/hello');
    assert.equal(bob.hat, 'bob.localhost');
    assert.notEqual(bob.pid, alice.pid);
    const other = await json(server.port, 'nobody.example', '/hello');
    assert.equal(other.hat, 'alice.localhost');
  });

  test('static page, CGI script and the vulnerable /read handler (unconfined: it reads alice\'s secret)', async () => {
    const page = await get(server.port, 'bob.localhost', '/');
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /Welcome to bob\.localhost/);
    const cgi = await get(server.port, 'alice.localhost', '/cgi-bin/hello.cgi/extra?q=1');
    assert.equal(cgi.status, 200);
    assert.match(cgi.body.toString(), /hello from alice\.localhost via CGI/);
    assert.match(cgi.body.toString(), /PATH_INFO=\/extra/);
    const read = await get(server.port, 'bob.localhost', '/read?path=alice/secret.txt');
    assert.equal(read.status, 200, 'backend none confines nothing');
    assert.match(read.body.toString(), /alice's database password/);
  });

  test('keep-alive: several requests on one connection, served by the same worker', async () => {
    const conn = new RawConnection(server.port);
    const pids = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      conn.write('GET /hello HTTP/1.1\r\nHost: alice.localhost\r\n\r\n');
      const reply = await conn.response();
      assert.equal(reply.status, 200);
      pids.add((JSON.parse(reply.body) as { pid: number }).pid);
    }
    assert.equal(conn.closed, false);
    assert.equal(pids.size, 1);
    conn.close();
  });

  test('pipelining: three requests in one write get three responses in order', async () => {
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: bob.localhost\r\n\r\n`;
    const text = await raw(server.port, request('/hello?1') + request('/') + request('/hello?3') .replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '200', '200']);
    assert.ok(text.indexOf('"path":"/hello"') < text.indexOf('Welcome to bob'));
  });

  test('status page: backend, unconfined warning, pools with workers and latency', async () => {
    const status = await serverStatus(server.adminPort);
    assert.equal(status.backend.name, 'none');
    assert.equal(status.backend.confined, false);
    assert.match(status.backend.warning, /UNCONFINED/);
    const labels = (status.pools as { label: string }[]).map((p) => p.label).sort();
    assert.deepEqual(labels, ['hatter-demo//alice.localhost', 'hatter-demo//bob.localhost']);
    const alice = (status.pools as any[]).find((p) => p.label === 'hatter-demo//alice.localhost');
    assert.ok(alice.workers.length >= 1);
    assert.equal(alice.hat, 'alice.localhost');
    assert.equal(alice.confinement.backend, 'none');
    await sleep(1100);
    const later = (await serverStatus(server.adminPort)).pools.find((p: any) => p.label === 'hatter-demo//alice.localhost');
    assert.ok(later.requests > 0);
    assert.equal(typeof later.latencyMs.p50, 'number');
    const notFound = await get(server.adminPort, '127.0.0.1', '/other');
    assert.equal(notFound.status, 404);
  });
});

describe('fixture sites: limits, failures, hand-back and reload', () => {
  let server: TestServer;
  before(async () => { server = await startFromYaml(FIXTURE_YAML, FIXTURE_FILES); });
  after(async () => { await server.stop(); });

  test('malformed requests are answered by the front (400/431) and never reach a worker', async () => {
    const cases: [string, RegExp][] = [
      ['GET /echo HTTP/1.1 junk\r\nHost: alpha.test\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET /echo HTTP/3.0\r\nHost: alpha.test\r\n\r\n', /^HTTP\/1\.1 505 /],
      ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', /^HTTP\/1\.1 400 /],
      [`GET /echo HTTP/1.1\r\nHost: alpha.test\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
      ['POST /echo HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['POST /echo HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd', /^HTTP\/1\.1 400 /],
      ['GET /echo HTTP/1.1\r\nHost: alpha.test\r\nX-Folded: a\r\n b\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET /../../etc/passwd HTTP/1.1\r\nHost: alpha.test\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET /echo HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 /],
    ];
    for (const [request, expected] of cases) {
      const reply = await raw(server.port, request);
      assert.match(reply, expected, JSON.stringify(request.slice(0, 60)));
      assert.match(reply, /Connection: close/);
    }
    await sleep(1200);
    const status = await serverStatus(server.adminPort);
    for (const pool of status.pools as any[]) assert.equal(pool.requests, 0, `${pool.label} served a malformed request`);
    assert.ok(status.front.rejected >= cases.length);
  });

  test('a connection handed to a worker stays open in no other process (no descriptor left behind per connection)', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    // The supervisor runs in this test process: every handle it relays passes through here.
    const open = (): number => readdirSync('/proc/self/fd').length;
    await get(server.port, 'alpha.test', '/echo');
    await sleep(200);
    const before = open();
    for (let i = 0; i < 60; i++) assert.equal((await get(server.port, 'alpha.test', '/echo')).status, 200);
    await sleep(300);
    assert.ok(open() - before < 10, `descriptors grew from ${before} to ${open()} over 60 connections`);
  });

  test('a chunked body is held to maxBodyBytes too: 413 once it passes the limit, and the worker lives on', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
      socket.on('close', () => resolve(text));
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(text) : reject(error)));
      socket.write('POST /echo HTTP/1.1\r\nHost: alpha.test\r\nTransfer-Encoding: chunked\r\n\r\n');
      // 25 MiB in 1 MiB chunks against a 20,000,000-byte limit; the server cuts in before the end.
      let sent = 0;
      const more = (): void => {
        while (sent < 25 && !socket.destroyed) {
          sent++;
          socket.write(`${chunk.length.toString(16)}\r\n`); socket.write(chunk); const ok = socket.write('\r\n');
          if (!ok) { socket.once('drain', more); return; }
        }
        if (!socket.destroyed) socket.write('0\r\n\r\n');
      };
      more();
    });
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /Connection: close/i);
    const after = await json(server.port, 'alpha.test', '/echo', { method: 'POST', body: 'small', headers: { 'transfer-encoding': 'chunked' } });
    assert.equal(after.bodyBytes, 5);
  });

  test('a 10 MB upload reaches the Node handler whole', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const reply = await json(server.port, 'alpha.test', '/echo', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(reply.bodyBytes, body.length);
    assert.equal(reply.method, 'POST');
  });

  test('Range requests on a static file', async () => {
    const reply = await get(server.port, 'alpha.test', '/digits.txt', { headers: { range: 'bytes=10-19' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.body.toString(), digits.slice(10, 20));
    assert.match(String(reply.headers['content-range']), /^bytes 10-19\/100$/);
  });

  test('a connection that switches hats is handed back and served by the other hat\'s pool', async () => {
    const conn = new RawConnection(server.port);
    const ask = async (path: string) => {
      conn.write(`GET ${path} HTTP/1.1\r\nHost: alpha.test\r\n\r\n`);
      const reply = await conn.response();
      assert.equal(reply.status, 200, reply.body);
      return JSON.parse(reply.body) as { hat: string; pid: number };
    };
    const first = await ask('/echo');
    assert.equal(first.hat, 'alpha.test');
    const second = await ask('/admin-area/x');
    assert.equal(second.hat, 'alpha-admin');
    assert.notEqual(second.pid, first.pid);
    const third = await ask('/echo?again');
    assert.equal(third.hat, 'alpha.test');
    // With a body, plain and chunked: the body travels back with the connection.
    conn.write('POST /admin-area/upload HTTP/1.1\r\nHost: alpha.test\r\nContent-Length: 5\r\n\r\nhello');
    const posted = await conn.response();
    assert.equal(posted.status, 200, posted.body);
    assert.deepEqual([JSON.parse(posted.body).hat, JSON.parse(posted.body).bodyBytes], ['alpha-admin', 5]);
    conn.write('POST /echo HTTP/1.1\r\nHost: alpha.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
    const chunkedReply = await conn.response();
    assert.equal(chunkedReply.status, 200, chunkedReply.body);
    assert.deepEqual([JSON.parse(chunkedReply.body).hat, JSON.parse(chunkedReply.body).bodyBytes], ['alpha.test', 7]);
    assert.equal(conn.closed, false);
    conn.close();
  });

  test('a crashing handler gives 500, its worker is replaced, a request in flight beside it is unaffected', async () => {
    const before = await json(server.port, 'alpha.test', '/echo');
    const agent = new Agent({ keepAlive: false });
    const slow = get(server.port, 'alpha.test', '/slow?ms=600', { agent });
    await sleep(100);
    const crash = await get(server.port, 'alpha.test', '/crash');
    assert.equal(crash.status, 500);
    const slowReply = await slow;
    assert.equal(slowReply.status, 200);
    let after = before;
    for (let i = 0; i < 40 && after.pid === before.pid; i++) { await sleep(100); after = await json(server.port, 'alpha.test', '/echo'); }
    assert.notEqual(after.pid, before.pid, 'the crashed worker was replaced');
    assert.equal(after.hat, 'alpha.test');
  });

  test('a hanging handler gets 504 after the request timeout', async () => {
    const started = Date.now();
    const reply = await get(server.port, 'alpha.test', '/hang');
    const elapsed = Date.now() - started;
    assert.equal(reply.status, 504);
    assert.ok(elapsed >= 1400 && elapsed < 6000, `504 after ${elapsed} ms`);
    const next = await get(server.port, 'alpha.test', '/echo');
    assert.equal(next.status, 200);
  });

  test('SIGHUP-style reload under load: no request fails, new pools take over', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const loop = async () => {
      while (running) {
        try {
          const reply = await get(server.port, 'alpha.test', '/echo', { agent });
          if (reply.status === 200) ok++;
          else failures.push(`status ${reply.status}`);
        } catch (error) { failures.push((error as Error).message); }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await sleep(500);
    const generation = (await serverStatus(server.adminPort)).generation as number;
    assert.equal(await server.supervisor.reload(), true);
    await sleep(1500);
    running = false;
    await Promise.all(loops);
    agent.destroy();
    assert.deepEqual(failures, [], server.messages.join('\n'));
    assert.ok(ok > 50, `only ${ok} requests`);
    const status = await serverStatus(server.adminPort);
    assert.equal(status.generation, generation + 1);
    assert.ok((status.pools as any[]).every((p) => p.generation === generation + 1));
  });
});

describe('a full queue', () => {
  let server: TestServer;
  before(async () => {
    server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
pool: { min: 1, max: 1, connectionsPerWorker: 1, queue: 1, requestTimeoutMs: 3000 }
sites:
  - serverName: q.test
    documentRoot: q
    locations:
      - prefix: /hang
        handler: { type: node, module: hang.mjs }
`, { 'hang.mjs': HANG, 'q/index.html': 'q\n' });
  });
  after(async () => { await server.stop(); });

  test('beyond the queue bound the front answers 503 with Retry-After', async () => {
    const busy = new RawConnection(server.port);
    busy.write('GET /hang HTTP/1.1\r\nHost: q.test\r\n\r\n');
    await sleep(300);
    const queued = new RawConnection(server.port);
    queued.write('GET / HTTP/1.1\r\nHost: q.test\r\n\r\n');
    await sleep(300);
    const refused = await raw(server.port, 'GET / HTTP/1.1\r\nHost: q.test\r\n\r\n');
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /Retry-After: \d+/);
    busy.close();
    queued.close();
  });
});
