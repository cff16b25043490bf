// The console's gatekeeping against a real listener on loopback (ports chosen at run time) with
// in-memory services: tokens on non-loopback binds, same-origin and CSRF on every POST, path
// traversal in every parameter, and 10,000 malformed requests without a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import fc from 'fast-check';
import { checkRequest, isLoopbackHost } from '../../src/console/security.js';
import { createConsoleHandler, startConsoleListener, type ConsoleHandler } from '../../src/console/server.js';
import type { ChangeOutcome, ConsoleAnswer, ConsoleServices } from '../../src/console/services.js';

/** Services that record what reached them; nothing here touches a file. */
function fakeServices(): ConsoleServices & { applied: ConsoleAnswer[][] } {
  const applied: ConsoleAnswer[][] = [];
  const outcome = (answers: readonly ConsoleAnswer[]): ChangeOutcome => ({ ok: true, diff: `answers ${answers.length}\n`, written: [], messages: [] });
  return {
    applied,
    sites: async () => ({ sites: [{ name: 'alice' }] }),
    denials: async () => ({ events: 0, groups: [], floods: [] }),
    learn: async () => ({ groups: [] }),
    preview: async (answers) => outcome(answers),
    apply: async (answers) => { applied.push([...answers]); return outcome(answers); },
    isolation: async () => ({ tenants: [], flows: [] }),
    policy: async () => ({ files: [] }),
    watch: () => () => {},
  };
}

async function withConsole(options: { host?: string; token?: string }, use: (c: { url: string; host: string; port: number; handler: ConsoleHandler; services: ReturnType<typeof fakeServices>; csrf: () => Promise<string> }) => Promise<void>): Promise<void> {
  const services = fakeServices();
  const host = options.host ?? '127.0.0.1';
  const started = await startConsoleListener(host, 0, (allowedHosts) => createConsoleHandler({ services, allowedHosts, ...(options.token ? { token: options.token } : {}) }));
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${started.port}`;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const csrf = async () => {
    const page = await (await fetch(`${url}/`, { headers: auth })).text();
    return page.match(/name="hatter-csrf" content="([^"]+)"/)![1]!;
  };
  try {
    await use({ url, host: `${shown}:${started.port}`, port: started.port, handler: started.handler, services, csrf });
  } finally {
    started.handler.close();
    started.server.closeAllConnections();
    await new Promise<void>((done) => started.server.close(() => done()));
  }
}

test('loopback is told apart from every other address', () => {
  for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '::', '192.0.2.2', 'fd00::2', 'example.org', '128.0.0.1', '::ffff:10.0.0.1', '127.0.0.1.evil.example']) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});

test('with a token, requests without it are refused; Bearer and the one-time login link work', async () => {
  const token = 'tok-0123456789abcdef';
  // A non-loopback local address when this machine has one; otherwise loopback with the same token rules.
  const external = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal && a.family === 'IPv4')?.address;
  await withConsole({ host: external ?? '127.0.0.1', token }, async ({ url, handler }) => {
    const none = await fetch(`${url}/api/sites`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { code: string }).code, 'console/unauthenticated');
    assert.equal((await fetch(`${url}/`)).status, 401, 'the page itself (with its CSRF token) needs the token');
    assert.equal((await fetch(`${url}/api/sites`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    assert.equal((await fetch(`${url}/api/sites`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    const link = handler.loginPath();
    const login = await fetch(`${url}${link}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    assert.equal((await fetch(`${url}/api/sites`, { headers: { cookie: session } })).status, 200);
    assert.equal((await fetch(`${url}/api/sites`, { headers: { cookie: 'hatter_console=forged' } })).status, 401);
    assert.equal((await fetch(`${url}${link}`, { redirect: 'manual' })).status, 401, 'a login link works once');
  });
});

test('cross-origin POSTs and missing or wrong CSRF tokens are refused; the page\'s own POST is accepted', async () => {
  await withConsole({}, async ({ url, host, services, csrf }) => {
    const token = await csrf();
    const body = JSON.stringify({ answers: [{ group: 'g1', action: 'accept', alternative: 0 }] });
    const post = (headers: Record<string, string>) => fetch(`${url}/api/learn/apply`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const cases: [string, Record<string, string>, string][] = [
      ['other origin', { origin: 'http://evil.example', 'x-hatter-csrf': token }, 'console/cross-origin'],
      ['other port', { origin: `http://127.0.0.1:1`, 'x-hatter-csrf': token }, 'console/cross-origin'],
      ['https origin', { origin: `https://${host}`, 'x-hatter-csrf': token }, 'console/cross-origin'],
      ['null origin', { origin: 'null', 'x-hatter-csrf': token }, 'console/cross-origin'],
      ['no origin', { 'x-hatter-csrf': token }, 'console/cross-origin'],
      ['no CSRF', { origin: `http://${host}` }, 'console/bad-csrf'],
      ['wrong CSRF', { origin: `http://${host}`, 'x-hatter-csrf': `${token.slice(0, -1)}x` }, 'console/bad-csrf'],
    ];
    for (const [name, headers, code] of cases) {
      const response = await post(headers);
      assert.equal(response.status, 403, name);
      assert.equal(((await response.json()) as { code: string }).code, code, name);
    }
    // A form post (the one cross-site request without preflight) is refused for its content type too.
    const form = await fetch(`${url}/api/learn/apply`, { method: 'POST', headers: { origin: `http://${host}`, 'x-hatter-csrf': token, 'content-type': 'application/x-www-form-urlencoded' }, body: 'answers=1' });
    assert.equal(form.status, 400);
    assert.equal(services.applied.length, 0, 'nothing refused reached apply');
    const ok = await post({ origin: `http://${host}`, 'x-hatter-csrf': token });
    assert.equal(ok.status, 200);
    assert.deepEqual(services.applied, [[{ group: 'g1', action: 'accept', alternative: 0 }]]);
    // State never changes on GET.
    assert.equal((await fetch(`${url}/api/learn/apply`)).status, 404);
    assert.equal((await fetch(`${url}/api/sites`, { method: 'PUT' })).status, 405);
  });
});

test('a foreign Host header (DNS rebinding) is refused', async () => {
  await withConsole({}, async ({ url }) => {
    const response = await rawRequest(new URL(url), `GET /api/sites HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
    assert.match(response, /^HTTP\/1\.1 400/);
    assert.match(response, /console\/bad-host/);
  });
});

test('path traversal in any parameter is refused', async () => {
  await withConsole({}, async ({ url, host, services, csrf }) => {
    const target = new URL(url);
    for (const path of [
      '/assets/../../../etc/passwd', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/etc/passwd', '/assets/..\\..\\etc\\passwd',
      '/assets/app.js%00.css', '/assets//etc/passwd', '/assets/./app.js', '/%2e%2e/etc/passwd', '/api/../assets/app.js', '/assets/ui/app.js',
      '/assets/server.js', '/assets/%252e%252e%252fpackage.json',
    ]) {
      const response = await rawRequest(target, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(response, /^HTTP\/1\.1 (400|404)/, path);
      assert.doesNotMatch(response, /root:|"name": "hatter"|createConsoleHandler/, path);
    }
    const token = await csrf();
    for (const group of ['../../etc/passwd', '/etc/passwd', 'g1/../g2', 'g1\0', 'G1', 'g0', ' g1', 'g1 ', '%2e%2e']) {
      const response = await fetch(`${url}/api/learn/preview`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://${host}`, 'x-hatter-csrf': token }, body: JSON.stringify({ answers: [{ group, action: 'accept' }] }) });
      assert.equal(response.status, 400, JSON.stringify(group));
      assert.equal(((await response.json()) as { code: string }).code, 'console/bad-answers');
    }
    for (const extra of [{ file: '/etc/passwd' }, { alternative: '../x' }, { alternative: -1 }, { action: 'write' }, { override: 'yes' }]) {
      const response = await fetch(`${url}/api/learn/apply`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://${host}`, 'x-hatter-csrf': token }, body: JSON.stringify({ answers: [{ group: 'g1', action: 'accept', ...extra }] }) });
      if ('file' in extra) {
        // Unknown fields are dropped, never passed on: apply receives only group/action/alternative/override.
        assert.equal(response.status, 200);
        assert.deepEqual(services.applied.at(-1), [{ group: 'g1', action: 'accept' }]);
      } else assert.equal(response.status, 400, JSON.stringify(extra));
    }
    assert.equal((await fetch(`${url}/login?once=../../etc/passwd`)).status, 401);
  });
});

/** Send raw bytes, return what came back (or '' when the server closed without answering). */
function rawRequest(target: URL, request: string | Uint8Array, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port) });
    const chunks: Buffer[] = [];
    const done = () => { clearTimeout(timer); socket.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', done);
    socket.on('error', done);
    socket.on('connect', () => { socket.end(request); });
  });
}

/** Raw requests that are mostly HTTP-shaped but wrong somewhere: bad methods, targets, versions, headers, bodies. */
const malformedRequest = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc.tuple(
    fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'TRACE', 'CONNECT', 'G\0T', ''), fc.string({ maxLength: 12 })),
    fc.oneof(fc.constantFrom('/', '/api/sites', '/api/learn/apply', '/assets/app.js', '/login?once=x', '/api/events', '*', 'http://evil/', '/%', '/%zz', '/\u00ff', '//', '/..'), fc.string({ maxLength: 80 })),
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '', 'http/1.1'),
    fc.array(fc.oneof(
      fc.constantFrom('Host: 127.0.0.1', 'Host:', 'Host: evil', 'Content-Length: 99999999', 'Content-Length: -1', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Content-Type: application/json', 'Origin: null', 'Cookie: hatter_console=;;==', 'Authorization: Bearer', 'X-Hatter-CSRF: x', 'Expect: 100-continue', 'Connection: keep-alive'),
      fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })).map(([name, value]) => `${name}: ${value}`)), { maxLength: 8 }),
    fc.oneof(fc.constant(''), fc.string({ maxLength: 200 }), fc.constantFrom('{"answers":[{"group":"g1","action":"accept"}]}', '0\r\n\r\n', 'zz\r\nxx\r\n', '{"answers":'.repeat(50))),
    fc.constantFrom('\r\n', '\n', '\r'),
  ).map(([method, target, version, headers, body, eol]) => Buffer.from(`${method} ${target} ${version}${eol}${headers.join(eol)}${eol}${eol}${body}`, 'latin1')),
);

test('10,000 malformed requests: no crash, and the console still answers afterwards', { timeout: 600_000 }, async () => {
  await withConsole({}, async ({ url, host }) => {
    const target = new URL(url);
    const requests = fc.sample(malformedRequest, { numRuns: 10_000, seed: 25 });
    let next = 0;
    // 50 clients at once; each request gets at most 2 s (the console must not hold a connection hostage).
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < requests.length) await rawRequest(target, requests[next++]!, 2000);
    }));
    const page = await rawRequest(target, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.match(page, /^HTTP\/1\.1 200/);
    const sites = await fetch(`${url}/api/sites`);
    assert.deepEqual(await sites.json(), { sites: [{ name: 'alice' }] });
  });
});

test('checkRequest: the order of checks and every refusal code', () => {
  const base = { method: 'GET', headers: { host: '127.0.0.1:9' }, token: undefined, sessions: new Set<string>(), allowedHosts: new Set(['127.0.0.1:9']), csrf: 'c'.repeat(32), isLogin: false };
  assert.equal(checkRequest(base), undefined);
  assert.equal(checkRequest({ ...base, headers: {} })?.code, 'console/bad-host');
  assert.equal(checkRequest({ ...base, headers: { host: '127.0.0.1:9\r\nX: y' } })?.code, 'console/bad-host');
  assert.equal(checkRequest({ ...base, method: 'DELETE' })?.code, 'console/bad-method');
  assert.equal(checkRequest({ ...base, token: 't'.repeat(20) })?.code, 'console/unauthenticated');
  assert.equal(checkRequest({ ...base, token: 't'.repeat(20), headers: { ...base.headers, authorization: `Bearer ${'t'.repeat(20)}` } }), undefined);
  assert.equal(checkRequest({ ...base, method: 'POST' })?.code, 'console/cross-origin');
  assert.equal(checkRequest({ ...base, method: 'POST', headers: { ...base.headers, origin: 'http://127.0.0.1:9' } })?.code, 'console/bad-csrf');
  assert.equal(checkRequest({ ...base, method: 'POST', headers: { ...base.headers, origin: 'http://127.0.0.1:9', 'x-hatter-csrf': base.csrf } })?.code, 'console/bad-content-type');
  assert.equal(checkRequest({ ...base, method: 'POST', headers: { ...base.headers, origin: 'http://127.0.0.1:9', 'x-hatter-csrf': base.csrf, 'content-type': 'application/json' } }), undefined);
});
