// The worker's fast lane (src/server/raw-lane.ts): which requests it takes, the response heads it writes,
// that it answers exactly as node:http does, and that a client cannot crash or confuse it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { parseRequestHead, type RequestHead } from '../../src/server/http-head.js';
import { RawLane, responseHead, simpleRequest, type RawResponse } from '../../src/server/raw-lane.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { requestTarget } from '../../src/server/request-target.js';
import { get, openUp, PHP_SITE, raw, RawConnection, serverStatus, startFromYaml, type TestServer } from './helpers.js';

function head(text: string): RequestHead {
  const verdict = parseRequestHead(Buffer.from(text, 'latin1'), { maxHeaderBytes: 16384, maxBodyBytes: Infinity });
  assert.equal(verdict.kind, 'complete', text);
  return (verdict as { head: RequestHead }).head;
}

test('simpleRequest takes bodiless HTTP/1.1 GET and HEAD only; anything else is left to node:http', () => {
  const ok = simpleRequest(head('GET /a.php?x=1 HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n'));
  assert.deepEqual(ok && { method: ok.method, url: ok.url, headers: { ...ok.headers } }, { method: 'GET', url: '/a.php?x=1', headers: { host: 'a.test', accept: '*/*', connection: 'keep-alive' } });
  assert.equal(simpleRequest(head('HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'))?.method, 'HEAD');
  const refused = [
    'POST / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.0\r\nHost: a\r\n\r\n',
    'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nconstructor: x\r\n\r\n',
  ];
  for (const text of refused) assert.equal(simpleRequest(head(text)), undefined, text);
});

test('property: the host and path the lane routes by are what requestTarget makes of the same request (the node:http path)', () => {
  const hostName = fc.oneof(fc.stringMatching(/^[A-Za-z0-9.-]{1,20}$/), fc.constantFrom('[::1]', '[2001:DB8::1]', 'EXAMPLE.test.'));
  const port = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 65535 }).map((p) => `:${p}`), fc.constant(':'));
  const target = fc.tuple(fc.stringMatching(/^(\/[A-Za-z0-9._~%-]{0,8}){1,4}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9=&%?/]{0,12}$/))).map(([p, q]) => q === null ? p : `${p}?${q}`);
  fc.assert(fc.property(hostName, port, target, (name, suffix, url) => {
    const verdict = parseRequestHead(Buffer.from(`GET ${url} HTTP/1.1\r\nHost: ${name}${suffix}\r\n\r\n`, 'latin1'), { maxHeaderBytes: 16384, maxBodyBytes: Infinity });
    if (verdict.kind !== 'complete') return;
    const simple = simpleRequest(verdict.head);
    assert.ok(simple);
    assert.deepEqual({ host: simple.host, path: simple.path }, requestTarget(simple.url, simple.headers.host));
  }), { numRuns: 500 });
});

test('responseHead: status line, headers, Date unless given, framing, Connection; a header that could split the response throws', () => {
  const text = responseHead(200, undefined, ['Content-Type', 'text/html'], { contentLength: 5 }, 60);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\nContent-Type: text\/html\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n$/);
  assert.equal(responseHead(404, 'Gone Fishing', ['Date', 'x'], 'none', undefined), 'HTTP/1.1 404 Gone Fishing\r\nDate: x\r\nConnection: close\r\n\r\n');
  assert.match(responseHead(500, 'bad\r\nreason', [], 'chunked', 5), /^HTTP\/1\.1 500 Internal Server Error\r\nDate: .*\r\nTransfer-Encoding: chunked\r\n/);
  assert.throws(() => responseHead(200, undefined, ['X-A', 'one\r\nSet-Cookie: stolen=1'], 'none', 5));
  assert.throws(() => responseHead(200, undefined, ['X A', 'v'], 'none', 5));
  assert.throws(() => responseHead(200, undefined, ['X-A', 'nul\0'], 'none', 5));
});

test('responseHead: a frozen header list (shared, its lines kept) reads as its copy does, and an invalid one throws every time', () => {
  const shared = Object.freeze(['Content-Type', 'text/html', 'Date', 'then']);
  for (let i = 0; i < 3; i++) {
    assert.equal(responseHead(200, undefined, shared, { contentLength: 5 }, 60), responseHead(200, undefined, [...shared], { contentLength: 5 }, 60));
    assert.equal(responseHead(304, undefined, shared, 'none', undefined), 'HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\nDate: then\r\nConnection: close\r\n\r\n');
  }
  const forged = Object.freeze(['X-A', 'one\r\nSet-Cookie: stolen=1']);
  for (let i = 0; i < 3; i++) assert.throws(() => responseHead(200, undefined, forged, 'none', 5));
});

// Differential: for every request the lane takes, its headers are node:http's req.headers.
test('property: the headers the fast lane serves with are the ones node:http would give the handler', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => { seen.push(req.headers); res.end('ok'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const fieldName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
  const fieldValue = fc.stringMatching(/^[ -~]{0,20}$/).map((v) => v.trim());
  try {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8 }), async (fields) => {
      const text = `GET /x HTTP/1.1\r\nHost: h.test\r\n${fields.map(([n, v]) => `${n}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`;
      const verdict = parseRequestHead(Buffer.from(text, 'latin1'), { maxHeaderBytes: 16384, maxBodyBytes: Infinity });
      const simple = verdict.kind === 'complete' ? simpleRequest(verdict.head) : undefined;
      if (!simple) return; // node:http serves it: nothing to compare
      seen.length = 0;
      await raw(port, text, 500);
      assert.equal(seen.length, 1, text);
      assert.deepEqual({ ...simple.headers }, { ...seen[0] }, text);
    }), { numRuns: 60 });
  } finally {
    server.close();
  }
});

test('a response written after the client\'s FIN is dropped quietly: no uncaught error, the lane lets go', async () => {
  // The client sends a request and half-closes; the answer is written after node has ended our side too
  // (allowHalfOpen is off) but before 'close': the write fails and reports EPIPE on the next tick. (Seen
  // under wrk: the worker crashed when wrk closed its connections.)
  const outcome = await new Promise<{ ended: boolean; uncaught: unknown[]; errorListeners: number }>((resolve) => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => { uncaught.push(error); };
    process.on('uncaughtException', onUncaught);
    const server = createNetServer((socket: Socket) => {
      let out: RawResponse | undefined;
      new RawLane(socket, {
        serveSimple: (_lane, _request, response) => { out = response; return true; },
        ended: () => {},
        toHttp: () => { throw new Error('not expected'); },
      }, { maxHeaderBytes: 16384, idleTimeoutMs: 5000 });
      socket.on('end', () => {
        // Two ticks: after node's own end() of our side (scheduled when 'end' is emitted), before 'close'.
        process.nextTick(() => process.nextTick(() => {
          out!.whole(200, undefined, ['Content-Type', 'text/plain'], Buffer.from('late\n'), false);
          // Whether node emits that EPIPE depends on timing; when it does, it must find a listener.
          const errorListeners = socket.listenerCount('error');
          setTimeout(() => {
            process.off('uncaughtException', onUncaught);
            server.close();
            resolve({ ended: out!.ended, uncaught, errorListeners });
          }, 200);
        }));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      client.on('error', () => {});
      client.end('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      client.resume();
    });
  });
  assert.deepEqual(outcome.uncaught, []);
  assert.equal(outcome.ended, true);
  assert.ok(outcome.errorListeners > 0, 'the socket was left without an error listener');
});

test('the lane closes a connection idle for idleTimeoutMs, before and between requests, never one with a request in flight', async () => {
  const IDLE_MS = 300;
  let held: RawResponse | undefined;
  const server = createNetServer((socket: Socket) => {
    new RawLane(socket, {
      serveSimple: (_lane, request, response) => {
        if (request.url === '/slow') held = response; // answered later, by the test
        else response.whole(200, undefined, ['Content-Type', 'text/plain'], Buffer.from('ok\n'), false);
        return true;
      },
      ended: () => {},
      toHttp: () => { throw new Error('not expected'); },
    }, { maxHeaderBytes: 16384, idleTimeoutMs: IDLE_MS });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  /** Milliseconds from `send` until the server closes the connection, and what it answered. */
  const closedAfter = (requests: readonly string[], gapMs: number): Promise<{ ms: number; text: string }> => new Promise((resolve) => {
    const client = connect(port, '127.0.0.1');
    let text = '';
    let sentAt = Date.now();
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => { text += chunk; });
    client.on('error', () => {});
    client.on('close', () => resolve({ ms: Date.now() - sentAt, text }));
    client.on('connect', () => {
      requests.forEach((path, i) => setTimeout(() => { sentAt = Date.now(); client.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`); }, i * gapMs));
      if (requests.length === 0) sentAt = Date.now();
    });
  });
  try {
    const silent = await closedAfter([], 0);
    assert.ok(silent.ms >= IDLE_MS - 20 && silent.ms < IDLE_MS + 400, `a silent connection closed after ${silent.ms} ms`);
    // Requests 200 ms apart keep it open: each resets the deadline; it closes IDLE_MS after the last.
    const served = await closedAfter(['/a', '/b', '/c'], 200);
    assert.equal((served.text.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 3);
    assert.ok(served.ms >= IDLE_MS - 20 && served.ms < IDLE_MS + 400, `closed ${served.ms} ms after the last request`);
    // A request in flight for three idle timeouts is not cut: it is answered, then the idle time starts.
    const slow = closedAfter(['/slow'], 0);
    await new Promise((r) => setTimeout(r, 3 * IDLE_MS));
    held!.whole(200, undefined, ['Content-Type', 'text/plain'], Buffer.from('late\n'), false);
    const outcome = await slow;
    assert.match(outcome.text, /late\n$/);
    assert.ok(outcome.ms >= 4 * IDLE_MS - 20, `closed after ${outcome.ms} ms`);
  } finally {
    server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Served for real: a PHP site through hatter's own PHP-FPM, with the lane on and off.

const skip = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`;
const FILES: Record<string, string> = {
  'www/hello.php': '<?php echo "hello ", $_SERVER["REQUEST_METHOD"], " ", $_GET["x"] ?? "", " ", $_SERVER["HTTP_X_PROBE"] ?? "-", "\\n";',
  'www/status.php': '<?php header("Status: 404 Not Here"); header("X-Custom: yes"); echo "missing\\n";',
  'www/empty.php': '<?php http_response_code(204);',
  'www/redirect.php': '<?php header("Location: https://elsewhere.test/"); ',
  'www/big.php': '<?php echo str_repeat("0123456789abcdef", 8192);',
  'www/slow.php': '<?php usleep(300000); echo "slow\\n";',
  'www/post.php': '<?php echo "got ", file_get_contents("php://input"), "\\n";',
  'www/index.html': 'static\n',
  'www/mid.txt': 'm'.repeat(40 * 1024),
  'www/sub/index.php': '<?php echo "sub index\\n";',
  'www/dir.php/index.php': '<?php echo "a directory named like a script\\n";',
};
const SITE = (fastLane: boolean) => `listen: 127.0.0.1:0
backend: none
front: { fastLane: ${fastLane} }
pool: { min: 1, max: 1, requestTimeoutMs: 5000 }
${PHP_SITE}`;

let fast: (TestServer & { dir: string }) | undefined;
let slow: (TestServer & { dir: string }) | undefined;
before(async () => {
  if (skip) return;
  fast = await startFromYaml(SITE(true), FILES);
  slow = await startFromYaml(SITE(false), FILES);
  openUp(fast.dir);
  openUp(slow.dir);
});
after(async () => { await fast?.stop(); await slow?.stop(); });

/** Headers that differ between two answers of the same request for no fault of either (the two servers' files differ in mtime): dropped. */
function comparable(headers: IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, etag: _etag, 'last-modified': _modified, ...rest } = headers;
  return rest;
}

test('the fast lane answers as node:http does: status, reason, headers and body, for GET and HEAD, PHP and static files', { skip, timeout: 60_000 }, async () => {
  const cases: [string, string, Record<string, string>][] = [
    ['GET', '/hello.php?x=1', { 'x-probe': 'p' }], ['HEAD', '/hello.php', {}], ['GET', '/status.php', {}], ['GET', '/empty.php', {}],
    ['GET', '/redirect.php', {}], ['GET', '/big.php', {}], ['HEAD', '/big.php', {}], ['GET', '/missing.php', {}], ['HEAD', '/missing.php', {}],
    ['GET', '/sub', {}], ['GET', '/sub?x=2', {}], ['GET', '/sub/', {}], ['GET', '/sub/missing.php', {}], ['GET', '/dir.php?y=1', {}], ['HEAD', '/dir.php', {}],
    // Static: read by the lane, then from its cache; not there; over the cache size; refused paths.
    ['GET', '/index.html', {}], ['GET', '/index.html', {}], ['HEAD', '/index.html', {}], ['GET', '/index.html', { 'if-none-match': '*' }],
    ['GET', '/index.html', { range: 'bytes=0-2' }], ['GET', '/index.html', { 'if-match': '"nope"' }],
    ['GET', '/nothing.txt', {}], ['HEAD', '/nothing.txt', {}], ['GET', '/mid.txt', {}], ['HEAD', '/mid.txt', {}],
    ['GET', '/%2e%2e/etc/passwd', {}], ['GET', '/index.html/x', {}],
    // Targets too long for the lane's target caches: mapped afresh, answered the same.
    ['GET', `/index.html?${'q'.repeat(1500)}`, {}], ['GET', `/hello.php?x=${'a'.repeat(1500)}`, {}], ['GET', `/missing.php?${'m'.repeat(1500)}`, {}],
  ];
  for (const [method, path, headers] of cases) {
    const a = await get(fast!.port, 'php.test', path, { method, headers });
    const b = await get(slow!.port, 'php.test', path, { method, headers });
    assert.equal(a.status, b.status, `${method} ${path}`);
    assert.deepEqual(comparable(a.headers), comparable(b.headers), `${method} ${path}`);
    assert.equal(a.body.toString(), b.body.toString(), `${method} ${path}`);
  }
  const directory = await get(fast!.port, 'php.test', '/dir.php?y=1');
  assert.deepEqual([directory.status, directory.headers.location], [301, '/dir.php/?y=1']);
  assert.equal((await get(fast!.port, 'php.test', '/missing.php')).status, 404);
  const reason = await raw(fast!.port, 'GET /status.php HTTP/1.1\r\nHost: php.test\r\nConnection: close\r\n\r\n');
  assert.match(reason, /^HTTP\/1\.1 404 Not Here\r\n/);
});

test('pipelined requests in one write are answered in order, HEAD without a body; a POST behind them goes to node:http on the same connection', { skip, timeout: 30_000 }, async () => {
  const conn = new RawConnection(fast!.port);
  try {
    conn.write('GET /hello.php?x=1 HTTP/1.1\r\nHost: php.test\r\n\r\nHEAD /hello.php?x=2 HTTP/1.1\r\nHost: php.test\r\n\r\nGET /hello.php?x=3 HTTP/1.1\r\nHost: php.test\r\n\r\n');
    const first = await conn.response();
    assert.equal(first.body, 'hello GET 1 -\n');
    const second = await conn.response(); // HEAD: a head only (no Content-Length, so an empty body)
    assert.equal(second.status, 200);
    assert.equal(second.body, '');
    assert.equal((await conn.response()).body, 'hello GET 3 -\n');
    conn.write('POST /post.php HTTP/1.1\r\nHost: php.test\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbody');
    assert.equal((await conn.response()).body, 'got body\n');
    conn.write('GET /hello.php?x=4 HTTP/1.1\r\nHost: php.test\r\n\r\n');
    assert.equal((await conn.response()).body, 'hello GET 4 -\n');
  } finally {
    conn.close();
  }
});

test('a head split across writes, and Connection: close, are honoured', { skip, timeout: 30_000 }, async () => {
  const conn = new RawConnection(fast!.port);
  try {
    conn.write('GET /hello.php?x=5 HTTP/1.1\r\nHost: php.test\r\n\r\n');
    assert.equal((await conn.response()).body, 'hello GET 5 -\n');
    conn.write('GET /hello.php?x=6 HTTP/1.1\r\nHo');
    await new Promise((r) => setTimeout(r, 100));
    conn.write('st: php.test\r\n\r\n');
    assert.equal((await conn.response()).body, 'hello GET 6 -\n');
  } finally {
    conn.close();
  }
  const closed = await raw(fast!.port, 'GET /hello.php?x=7 HTTP/1.1\r\nHost: php.test\r\nConnection: close\r\n\r\nGET /hello.php?x=8 HTTP/1.1\r\nHost: php.test\r\n\r\n', 5000);
  assert.match(closed, /\r\nConnection: close\r\n/);
  assert.ok(closed.endsWith('hello GET 7 -\n'), closed);
});

test('clients that leave (half-close, reset) while PHP runs cannot crash the worker', { skip, timeout: 60_000 }, async () => {
  const before = fast!.messages.length;
  for (let i = 0; i < 8; i++) {
    await new Promise<void>((resolve) => {
      const socket = connect(fast!.port, '127.0.0.1');
      socket.on('error', () => {});
      // Half-close right after the request: node ends our side, and the answer comes after.
      socket.end('GET /slow.php HTTP/1.1\r\nHost: php.test\r\n\r\n');
      socket.on('close', () => resolve());
      socket.resume();
      if (i % 2) setTimeout(() => socket.resetAndDestroy(), 50);
    });
  }
  await new Promise((r) => setTimeout(r, 800));
  const later = fast!.messages.slice(before).filter((m) => /retires|exited|crash/.test(m));
  assert.deepEqual(later, [], 'a worker crashed or retired');
  assert.equal((await get(fast!.port, 'php.test', '/hello.php?x=9')).body.toString(), 'hello GET 9 -\n');
});

/** Connections the workers of every pool hold open, as the status page reports them. */
async function openConnections(server: TestServer): Promise<number> {
  const status = await serverStatus(server.adminPort);
  return (status.pools as { workers: { connections: number }[] }[]).reduce((sum, pool) => sum + pool.workers.reduce((n, w) => n + w.connections, 0), 0);
}

test('a connection the lane closes (Connection: close) is closed on both sides: the worker holds none afterwards', { skip, timeout: 30_000 }, async () => {
  for (let i = 0; i < 4; i++) {
    const reply = await raw(fast!.port, `GET /hello.php?x=${i} HTTP/1.1\r\nHost: php.test\r\nConnection: close\r\n\r\n`, 5000);
    assert.match(reply, /hello GET/);
  }
  // A socket the lane stopped reading never saw the client's FIN and stayed open (half-closed).
  const deadline = Date.now() + 5000;
  let open = await openConnections(fast!);
  while (open > 0 && Date.now() < deadline) { await new Promise((r) => setTimeout(r, 200)); open = await openConnections(fast!); }
  assert.equal(open, 0);
});

test('stopping the server with an idle keep-alive connection in the lane takes seconds, not the drain timeout', { skip, timeout: 60_000 }, async () => {
  const server = await startFromYaml(SITE(true), FILES);
  openUp(server.dir);
  const conn = new RawConnection(server.port);
  try {
    conn.write('GET /hello.php?x=1 HTTP/1.1\r\nHost: php.test\r\n\r\n');
    assert.equal((await conn.response()).body, 'hello GET 1 -\n');
    const started = Date.now();
    await server.stop(); // the drain timeout is 10 s: an idle connection that never closes costs all of it
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 6000, `stop took ${elapsed} ms`);
  } finally {
    conn.close();
  }
});
