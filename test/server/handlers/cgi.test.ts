import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CgiHandler } from '../../../src/server/handlers/index.js';
import { send, sendRaw, serveHandler, type Harness } from './harness.js';

const SCRIPTS: Record<string, string> = {
  'env.sh': '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\nenv\n',
  'echo.sh': '#!/bin/sh\nprintf "Content-Type: application/octet-stream\\n\\n"\nexec cat\n',
  'status.sh': '#!/bin/sh\nprintf "Status: 418 I am a teapot\\nContent-Type: text/plain\\nX-Custom: yes\\n\\nteapot\\n"\n',
  'redirect.sh': '#!/bin/sh\nprintf "Location: https://example.com/elsewhere\\n\\n"\n',
  'local.sh': '#!/bin/sh\nprintf "Location: /cgi-bin/status.sh\\n\\n"\n',
  'hang.sh': '#!/bin/sh\nsleep 30 &\necho $! > "$PIDFILE_DIR/child.pid"\nsleep 30\n',
  'garbage.sh': '#!/bin/sh\necho "this is not a header"\n',
  'silent.sh': '#!/bin/sh\nexit 3\n',
  'stream.sh': '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\nfor i in 1 2 3; do echo "line $i"; done\n',
};

describe('cgi handler', () => {
  let dir: string;
  let root: string;
  let harness: Harness;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hatter-cgi-'));
    root = join(dir, 'cgi-bin');
    mkdirSync(join(root, 'sub'), { recursive: true });
    for (const [name, text] of Object.entries(SCRIPTS)) {
      const path = join(root, name);
      writeFileSync(path, name === 'hang.sh' ? text.replace('$PIDFILE_DIR', dir) : text);
      chmodSync(path, 0o755);
    }
    writeFileSync(join(root, 'plain.txt'), 'not a script');
    writeFileSync(join(dir, 'outside.sh'), SCRIPTS['env.sh']!);
    chmodSync(join(dir, 'outside.sh'), 0o755);
    process.env.HATTER_TEST_WORKER_SECRET = 'do-not-leak';
    harness = await serveHandler(new CgiHandler({ root: 'cgi-bin', timeoutMs: 1500 }, dir), { locationPrefix: '/cgi-bin/', documentRoot: '/srv/site' });
  });
  after(async () => {
    delete process.env.HATTER_TEST_WORKER_SECRET;
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function parseEnv(text: string): Map<string, string> {
    return new Map(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  }

  it('passes the RFC 3875 meta-variables and nothing of the worker environment', async () => {
    const reply = await send(harness.port, 'POST', '/cgi-bin/env.sh/extra/path?a=1&b=%20', {
      'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': '10.0.0.1', Proxy: 'http://evil.example:8080',
      'Accept-Language': 'en', Cookie: 'k=v',
    }, 'x=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/plain');
    const env = parseEnv(reply.text);
    const expected: Record<string, string> = {
      GATEWAY_INTERFACE: 'CGI/1.1', SERVER_SOFTWARE: 'hatter', SERVER_NAME: 'test.localhost', SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_ADDR: '127.0.0.1', SERVER_PORT: String(harness.port), REQUEST_METHOD: 'POST', QUERY_STRING: 'a=1&b=%20',
      REQUEST_URI: '/cgi-bin/env.sh/extra/path?a=1&b=%20', SCRIPT_NAME: '/cgi-bin/env.sh', SCRIPT_FILENAME: join(root, 'env.sh'),
      PATH_INFO: '/extra/path', PATH_TRANSLATED: '/srv/site/extra/path', DOCUMENT_ROOT: '/srv/site', REMOTE_ADDR: '127.0.0.1',
      CONTENT_LENGTH: '3', CONTENT_TYPE: 'application/x-www-form-urlencoded', HTTP_X_FORWARDED_FOR: '10.0.0.1',
      HTTP_ACCEPT_LANGUAGE: 'en', HTTP_COOKIE: 'k=v', REDIRECT_STATUS: '200', PATH: '/usr/local/bin:/usr/bin:/bin',
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(env.get(name), value, name);
    assert.match(env.get('REMOTE_PORT') ?? '', /^\d+$/);
    assert.equal(env.has('HTTP_PROXY'), false, 'the Proxy header is dropped (httpoxy)');
    assert.equal(env.has('HATTER_TEST_WORKER_SECRET'), false, 'the worker environment does not leak');
    assert.equal(env.has('HOME'), false);
    assert.equal(env.has('HTTP_CONTENT_LENGTH'), false);
  });

  it('omits PATH_INFO, PATH_TRANSLATED and CONTENT_LENGTH when there are none', async () => {
    const env = parseEnv((await send(harness.port, 'GET', '/cgi-bin/env.sh')).text);
    assert.equal(env.get('QUERY_STRING'), '');
    assert.equal(env.has('PATH_INFO'), false);
    assert.equal(env.has('PATH_TRANSLATED'), false);
    assert.equal(env.has('CONTENT_LENGTH'), false);
  });

  it('streams the request body to stdin and stdout back', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 'z');
    const reply = await send(harness.port, 'POST', '/cgi-bin/echo.sh', { 'Content-Type': 'application/octet-stream' }, body);
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, body.length);
    assert.ok(reply.body.equals(body));
    const lines = await send(harness.port, 'GET', '/cgi-bin/stream.sh');
    assert.equal(lines.text, 'line 1\nline 2\nline 3\n');
  });

  it('streams a chunked request body without CONTENT_LENGTH, and answers HEAD without a body', async () => {
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: harness.port, method: 'POST', path: '/cgi-bin/echo.sh' }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('first ');
      setTimeout(() => req.end('second'), 20);
    });
    assert.equal(chunked, 'first second');
    const head = await send(harness.port, 'HEAD', '/cgi-bin/status.sh');
    assert.equal(head.status, 418);
    assert.equal(head.body.length, 0);
  });

  it('answers normally, and keeps the connection, when the script ignores a large request body', async () => {
    const big = 'b'.repeat(2 * 1024 * 1024);
    const text = await sendRaw(harness.port,
      `POST /cgi-bin/status.sh HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      'GET /cgi-bin/stream.sh HTTP/1.1\r\nHost: a\r\n\r\n', 2, (t) => t.includes('line 3'));
    assert.match(text, /^HTTP\/1\.1 418 I am a teapot\r\n/);
    assert.match(text, /teapot\n/);
    assert.match(text, /HTTP\/1\.1 200 OK[\s\S]*line 1\nline 2\nline 3\n/);
  });

  it('honours Status and passes the script headers', async () => {
    const reply = await send(harness.port, 'GET', '/cgi-bin/status.sh');
    assert.equal(reply.status, 418);
    assert.equal(reply.headers['x-custom'], 'yes');
    assert.equal(reply.text, 'teapot\n');
    assert.equal(reply.headers.status, undefined);
  });

  it('turns an absolute Location into a 302 and a local one into an internal redirect', async () => {
    const client = await send(harness.port, 'GET', '/cgi-bin/redirect.sh');
    assert.equal(client.status, 302);
    assert.equal(client.headers.location, 'https://example.com/elsewhere');
    const local = await send(harness.port, 'GET', '/cgi-bin/local.sh');
    assert.equal(local.status, 418);
    assert.equal(local.text, 'teapot\n');
  });

  it('kills the script process group at the timeout and answers 504', async () => {
    const started = Date.now();
    const reply = await send(harness.port, 'GET', '/cgi-bin/hang.sh');
    assert.equal(reply.status, 504);
    assert.ok(Date.now() - started < 5000);
    const childPid = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(`/proc/${childPid}`) && !readFileSync(`/proc/${childPid}/stat`, 'utf8').includes(') Z '), false,
      'the background child of the script is gone too');
  });

  it('answers 500 with a short body for a script without a valid head', async () => {
    for (const path of ['/cgi-bin/garbage.sh', '/cgi-bin/silent.sh']) {
      const reply = await send(harness.port, 'GET', path);
      assert.equal(reply.status, 500, path);
      assert.equal(reply.text, '500 Internal Server Error\n');
    }
  });

  it('refuses non-executable files, directories, missing scripts and escapes', async () => {
    assert.equal((await send(harness.port, 'GET', '/cgi-bin/plain.txt')).status, 403);
    assert.equal((await send(harness.port, 'GET', '/cgi-bin/sub/')).status, 403);
    assert.equal((await send(harness.port, 'GET', '/cgi-bin/missing.sh')).status, 404);
    for (const path of ['/cgi-bin/../outside.sh', '/cgi-bin/%2e%2e/outside.sh', '/cgi-bin/sub/%2E%2E/%2e%2e/outside.sh']) {
      const reply = await send(harness.port, 'GET', path);
      assert.equal(reply.status, 403, path);
    }
  });

  it('runs php-cgi scripts (REDIRECT_STATUS set)', { skip: existsSync('/usr/bin/php-cgi') ? false : 'php-cgi is not installed' }, async () => {
    const php = join(root, 'hello.php');
    writeFileSync(php, '#!/usr/bin/php-cgi\n<?php header("X-Powered: php"); echo "php says ", $_SERVER["QUERY_STRING"], " ", $_SERVER["PATH_INFO"] ?? "-";');
    chmodSync(php, 0o755);
    const reply = await send(harness.port, 'GET', '/cgi-bin/hello.php/info?q=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-powered'], 'php');
    assert.equal(reply.text, 'php says q=1 /info');
  });
});
