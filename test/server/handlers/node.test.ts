import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeHandler } from '../../../src/server/handlers/index.js';
import { send, serveHandler, type Harness } from './harness.js';

const APP = `
let loads = (globalThis.__hatterLoads ?? 0) + 1;
globalThis.__hatterLoads = loads;
export default async function handler(request) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case '/hello': return new Response('Hello, world!\\n', { headers: { 'content-type': 'text/plain' } });
    case '/loads': return new Response(String(loads));
    case '/url': return new Response(request.url);
    case '/first-chunk': {
      const reader = request.body.getReader();
      const { value } = await reader.read();
      return new Response('first chunk of ' + (value ? value.length : 0));
    }
    case '/request-api': {
      const copy = request.clone();
      const rebuilt = new Request(request);
      return Response.json({
        isRequest: request instanceof Request,
        tag: Object.prototype.toString.call(request),
        method: request.method,
        header: request.headers.get('x-probe'),
        bodyUsed: request.bodyUsed,
        cloneUrl: copy.url,
        cloneHeader: copy.headers.get('x-probe'),
        cloneBody: await copy.text(),
        rebuiltUrl: rebuilt.url,
        rebuiltMethod: rebuilt.method,
        signalIsAbortSignal: request.signal instanceof AbortSignal,
        redirect: request.redirect,
      });
    }
    case '/form': {
      const form = await request.formData();
      return Response.json({ name: form.get('name'), bodyUsed: request.bodyUsed });
    }
    case '/count': {
      let bytes = 0;
      for await (const chunk of request.body) bytes += chunk.byteLength;
      return new Response(String(bytes));
    }
    case '/utf8': return new Response('héllo ✓');
    case '/bytes': return new Response(new TextEncoder().encode('bytes!'), { status: 202, statusText: 'Accepted Later' });
    case '/echo': {
      const body = await request.text();
      return new Response(JSON.stringify({ method: request.method, body, type: request.headers.get('content-type'), query: url.searchParams.get('q') }),
        { status: 201, headers: { 'content-type': 'application/json' } });
    }
    case '/cookies': {
      const headers = new Headers();
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response(null, { status: 204, headers });
    }
    case '/stream': {
      let n = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (n === 3) { controller.close(); return; }
          await new Promise((r) => setTimeout(r, 20));
          controller.enqueue(new TextEncoder().encode('chunk' + n++ + '\\n'));
        },
      });
      return new Response(stream);
    }
    case '/big': return new Response(new Uint8Array(2 * 1024 * 1024).fill(65));
    case '/throw': throw new Error('secret internal detail /etc/shadow');
    case '/broken-stream': {
      const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('partial')); }, async pull(c) { await new Promise((r) => setTimeout(r, 50)); c.error(new Error('boom')); } });
      return new Response(stream);
    }
    case '/hang': return new Promise((resolve, reject) => { request.signal.addEventListener('abort', () => reject(new Error('aborted'))); });
    case '/not-a-response': return 'oops';
    default: return new Response('nope', { status: 404 });
  }
}
`;

describe('node handler', () => {
  let dir: string;
  let harness: Harness;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hatter-node-'));
    writeFileSync(join(dir, 'app.mjs'), APP);
    writeFileSync(join(dir, 'named.cjs'), "exports.handler = () => new Response('from cjs');\n");
    writeFileSync(join(dir, 'nothing.mjs'), 'export const x = 1;\n');
    harness = await serveHandler(new NodeHandler({ module: 'app.mjs' }, dir), { abortAfterMs: 300 });
  });
  after(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the fetch-style handler, with a Content-Length for a complete body', async () => {
    const reply = await send(harness.port, 'GET', '/hello');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'Hello, world!\n');
    assert.equal(reply.headers['content-type'], 'text/plain');
    assert.equal(reply.headers['content-length'], '14');
  });

  it('sends string and byte bodies whole, with their byte length and status text', async () => {
    const utf8 = await send(harness.port, 'GET', '/utf8');
    assert.equal(utf8.text, 'héllo ✓');
    assert.equal(utf8.headers['content-length'], String(Buffer.byteLength('héllo ✓')));
    const bytes = await send(harness.port, 'GET', '/bytes');
    assert.equal(bytes.status, 202);
    assert.equal(bytes.text, 'bytes!');
    assert.equal(bytes.headers['content-length'], '6');
  });

  it('builds the URL from a plain Host only', async () => {
    assert.equal((await send(harness.port, 'GET', '/url?a=1', { Host: 'alice.localhost:8080' })).text, 'http://alice.localhost:8080/url?a=1');
    assert.equal((await send(harness.port, 'GET', '/url', { Host: 'evil.example/other?' })).text, `http://test.localhost:${harness.port}/url`);
    assert.equal((await send(harness.port, 'GET', '/url', { Host: 'user@evil.example' })).text, `http://test.localhost:${harness.port}/url`);
  });

  it('serializes the URL as a Request would', async () => {
    assert.equal((await send(harness.port, 'GET', '/a/./b/../../url?x', { Host: 'ALICE.localhost:80' })).text, 'http://alice.localhost/url?x');
  });

  it('gives the handler a real Request when it needs more than method, url and headers', async () => {
    const get = JSON.parse((await send(harness.port, 'GET', '/request-api?x=1', { 'X-Probe': 'seen' })).text);
    assert.deepEqual(get, {
      isRequest: true, tag: '[object Request]', method: 'GET', header: 'seen', bodyUsed: false,
      cloneUrl: `http://127.0.0.1:${harness.port}/request-api?x=1`, cloneHeader: 'seen', cloneBody: '',
      rebuiltUrl: `http://127.0.0.1:${harness.port}/request-api?x=1`, rebuiltMethod: 'GET', signalIsAbortSignal: true, redirect: 'follow',
    });
    const post = JSON.parse((await send(harness.port, 'POST', '/request-api', { 'X-Probe': 'posted' }, 'the body')).text);
    assert.equal(post.method, 'POST');
    assert.equal(post.cloneBody, 'the body');
    assert.equal(post.cloneHeader, 'posted');
    const form = await send(harness.port, 'POST', '/form', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'name=h%C3%A4tter&x=1');
    assert.deepEqual(JSON.parse(form.text), { name: 'hätter', bodyUsed: true });
  });

  it('streams a large upload to the handler as it arrives', async () => {
    // The handler answers after the first chunk while the client has not finished sending: the body
    // is not buffered before the handler runs.
    const early = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: harness.port, method: 'POST', path: '/first-chunk', headers: { 'Content-Length': String(10 * 1024 * 1024) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => { req.destroy(); resolve(text); });
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(64 * 1024, 97), (error) => { if (error) reject(error); });
    });
    assert.match(early, /^first chunk of \d+$/);
    const total = 10 * 1024 * 1024;
    const counted = await send(harness.port, 'POST', '/count', {}, Buffer.alloc(total, 98));
    assert.equal(counted.text, String(total));
  });

  it('loads the module once', async () => {
    await send(harness.port, 'GET', '/hello');
    assert.equal((await send(harness.port, 'GET', '/loads')).text, '1');
    assert.equal((await send(harness.port, 'GET', '/loads')).text, '1');
  });

  it('passes method, headers, query and a streamed request body', async () => {
    const reply = await send(harness.port, 'POST', '/echo?q=x%20y', { 'Content-Type': 'text/plain' }, 'posted body');
    assert.equal(reply.status, 201);
    assert.deepEqual(JSON.parse(reply.text), { method: 'POST', body: 'posted body', type: 'text/plain', query: 'x y' });
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: harness.port, method: 'PUT', path: '/echo' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('part one, ');
      setTimeout(() => req.end('part two'), 30);
    });
    assert.equal(JSON.parse(chunked).body, 'part one, part two');
  });

  it('keeps the connection usable when the handler reads none or part of a large body', async () => {
    // Three requests written back to back on one socket: the two large bodies must be discarded
    // after their responses, or the third request is never parsed.
    const big = 'x'.repeat(1024 * 1024);
    const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\n\r\n${big}`;
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(harness.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if ((received.match(/HTTP\/1\.1 200/g) ?? []).length === 3 && received.endsWith('Hello, world!\n')) {
          socket.end();
          resolve(received);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
      socket.write(post('/hello') + post('/first-chunk') + 'GET /hello HTTP/1.1\r\nHost: a\r\n\r\n');
    });
    const bodies = text.split(/HTTP\/1\.1 200 OK\r\n/).slice(1).map((response) => response.slice(response.indexOf('\r\n\r\n') + 4));
    assert.equal(bodies.length, 3, text.slice(0, 500));
    assert.equal(bodies[0], 'Hello, world!\n');
    assert.match(bodies[1]!, /^first chunk of \d+$/);
    assert.equal(bodies[2], 'Hello, world!\n');
  });

  it('sends every Set-Cookie and bodiless statuses', async () => {
    const reply = await send(harness.port, 'GET', '/cookies');
    assert.equal(reply.status, 204);
    assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('streams a body chunk by chunk as the handler produces it', async () => {
    const arrivals = await new Promise<string[]>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: harness.port, path: '/stream' }, (res) => {
        const seen: string[] = [];
        assert.equal(res.headers['transfer-encoding'], 'chunked');
        res.setEncoding('utf8').on('data', (c: string) => seen.push(c)).on('end', () => resolve(seen));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(arrivals.join(''), 'chunk0\nchunk1\nchunk2\n');
    assert.ok(arrivals.length >= 2, `expected separate chunks, got ${JSON.stringify(arrivals)}`);
  });

  it('streams a large body completely', async () => {
    const reply = await send(harness.port, 'GET', '/big');
    assert.equal(reply.body.length, 2 * 1024 * 1024);
  });

  it('answers HEAD without a body', async () => {
    const reply = await send(harness.port, 'HEAD', '/hello');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, 0);
  });

  it('turns a throwing handler into a short 500 without internals', async () => {
    const reply = await send(harness.port, 'GET', '/throw');
    assert.equal(reply.status, 500);
    assert.equal(reply.text, '500 Internal Server Error\n');
    const bad = await send(harness.port, 'GET', '/not-a-response');
    assert.equal(bad.status, 500);
    // the worker keeps serving
    assert.equal((await send(harness.port, 'GET', '/hello')).status, 200);
  });

  it('cuts a response whose body stream fails midway, so the client sees it incomplete', async () => {
    await assert.rejects(send(harness.port, 'GET', '/broken-stream'));
  });

  it('aborts a hanging handler through ctx.signal with 504', async () => {
    const started = Date.now();
    const reply = await send(harness.port, 'GET', '/hang');
    assert.equal(reply.status, 504);
    assert.ok(Date.now() - started < 3000);
  });

  it('loads CommonJS `handler` exports and reports a module without a handler as 500', async () => {
    const cjs = await serveHandler(new NodeHandler({ module: join(dir, 'named.cjs') }, '/'));
    const none = await serveHandler(new NodeHandler({ module: 'nothing.mjs' }, dir));
    const missing = await serveHandler(new NodeHandler({ module: 'missing.mjs' }, dir));
    try {
      assert.equal((await send(cjs.port, 'GET', '/')).text, 'from cjs');
      assert.equal((await send(none.port, 'GET', '/')).status, 500);
      const reply = await send(missing.port, 'GET', '/');
      assert.equal(reply.status, 500);
      assert.doesNotMatch(reply.text, /missing\.mjs|hatter-node-/);
    } finally {
      await Promise.all([cjs.close(), none.close(), missing.close()]);
    }
  });
});
