import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRequestHead, type HeadVerdict } from '../../src/server/http-head.js';

const limits = { maxHeaderBytes: 8192, maxBodyBytes: 1_000_000 };
const parse = (text: string, l = limits): HeadVerdict => parseRequestHead(Buffer.from(text, 'latin1'), l);

function complete(text: string) {
  const verdict = parse(text);
  assert.equal(verdict.kind, 'complete', JSON.stringify(verdict));
  if (verdict.kind !== 'complete') throw new Error('unreachable');
  return verdict.head;
}

function rejected(text: string, status: number, code?: string): void {
  const verdict = parse(text);
  assert.equal(verdict.kind, 'error', `expected an error for ${JSON.stringify(text)}`);
  if (verdict.kind !== 'error') return;
  assert.equal(verdict.status, status, verdict.reason);
  if (code) assert.equal(verdict.code, code);
}

test('a simple GET: method, target, host without port, keep-alive, head length', () => {
  const text = 'GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t\r\n\r\nNEXT';
  const head = complete(text);
  assert.equal(head.method, 'GET');
  assert.equal(head.path, '/a/b');
  assert.equal(head.query, 'x=1');
  assert.equal(head.host, 'example.com');
  assert.equal(head.keepAlive, true);
  assert.equal(head.contentLength, null);
  assert.equal(head.headLength, text.length - 4);
});

test('incomplete heads wait for more bytes', () => {
  assert.equal(parse('GET / HTTP/1.1\r\nHost: a\r\n').kind, 'incomplete');
  assert.equal(parse('').kind, 'incomplete');
  assert.equal(parse('\r\n').kind, 'incomplete');
});

test('HTTP/1.0 closes by default, keep-alive on request; Connection: close in 1.1', () => {
  assert.equal(complete('GET / HTTP/1.0\r\n\r\n').keepAlive, false);
  assert.equal(complete('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive, true);
  assert.equal(complete('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n').keepAlive, false);
});

test('absolute-form targets take the host from the target', () => {
  const head = complete('GET http://Bob.Localhost:80/read?path=x HTTP/1.1\r\nHost: other\r\n\r\n');
  assert.equal(head.host, 'bob.localhost');
  assert.equal(head.path, '/read');
});

test('bad request lines are 400', () => {
  rejected('GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  rejected('GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n', 400);
  rejected('G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'http/bad-method');
  rejected('GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n', 400, 'http/bad-target');
  rejected('GET / HTTX/1.1\r\nHost: a\r\n\r\n', 400, 'http/bad-version');
  rejected('GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505);
  rejected('GET\r\nHost: a\r\n\r\n', 400, 'http/bad-request-line');
  rejected('GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400);
  rejected('CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n', 501);
});

test('smuggling shapes are refused: CL+TE, differing CLs, obs-fold, bare LF/CR, space before colon', () => {
  rejected('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'http/content-length-and-transfer-encoding');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 400, 'http/content-length-and-transfer-encoding');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400, 'http/conflicting-content-length');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n', 400, 'http/conflicting-content-length');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n', 400, 'http/bad-content-length');
  rejected('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400, 'http/obs-fold');
  rejected('GET / HTTP/1.1\nHost: a\r\n\r\n', 400, 'http/bare-lf');
  rejected('GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n', 400, 'http/bare-cr');
  rejected('GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, 'http/bad-header-name');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 400, 'http/bad-transfer-encoding');
  rejected('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 501);
  rejected('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'http/transfer-encoding-http10');
  rejected('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'http/duplicate-host');
  rejected('GET / HTTP/1.1\r\n\r\n', 400, 'http/missing-host');
  rejected('GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'http/bad-host');
  rejected('GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n', 400);
});

test('identical repeated Content-Length values are one length; chunked alone is fine', () => {
  assert.equal(complete('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').contentLength, 5);
  assert.equal(complete('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n').chunked, true);
});

test('limits: an oversized head is 431 (even before its end arrives), an oversized body 413', () => {
  const small = { maxHeaderBytes: 256, maxBodyBytes: 10 };
  const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(400)}\r\n\r\n`;
  const verdict = parseRequestHead(Buffer.from(big), small);
  assert.equal(verdict.kind === 'error' && verdict.status, 431);
  const partial = parseRequestHead(Buffer.from(big.slice(0, 300)), small);
  assert.equal(partial.kind === 'error' && partial.status, 431);
  const body = parseRequestHead(Buffer.from('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n'), small);
  assert.equal(body.kind === 'error' && body.status, 413);
});

// ── properties ───────────────────────────────────────────────────────────────────────────────────
const tchar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&\'*+-.^_`|~'.split(''));
const token = fc.array(tchar, { minLength: 1, maxLength: 12 }).map((a) => a.join(''));
const pathChar = fc.constantFrom(...'abcXYZ019-._~/%?=&'.split(''));
const target = fc.array(pathChar, { maxLength: 30 }).map((a) => `/${a.join('')}`);
const valueChar = fc.constantFrom(...'abc XYZ 019-._~/:;,"=()\t'.split(''));
const fieldValue = fc.array(valueChar, { maxLength: 30 }).map((a) => a.join('').trim());
const reserved = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);
const header = fc.tuple(token, fieldValue).filter(([name]) => !reserved.has(name.toLowerCase()));
const validHead = fc.record({ method: token, target, host: fc.constantFrom('a', 'alice.localhost', 'b.example:8080', '[::1]:80'), headers: fc.array(header, { maxLength: 8 }) })
  .map(({ method, target, host, headers }) => `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);

test('property: every head built from the grammar is accepted, with the right length', () => {
  fc.assert(fc.property(validHead, (text) => {
    const verdict = parse(text);
    assert.equal(verdict.kind, 'complete', `${JSON.stringify(text)} → ${JSON.stringify(verdict)}`);
    if (verdict.kind === 'complete') assert.equal(verdict.head.headLength, Buffer.byteLength(text, 'latin1'));
  }), { numRuns: 500 });
});

test('property: a valid head cut short is incomplete, never an error', () => {
  fc.assert(fc.property(validHead, fc.nat(), (text, cut) => {
    const at = cut % text.length;
    const verdict = parse(text.slice(0, at));
    assert.equal(verdict.kind, 'incomplete', `${JSON.stringify(text.slice(0, at))}`);
  }), { numRuns: 500 });
});

test('property: injecting a bare LF, a NUL or a folded line into a valid head makes it an error', () => {
  const corrupt = fc.constantFrom('\n', '\x00', '\r\n folded');
  fc.assert(fc.property(validHead, corrupt, fc.nat(), (text, bad, where) => {
    const lineEnds = [...text.matchAll(/\r\n/g)].map((m) => m.index!).filter((i) => i < text.length - 4);
    const at = bad === '\r\n folded' ? lineEnds[where % lineEnds.length]! : 1 + (where % (text.length - 5));
    const mutated = text.slice(0, at) + bad + text.slice(at);
    const verdict = parse(mutated);
    assert.equal(verdict.kind, 'error', `${JSON.stringify(mutated)} → ${JSON.stringify(verdict)}`);
  }), { numRuns: 500 });
});

test('fuzz: arbitrary bytes never throw and finish quickly', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
    const started = performance.now();
    const verdict = parseRequestHead(bytes, { maxHeaderBytes: 1024, maxBodyBytes: 100 });
    assert.ok(['incomplete', 'complete', 'error'].includes(verdict.kind));
    assert.ok(performance.now() - started < 500, "one parse took over 500 ms");
  }), { numRuns: 2000 });
  // A large head of header lines is parsed in linear time.
  const many = `GET / HTTP/1.1\r\nHost: a\r\n${'X-A: b\r\n'.repeat(100_000)}\r\n`;
  const started = performance.now();
  const verdict = parseRequestHead(Buffer.from(many), { maxHeaderBytes: 2_000_000, maxBodyBytes: 0 });
  assert.equal(verdict.kind, 'complete');
  assert.ok(performance.now() - started < 1000);
});
