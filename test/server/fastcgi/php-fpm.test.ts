import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PHP_FPM_BINARY, FastCgiClient, phpFpmConfig, startPhpFpm, type PhpFpmMaster } from '../../../src/server/fastcgi/index.js';
import { FastCgiHandler } from '../../../src/server/handlers/index.js';
import { send, sendRaw, serveHandler, type Harness } from '../handlers/harness.js';

describe('PHP-FPM pool config', () => {
  const base = { siteName: 'alice.example', runDir: '/run/hatter/alice' };
  it('listens on a socket in the run dir and names the pool after the site', () => {
    const text = phpFpmConfig({ ...base, workers: 3 }, { root: false, appArmor: false });
    assert.match(text, /^\[alice_example\]$/m);
    assert.match(text, /^listen = "\/run\/hatter\/alice\/php-fpm.sock"$/m);
    assert.match(text, /^pm = static$/m);
    assert.match(text, /^pm.max_children = 3$/m);
    assert.doesNotMatch(text, /^user =/m, 'no user directive unless the master runs as root');
  });
  it('emits apparmor_hat only when AppArmor is active', () => {
    assert.doesNotMatch(phpFpmConfig({ ...base, apparmorHat: 'alice' }, { root: true, appArmor: false }), /apparmor_hat/);
    assert.match(phpFpmConfig({ ...base, apparmorHat: 'alice' }, { root: true, appArmor: true }), /^apparmor_hat = "alice"$/m);
  });
  it('sets the worker user as root and supports ondemand', () => {
    const text = phpFpmConfig({ ...base, processManager: 'ondemand', user: 'alice' }, { root: true, appArmor: false });
    assert.match(text, /^user = "alice"$/m);
    assert.match(text, /^group = "alice"$/m);
    assert.match(text, /^pm = ondemand$/m);
  });
  it('refuses values that would break out of the config line', () => {
    assert.throws(() => phpFpmConfig({ ...base, runDir: '/tmp/a"\nuser=root' }, { root: false, appArmor: false }));
    assert.throws(() => phpFpmConfig({ ...base, adminValues: { 'x]\n': 'y' } }, { root: false, appArmor: false }));
  });
});

const skip = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `${DEFAULT_PHP_FPM_BINARY} is not installed`;

describe('FastCGI handler against a real PHP-FPM master', { skip }, () => {
  let dir: string;
  let master: PhpFpmMaster;
  let harness: Harness;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hatter-fpm-'));
    chmodSync(dir, 0o755); // FPM children run as www-data when the tests run as root
    const site = join(dir, 'alice');
    mkdirSync(join(site, 'public', 'sub'), { recursive: true });
    writeFileSync(join(site, 'data.txt'), 'alice data\n');
    writeFileSync(join(site, 'public', 'index.php'), '<?php header("X-Site: alice"); echo "read: ", file_get_contents(__DIR__ . "/../data.txt");');
    writeFileSync(join(site, 'public', 'vars.php'), '<?php header("Content-Type: application/json"); echo json_encode(["script" => $_SERVER["SCRIPT_NAME"], "info" => $_SERVER["PATH_INFO"] ?? null, "q" => $_GET, "post" => $_POST, "proxy" => getenv("HTTP_PROXY"), "method" => $_SERVER["REQUEST_METHOD"]]);');
    writeFileSync(join(site, 'public', 'status.php'), '<?php http_response_code(404); echo "gone";');
    writeFileSync(join(site, 'public', 'redirect.php'), '<?php header("Location: /elsewhere"); ');
    writeFileSync(join(site, 'public', 'slow.php'), '<?php sleep(3); echo "late";');
    writeFileSync(join(site, 'public', 'upload.php'), '<?php $in = file_get_contents("php://input"); echo strlen($in), " ", md5($in);');
    writeFileSync(join(site, 'public', 'big.php'), '<?php for ($i = 0; $i < 3000; $i++) echo str_repeat(chr(65 + $i % 26), 1024);');
    writeFileSync(join(site, 'public', 'flushed.php'), '<?php echo "one "; flush(); usleep(20000); echo "two"; flush(); usleep(20000); echo " three";');
    writeFileSync(join(site, 'public', 'sub', 'index.php'), '<?php echo "sub index";');
    writeFileSync(join(site, 'public', 'hex.php'), '<?php echo bin2hex($_SERVER["HTTP_X_NAME"] ?? ""), " ", bin2hex($_SERVER["PATH_INFO"] ?? "");');
    writeFileSync(join(site, 'public', 'warns.php'), '<?php trigger_error("alice warns", E_USER_WARNING); error_log("alice logs"); echo "done";');
    writeFileSync(join(dir, 'outside.php'), '<?php echo "outside";');
    for (const p of [site, join(site, 'public'), join(site, 'public', 'sub')]) chmodSync(p, 0o755);
    master = await startPhpFpm({ siteName: 'alice', runDir: join(dir, 'run'), workers: 2 });
    chmodSync(join(dir, 'run'), 0o755);
    harness = await serveHandler(new FastCgiHandler({ address: master.address, root: join(site, 'public'), timeoutMs: 1500 }, dir),
      { documentRoot: join(site, 'public') });
  });
  after(async () => {
    await harness?.close();
    await master?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs index.php, which reads its own site file', async () => {
    const reply = await send(harness.port, 'GET', '/');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'read: alice data\n');
    assert.equal(reply.headers['x-site'], 'alice');
    assert.match(reply.headers['content-type'] ?? '', /^text\/html/);
  });

  it('passes PATH_INFO, the query and a POST body, and drops the Proxy header', async () => {
    const reply = await send(harness.port, 'POST', '/vars.php/more?x=1', { 'Content-Type': 'application/x-www-form-urlencoded', Proxy: 'http://evil:1' }, 'a=b&c=d');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text), { script: '/vars.php', info: '/more', q: { x: '1' }, post: { a: 'b', c: 'd' }, proxy: false, method: 'POST' });
  });

  it('streams a large upload to PHP and a large response back', async () => {
    const body = Buffer.alloc(10 * 1024 * 1024, 'q');
    const upload = await send(harness.port, 'POST', '/upload.php', { 'Content-Type': 'application/octet-stream' }, body);
    assert.equal(upload.status, 200);
    assert.equal(upload.text, `${body.length} ${createHash('md5').update(body).digest('hex')}`);
    const big = await send(harness.port, 'GET', '/big.php');
    assert.equal(big.body.length, 3000 * 1024);
    assert.equal(big.body.subarray(1024 * 27, 1024 * 27 + 3).toString(), 'BBB');
  });

  it('sends a small response whole with Content-Length even when PHP flushed it in pieces, a large one chunked', async () => {
    const flushed = await send(harness.port, 'GET', '/flushed.php');
    assert.equal(flushed.text, 'one two three');
    assert.equal(flushed.headers['content-length'], '13');
    assert.equal(flushed.headers['transfer-encoding'], undefined);
    const big = await send(harness.port, 'GET', '/big.php');
    assert.equal(big.headers['content-length'], undefined);
    assert.equal(big.headers['transfer-encoding'], 'chunked');
    const head = await send(harness.port, 'HEAD', '/flushed.php');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('buffers a chunked request body so that PHP gets CONTENT_LENGTH', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: harness.port, method: 'POST', path: '/upload.php' }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.write('abc');
      setTimeout(() => req.end('def'), 20);
    });
    assert.equal(text, `6 ${createHash('md5').update('abcdef').digest('hex')}`);
  });

  it('keeps the connection when PHP ignores a large request body', async () => {
    const big = 'z'.repeat(3 * 1024 * 1024);
    const text = await sendRaw(harness.port,
      `POST /status.php HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 2, (t) => t.includes('alice data'));
    assert.match(text, /^HTTP\/1\.1 404 /);
    assert.match(text, /HTTP\/1\.1 200 OK[\s\S]*read: alice data/);
  });

  it('relays status codes and redirects, and serves directory indexes', async () => {
    assert.equal((await send(harness.port, 'GET', '/status.php')).status, 404);
    const redirect = await send(harness.port, 'GET', '/redirect.php');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/elsewhere');
    assert.equal((await send(harness.port, 'GET', '/sub/')).text, 'sub index');
    assert.equal((await send(harness.port, 'GET', '/sub')).status, 301);
  });

  it('refuses scripts outside the root and answers 504 for a slow script', async () => {
    assert.equal((await send(harness.port, 'GET', '/../outside.php')).status, 403);
    assert.equal((await send(harness.port, 'GET', '/%2e%2e/outside.php')).status, 403);
    assert.equal((await send(harness.port, 'GET', '/missing.php')).status, 404);
    const slow = await send(harness.port, 'GET', '/slow.php');
    assert.equal(slow.status, 504);
  });

  it('passes header bytes to PHP as the client sent them and a decoded path as UTF-8, as nginx does', async () => {
    const request = Buffer.concat([Buffer.from('GET /hex.php/%C3%A9t%C3%A9 HTTP/1.1\r\nHost: a\r\nX-Name: caf'), Buffer.from([0xc3, 0xa9, 0x20, 0xe9]), Buffer.from('\r\nConnection: close\r\n\r\n')]);
    const text = await sendRaw(harness.port, request, 1, (t) => /\r\n\r\n\S+ \S+$/.test(t));
    assert.match(text, /^HTTP\/1\.1 200 /);
    // "café" in UTF-8, a space and a lone Latin-1 é (0xe9), byte for byte; PATH_INFO "/été" in UTF-8.
    assert.match(text, /\r\n\r\n636166c3a920e9 2fc3a974c3a9$/);
  });

  it("reports PHP's warnings and error_log() on FastCGI STDERR, which the handler logs (the children's own output is not caught)", async () => {
    const client = new FastCgiClient({ path: master.socketPath });
    try {
      const exchange = await client.request([
        ['GATEWAY_INTERFACE', 'CGI/1.1'], ['REQUEST_METHOD', 'GET'], ['SCRIPT_NAME', '/warns.php'],
        ['SCRIPT_FILENAME', join(dir, 'alice', 'public', 'warns.php')], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['QUERY_STRING', ''],
      ]);
      let stdout = '';
      for await (const chunk of exchange.stdout) stdout += String(chunk);
      await exchange.end;
      assert.match(stdout, /\r\n\r\ndone$/);
      assert.match(exchange.stderr(), /alice warns/);
      assert.match(exchange.stderr(), /alice logs/);
    } finally {
      await client.close();
    }
  });

  it('answers 502 when the FastCGI server is gone', async () => {
    const dead = await serveHandler(new FastCgiHandler({ address: `unix:${join(dir, 'no.sock')}`, root: join(dir, 'alice', 'public') }, dir));
    try {
      const reply = await send(dead.port, 'GET', '/');
      assert.equal(reply.status, 502);
      assert.doesNotMatch(reply.text, /no\.sock/);
    } finally {
      await dead.close();
    }
  });
});

describe('the PHP-FPM start limit', () => {
  it('a master that neither listens nor exits is given up after readyTimeoutMs, and stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-fpm-slow-'));
    const binary = join(dir, 'php-fpm-that-never-listens');
    writeFileSync(binary, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(binary, 0o755);
    try {
      const started = Date.now();
      await assert.rejects(startPhpFpm({ siteName: 'slow', runDir: join(dir, 'run'), binary, readyTimeoutMs: 300 }), /did not listen on .*php-fpm\.sock within 300 ms/);
      assert.ok(Date.now() - started < 10_000, 'gave up within the limit (plus the stop)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
