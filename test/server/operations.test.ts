// Operations: the access log (JSON lines with the hat), recycling after maxRequests, a front that dies,
// and the Apache configuration as a source of sites.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadApacheServeConfig } from '../../src/server/apache.js';
import { Router, chooserFromHats } from '../../src/server/routing.js';
import { get, json, serverStatus, sleep, startFromYaml, type TestServer } from './helpers.js';

const ECHO = `export default () => Response.json({ hat: process.env.HATTER_HAT, pid: process.pid });\n`;
let server: TestServer & { dir: string };
let logFile: string;

before(async () => {
  logFile = join(mkdtempSync(join(tmpdir(), 'hatter-log-')), 'access.jsonl');
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
pool: { min: 1, max: 1, maxRequests: 5 }
front: { headerTimeoutMs: 700 }
sites:
  - serverName: log.test
    documentRoot: pub
    locations:
      - prefix: /echo
        handler: { type: node, module: echo.mjs }
`, { 'echo.mjs': ECHO, 'pub/index.html': 'x\n' }, { accessLog: logFile });
});
after(async () => { await server.stop(); rmSync(dirname(logFile), { recursive: true, force: true }); });

test('access log: one JSON line per request with the hat; front refusals are logged with their code', async () => {
  await get(server.port, 'log.test', '/echo?a=1');
  await get(server.port, 'log.test', '/nope');
  const { raw } = await import('./helpers.js');
  await raw(server.port, 'GET / HTTP/1.1\r\nHost: log.test\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
  await sleep(1300);
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  const echo = lines.find((l) => l.path === '/echo?a=1')!;
  assert.equal(echo.status, 200);
  assert.equal(echo.hat, 'log.test');
  assert.equal(echo.label, 'hatter//log.test');
  assert.equal(echo.method, 'GET');
  assert.equal(typeof echo.ms, 'number');
  assert.equal(lines.find((l) => l.path === '/nope')?.status, 404);
  const refused = lines.find((l) => l.event === 'rejected')!;
  assert.equal(refused.status, 400);
  assert.equal(refused.code, 'http/content-length-and-transfer-encoding');
});

test('a slow client gets 408 when its request head does not arrive within headerTimeoutMs', async () => {
  const { raw } = await import('./helpers.js');
  const started = Date.now();
  const reply = await raw(server.port, 'GET /echo HTTP/1.1\r\nHost: log.test\r\nX-Slow: ', 3000);
  assert.match(reply, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started >= 600);
});

test('a worker is recycled after pool.maxRequests', async () => {
  const pids = new Set<number>();
  for (let i = 0; i < 12; i++) pids.add((await json(server.port, 'log.test', '/echo')).pid as number);
  assert.ok(pids.size >= 2, `served by ${pids.size} worker(s)`);
});

test('a front that dies is restarted on the same listening socket', async () => {
  const before = await serverStatus(server.adminPort);
  process.kill(before.front.pid as number, 'SIGKILL');
  let after: Record<string, any> | undefined;
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    try { after = await serverStatus(server.adminPort); if (after.front.pid !== before.front.pid) break; } catch { /* restarting */ }
  }
  assert.ok(after && after.front.pid !== before.front.pid);
  assert.equal((await get(server.port, 'log.test', '/echo')).status, 200);
});

test('a front that dies just before the server stops is not restarted after the stop (it crashed the supervisor)', async () => {
  const own = await startFromYaml(`listen: 127.0.0.1:0
backend: none
sites:
  - serverName: stop.test
    documentRoot: www
`, { 'www/index.html': 'ok\n' });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => { uncaught.push(error); };
  process.on('uncaughtException', onUncaught);
  try {
    const frontPid = (await serverStatus(own.adminPort)).front.pid as number;
    const othersBefore = childFronts().filter((pid) => pid !== frontPid); // the file's shared server has one too
    // As `timeout` or a service manager signalling the whole group: the front dies first, then the stop.
    process.kill(frontPid, 'SIGKILL');
    while (!own.messages.some((m) => /the front process died/.test(m))) await sleep(10);
    await own.stop();
    await sleep(600); // past the restart delay
    assert.deepEqual(uncaught, []);
    assert.deepEqual(childFronts(), othersBefore, 'a front was started after the stop');
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});

test('--apache: virtual hosts, aliases, AADefaultHatName and AAHatName locations become sites', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-apache-'));
  mkdirSync(join(dir, 'www', 'shop', 'admin'), { recursive: true });
  const file = join(dir, 'apache2.conf');
  writeFileSync(file, `Listen 8080
<VirtualHost *:8080>
  ServerName shop.example
  ServerAlias www.shop.example
  DocumentRoot ${dir}/www/shop
  AADefaultHatName shop
  <Location /cart>
    AAHatName checkout
  </Location>
  <Directory ${dir}/www/shop/admin>
    AAHatName admin
  </Directory>
</VirtualHost>
`);
  const { config, diagnostics } = await loadApacheServeConfig(file);
  assert.ok(config, JSON.stringify(diagnostics));
  const site = config.sites[0]!;
  assert.equal(site.serverName, 'shop.example');
  assert.deepEqual(site.aliases, ['www.shop.example']);
  assert.equal(site.defaultHat, 'shop');
  assert.equal(site.documentRoot, `${dir}/www/shop`);
  // The sections stay Apache sections: routing merges them as which-hat does (<Directory> before <Location>).
  const router = new Router(config, chooserFromHats(new Set(['admin', 'checkout', 'shop'])));
  assert.equal(router.route('shop.example', '/cart/x')!.hat, 'checkout');
  assert.equal(router.route('www.shop.example', '/admin/x')!.hat, 'admin');
  assert.equal(router.route('shop.example', '/other')!.hat, 'shop');
  assert.equal(config.policy.profile, 'apache2');
  rmSync(dir, { recursive: true, force: true });
});

/** Front processes this test process started that are still running (pids). */
function childFronts(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('front.js')) pids.push(Number(entry));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}
