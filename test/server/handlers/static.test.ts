import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { HandlerContext, ResponseWriter, SimpleRequest } from '../../../src/server/handler.js';
import { StaticHandler } from '../../../src/server/handlers/index.js';
import { parseRange } from '../../../src/server/handlers/conditional.js';
import { contentTypeFor } from '../../../src/server/handlers/mime.js';
import { isRefusal, pathSegments } from '../../../src/server/handlers/request-path.js';
import { send, serveHandler, type Harness } from './harness.js';

describe('static handler', () => {
  let dir: string;
  let harness: Harness;
  const alphabet = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hatter-static-'));
    const root = join(dir, 'public');
    mkdirSync(join(root, 'docs'), { recursive: true });
    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'index.html'), '<h1>home</h1>\n');
    writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>\n');
    writeFileSync(join(root, 'letters.txt'), alphabet);
    writeFileSync(join(root, 'style.CSS'), 'body{}');
    writeFileSync(join(root, 'app.js'), 'x');
    writeFileSync(join(root, 'logo.svg'), '<svg/>');
    writeFileSync(join(root, 'data.bin'), Buffer.from([1, 2, 3]));
    writeFileSync(join(root, 'a b.txt'), 'spaced');
    writeFileSync(join(root, 'big.dat'), Buffer.alloc(300 * 1024, 7));
    utimesSync(join(root, 'letters.txt'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
    writeFileSync(join(dir, 'secret.txt'), 'alice secret');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'escape.txt'));
    symlinkSync(dir, join(root, 'up'));
    symlinkSync(join(root, 'letters.txt'), join(root, 'inside-link.txt'));
    harness = await serveHandler(new StaticHandler({ root: 'public' }, dir));
  });
  after(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a small file again from memory only while it is unchanged: new bytes, a swapped file, a symlink out of the root, removal', async () => {
    const root = join(dir, 'public');
    const path = join(root, 'cached.txt');
    writeFileSync(path, 'first');
    utimesSync(path, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
    assert.equal((await send(harness.port, 'GET', '/cached.txt')).body.toString(), 'first');
    assert.equal((await send(harness.port, 'GET', '/cached.txt')).body.toString(), 'first');
    // Same size, same mtime: only the change time (and the inode for the rename) tell. The kernel's
    // change time is as coarse as its clock tick: let one pass.
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, 'secon');
    utimesSync(path, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-01T00:00:00Z'));
    assert.equal((await send(harness.port, 'GET', '/cached.txt')).body.toString(), 'secon');
    writeFileSync(join(root, 'other.tmp'), 'third');
    renameSync(join(root, 'other.tmp'), path);
    const third = await send(harness.port, 'GET', '/cached.txt');
    assert.equal(third.body.toString(), 'third');
    const etag = third.headers.etag as string;
    assert.equal((await send(harness.port, 'GET', '/cached.txt', { 'if-none-match': etag })).status, 304);
    assert.equal((await send(harness.port, 'HEAD', '/cached.txt')).headers['content-length'], '5');
    unlinkSync(path);
    symlinkSync(join(dir, 'secret.txt'), path);
    const escaped = await send(harness.port, 'GET', '/cached.txt');
    assert.notEqual(escaped.status, 200);
    assert.ok(!escaped.body.toString().includes('alice secret'));
    unlinkSync(path);
    assert.equal((await send(harness.port, 'GET', '/cached.txt')).status, 404);
  });

  it('the fast lane answers every whole file it can itself, read or cached, and its 404 and 403; only directories, ranges and large files go to node:http', async () => {
    const root = join(dir, 'public');
    writeFileSync(join(root, 'lane-a.txt'), 'lane a');
    writeFileSync(join(root, 'lane-b.txt'), 'lane b');
    symlinkSync(join(root, 'lane-a.txt'), join(root, 'lane-link.txt'));
    writeFileSync(join(root, 'mid.dat'), Buffer.alloc(40 * 1024, 3));
    const handler = new StaticHandler({ root: 'public' }, dir);
    const laneServe = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => {
      const out = new RecordingWriter();
      const request: SimpleRequest = { method, url, headers: { host: 'test', ...headers }, host: 'test', path: url.split('?')[0]! };
      return handler.serveRaw(request, out, laneContext) ? out : undefined;
    };
    // Never served before (nothing cached, the root never resolved by node:http): the lane reads it.
    assert.equal(laneServe('/lane-a.txt')?.body?.toString(), 'lane a');
    assert.equal(laneServe('/lane-a.txt')?.code, 200);
    assert.deepEqual(laneServe('/mid.dat')?.body, Buffer.alloc(40 * 1024, 3), 'over the cache size, under SMALL_FILE: read each time');
    assert.equal(laneServe('/nope.txt')?.code, 404);
    assert.equal(laneServe('/letters.txt/more')?.code, 404);
    assert.equal(laneServe('/escape.txt')?.code, 403);
    assert.equal(laneServe('/escape.txt')?.body, undefined, 'no bytes of the file outside the root');
    const etag = laneServe('/lane-a.txt')!.headers[laneServe('/lane-a.txt')!.headers.indexOf('ETag') + 1]!;
    assert.equal(laneServe('/lane-a.txt', { 'if-none-match': etag })?.code, 304);
    assert.equal(laneServe('/lane-a.txt', {}, 'HEAD')?.code, 200);
    for (const [url, headers] of [['/docs', {}], ['/docs/', {}], ['/', {}], ['/big.dat', {}], ['/lane-a.txt', { range: 'bytes=0-1' }], ['/lane-a.txt', { 'if-match': '"x"' }], ['/%2e%2e/secret.txt', {}]] as const) {
      assert.equal(laneServe(url, headers), undefined, `${url} ${JSON.stringify(headers)}`);
    }
    // The link's target is changed: within CACHE_PATH_MS the old mapping may stand; after it, the new
    // file is served, and an unchanged file is still the lane's (it used to be dropped from the cache
    // and its connection handed to node:http for good).
    assert.equal(laneServe('/lane-link.txt')?.body?.toString(), 'lane a');
    unlinkSync(join(root, 'lane-link.txt'));
    symlinkSync(join(root, 'lane-b.txt'), join(root, 'lane-link.txt'));
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(laneServe('/lane-link.txt')?.body?.toString(), 'lane b');
    assert.equal(laneServe('/lane-a.txt')?.body?.toString(), 'lane a');
    unlinkSync(join(root, 'lane-link.txt'));
    symlinkSync(join(dir, 'secret.txt'), join(root, 'lane-link.txt'));
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(laneServe('/lane-link.txt')?.code, 403);
  });

  it('serves a file with its type, length, ETag and Last-Modified', async () => {
    const reply = await send(harness.port, 'GET', '/letters.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, alphabet.toString());
    assert.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(reply.headers['content-length'], '36');
    assert.equal(reply.headers['last-modified'], 'Tue, 02 Jan 2024 03:04:05 GMT');
    assert.match(reply.headers.etag ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(reply.headers['accept-ranges'], 'bytes');
  });

  it('answers HEAD with the headers and no body', async () => {
    const reply = await send(harness.port, 'HEAD', '/letters.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '36');
    assert.equal(reply.body.length, 0);
  });

  it('gives the same ETag twice and 304 for If-None-Match and If-Modified-Since', async () => {
    const first = await send(harness.port, 'GET', '/letters.txt');
    const second = await send(harness.port, 'GET', '/letters.txt');
    assert.equal(first.headers.etag, second.headers.etag);
    const etag = first.headers.etag!;
    const byTag = await send(harness.port, 'GET', '/letters.txt', { 'If-None-Match': `"nope", ${etag}` });
    assert.equal(byTag.status, 304);
    assert.equal(byTag.body.length, 0);
    assert.equal(byTag.headers.etag, etag);
    const weak = await send(harness.port, 'GET', '/letters.txt', { 'If-None-Match': `W/${etag}` });
    assert.equal(weak.status, 304, 'If-None-Match uses the weak comparison');
    const byDate = await send(harness.port, 'GET', '/letters.txt', { 'If-Modified-Since': 'Tue, 02 Jan 2024 03:04:05 GMT' });
    assert.equal(byDate.status, 304);
    const older = await send(harness.port, 'GET', '/letters.txt', { 'If-Modified-Since': 'Mon, 01 Jan 2024 00:00:00 GMT' });
    assert.equal(older.status, 200);
    const tagWins = await send(harness.port, 'GET', '/letters.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': 'Tue, 02 Jan 2030 03:04:05 GMT' });
    assert.equal(tagWins.status, 200, 'If-Modified-Since is ignored when If-None-Match is present');
  });

  it('answers 412 when If-Match fails', async () => {
    assert.equal((await send(harness.port, 'GET', '/letters.txt', { 'If-Match': '"other"' })).status, 412);
    const etag = (await send(harness.port, 'GET', '/letters.txt')).headers.etag!;
    assert.equal((await send(harness.port, 'GET', '/letters.txt', { 'If-Match': etag })).status, 200);
  });

  it('serves single byte ranges with 206 and Content-Range', async () => {
    const middle = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=10-15' });
    assert.equal(middle.status, 206);
    assert.equal(middle.text, 'abcdef');
    assert.equal(middle.headers['content-range'], 'bytes 10-15/36');
    assert.equal(middle.headers['content-length'], '6');
    const suffix = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=-3' });
    assert.equal(suffix.text, 'xyz');
    const open = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=33-' });
    assert.equal(open.text, 'xyz');
    const clamped = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=34-1000' });
    assert.equal(clamped.text, 'yz');
    assert.equal(clamped.headers['content-range'], 'bytes 34-35/36');
  });

  it('answers 416 for an unsatisfiable range and ignores a malformed one', async () => {
    const beyond = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=36-40' });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], 'bytes */36');
    const malformed = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=5-2' });
    assert.equal(malformed.status, 200);
    assert.equal(malformed.body.length, 36);
    const otherUnit = await send(harness.port, 'GET', '/letters.txt', { Range: 'items=0-1' });
    assert.equal(otherUnit.status, 200);
  });

  it('sends multipart/byteranges for several ranges', async () => {
    const reply = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=0-1,-2' });
    assert.equal(reply.status, 206);
    const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(reply.headers['content-type'] ?? '')?.[1];
    assert.ok(boundary, `content-type was ${reply.headers['content-type']}`);
    assert.equal(Number(reply.headers['content-length']), reply.body.length);
    const expected = `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-1/36\r\n\r\n01` +
      `\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 34-35/36\r\n\r\nyz` +
      `\r\n--${boundary}--\r\n`;
    assert.equal(reply.text, expected);
  });

  it('honours If-Range: a matching ETag gives 206, a stale one the whole file', async () => {
    const etag = (await send(harness.port, 'GET', '/letters.txt')).headers.etag!;
    const fresh = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=0-0', 'If-Range': etag });
    assert.equal(fresh.status, 206);
    assert.equal(fresh.text, '0');
    const stale = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=0-0', 'If-Range': '"stale"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, 36);
    const date = await send(harness.port, 'GET', '/letters.txt', { Range: 'bytes=0-0', 'If-Range': 'Tue, 02 Jan 2024 03:04:05 GMT' });
    assert.equal(date.status, 206);
  });

  it('streams a large file whole and in a range', async () => {
    const whole = await send(harness.port, 'GET', '/big.dat');
    assert.equal(whole.status, 200);
    assert.equal(whole.body.length, 300 * 1024);
    assert.ok(whole.body.every((b) => b === 7));
    const part = await send(harness.port, 'GET', '/big.dat', { Range: 'bytes=100000-299999' });
    assert.equal(part.status, 206);
    assert.equal(part.body.length, 200000);
  });

  it('serves the directory index and redirects a directory without its slash', async () => {
    const home = await send(harness.port, 'GET', '/');
    assert.equal(home.status, 200);
    assert.equal(home.text, '<h1>home</h1>\n');
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    const docs = await send(harness.port, 'GET', '/docs/');
    assert.equal(docs.text, '<h1>docs</h1>\n');
    const redirect = await send(harness.port, 'GET', '/docs?x=1');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/docs/?x=1');
    assert.equal((await send(harness.port, 'GET', '/empty/')).status, 403, 'no index and no listing');
  });

  it('gives the right MIME types', async () => {
    assert.equal((await send(harness.port, 'GET', '/style.CSS')).headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await send(harness.port, 'GET', '/app.js')).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await send(harness.port, 'GET', '/logo.svg')).headers['content-type'], 'image/svg+xml');
    assert.equal((await send(harness.port, 'GET', '/data.bin')).headers['content-type'], 'application/octet-stream');
    assert.equal(contentTypeFor('photo.JPG'), 'image/jpeg');
    assert.equal(contentTypeFor('.bashrc'), 'application/octet-stream');
    assert.equal(contentTypeFor('archive.tar.gz'), 'application/gzip');
  });

  it('decodes percent-encoding once', async () => {
    assert.equal((await send(harness.port, 'GET', '/a%20b.txt')).text, 'spaced');
    assert.equal((await send(harness.port, 'GET', '/a%2520b.txt')).status, 404, '%25 decodes to a literal %');
    assert.equal((await send(harness.port, 'GET', '/%E0%A4%A')).status, 400);
  });

  it('refuses .. and encoded traversal, NUL, encoded slashes and symlink escapes', async () => {
    for (const path of ['/../secret.txt', '/docs/../../secret.txt', '/%2e%2e/secret.txt', '/docs/%2E%2E/%2e%2e/secret.txt']) {
      const reply = await send(harness.port, 'GET', path);
      assert.equal(reply.status, 403, path);
      assert.doesNotMatch(reply.text, /alice secret/);
    }
    assert.equal((await send(harness.port, 'GET', '/letters.txt%00.html')).status, 400);
    assert.equal((await send(harness.port, 'GET', '/..%2fsecret.txt')).status, 404);
    const escape = await send(harness.port, 'GET', '/escape.txt');
    assert.equal(escape.status, 403);
    assert.doesNotMatch(escape.text, /alice secret/);
    assert.equal((await send(harness.port, 'GET', '/up/secret.txt')).status, 403);
    assert.equal((await send(harness.port, 'GET', '/inside-link.txt')).text, alphabet.toString(), 'links inside the root are fine');
  });

  it('answers 404 for missing files and 405 with Allow for other methods', async () => {
    const missing = await send(harness.port, 'GET', '/nope.txt');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '404 Not Found\n');
    assert.equal((await send(harness.port, 'GET', '/letters.txt/more')).status, 404);
    const post = await send(harness.port, 'POST', '/letters.txt', {}, 'x');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('maps below the location prefix, like an Alias', async () => {
    const mounted = await serveHandler(new StaticHandler({ root: join(dir, 'public') }, '/'), { locationPrefix: '/assets/' });
    try {
      assert.equal((await send(mounted.port, 'GET', '/assets/letters.txt')).text, alphabet.toString());
      const redirect = await send(mounted.port, 'GET', '/assets');
      assert.equal(redirect.status, 301);
      assert.equal(redirect.headers.location, '/assets/');
    } finally {
      await mounted.close();
    }
  });

  it('never maps a path to a segment that could climb or smuggle a separator', () => {
    fc.assert(fc.property(fc.string(), fc.constantFrom('/', '/assets/', ''), (path, prefix) => {
      const mapped = pathSegments('/' + path, prefix);
      if (isRefusal(mapped)) return;
      for (const segment of mapped.segments) {
        assert.ok(segment !== '..' && segment !== '.' && segment !== '' && !segment.includes('/') && !segment.includes('\0'), segment);
      }
    }));
  });

  it('never serves the secret outside the root, whatever the path', async () => {
    const pieces = ['..', '%2e%2e', '%2E.', '.', 'up', 'escape.txt', 'secret.txt', '%2f', 'docs', '', '%00', 'public', '%252e%252e'];
    await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 6 }), async (parts) => {
      const reply = await send(harness.port, 'GET', '/' + parts.join('/'));
      assert.doesNotMatch(reply.text, /alice secret/, parts.join('/'));
    }), { numRuns: 150 });
  });

  it('parses every Range header into ranges within the file, or ignores it', () => {
    fc.assert(fc.property(fc.string(), fc.nat(1000), (header, size) => {
      const result = parseRange(`bytes=${header}`, size);
      if (result.kind === 'partial') {
        for (const r of result.ranges) assert.ok(r.start >= 0 && r.start <= r.end && r.end < size);
      }
    }));
    fc.assert(fc.property(fc.nat(100), fc.nat(100), fc.integer({ min: 1, max: 200 }), (a, b, size) => {
      const result = parseRange(`bytes=${Math.min(a, b)}-${Math.max(a, b)}`, size);
      if (Math.min(a, b) >= size) assert.equal(result.kind, 'unsatisfiable');
      else assert.deepEqual(result, { kind: 'partial', ranges: [{ start: Math.min(a, b), end: Math.min(Math.max(a, b), size - 1) }] });
    }));
  });
});

const laneContext: HandlerContext = {
  siteName: 'test', serverName: 'test.localhost', hat: 'test', label: 'hatter//test', documentRoot: '/srv/test', locationPrefix: '/',
  remoteAddress: '127.0.0.1', remotePort: 1, serverAddress: '127.0.0.1', serverPort: 2, signal: new AbortController().signal,
};

/** A ResponseWriter that keeps the one whole response (or status page) a lane handler gives it. */
class RecordingWriter implements ResponseWriter {
  ended = false;
  code = 0;
  headers: readonly string[] = [];
  body: Buffer | undefined;
  whole(status: number, _reason: string | undefined, headers: readonly string[], body: Buffer | undefined, bodiless: boolean): void {
    assert.equal(this.ended, false, 'one response only');
    Object.assign(this, { code: status, headers, body: bodiless ? undefined : body, ended: true });
  }
  begin(): void { throw new Error('the static lane answers whole responses only'); }
  write(): boolean { throw new Error('the static lane answers whole responses only'); }
  end(): void { this.ended = true; }
  status(code: number): void { this.whole(code, undefined, [], undefined, true); }
  onceClose(): void {}
  offClose(): void {}
  onceDrain(): void {}
  offDrain(): void {}
}
