// hatter picks the same virtual host as Apache: a small real configuration on a loopback port chosen at
// run time; `apache2 -S` gives Apache's vhost table and a foreground `apache2 -X` answers real requests
// whose body names the vhost that served them. Skips when apache2 is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapRequest, nodeFileSystem, readApacheConfig } from '../../src/web/index.js';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function get(port: number, host: string | undefined, path: string, address = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', headers: host === undefined ? { Connection: 'close' } : { Host: host, Connection: 'close' }, setHost: false, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const HOSTS = ['alpha.test', 'ALPHA.test', 'www.alpha.test', 'x.alpha.example', 'beta.test', 'beta.test.', 'beta.test:1234', 'gamma.test', 'g7.test', 'main.test', 'nobody.test', '127.0.0.1'];

test('hatter chooses the same vhost as apache2 for each Host header', { timeout: 60_000 }, async (t) => {
  if (!existsSync(APACHE) || !existsSync(join(MODULES, 'mod_mpm_prefork.so'))) return t.skip('skipped: apache2 not installed (apt-get install apache2)');
  const dir = mkdtempSync(join(tmpdir(), 'hatter-apache-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const sites = { a: 'alpha', b: 'beta', c: 'gamma', m: 'main', i: 'ip' };
  for (const [d, name] of Object.entries(sites)) {
    mkdirSync(join(dir, d));
    writeFileSync(join(dir, d, 'which.txt'), `${name}\n`);
  }
  const conf = join(dir, 'apache2.conf');
  writeFileSync(conf, `ServerRoot ${dir}
Mutex file:${dir} default
PidFile ${dir}/apache2.pid
ErrorLog ${dir}/error.log
User www-data
Group www-data
ServerName main.test
Listen 127.0.0.1:${port}
Listen 127.0.0.2:${port}
LoadModule mpm_prefork_module ${MODULES}/mod_mpm_prefork.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
DocumentRoot ${dir}/m
<VirtualHost *:${port}>
    ServerName alpha.test
    ServerAlias www.alpha.test *.alpha.example
    DocumentRoot ${dir}/a
</VirtualHost>
<VirtualHost *:${port}>
    ServerName beta.test
    DocumentRoot ${dir}/b
</VirtualHost>
<VirtualHost *:${port}>
    ServerAlias gamma.test g?.test
    DocumentRoot ${dir}/c
</VirtualHost>
<VirtualHost 127.0.0.2:${port}>
    ServerName ip.test
    DocumentRoot ${dir}/i
</VirtualHost>
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { config, diagnostics } = readApacheConfig(conf, { fs: nodeFileSystem() });
  assert.deepEqual(diagnostics, []);

  // apache2 -S: the vhost table, names (the third vhost inherits the main ServerName) and the default.
  const dump = spawnSync(APACHE, ['-f', conf, '-S'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(dump.status, 0, dump.stderr);
  const namevhosts = [...dump.stdout.matchAll(/namevhost (\S+) \(([^)]+)\)/g)].map((m) => m[1]);
  const defaultServer = /default server (\S+)/.exec(dump.stdout)?.[1];
  const wildcard = config.vhosts.filter((v) => v.addresses.some((a) => a.host === '*'));
  assert.deepEqual(wildcard.map((v) => v.serverName ?? config.main.serverName), namevhosts);
  assert.equal(new RegExp(`^127\\.0\\.0\\.2:${port}\\s+(\\S+) \\(`, 'm').exec(dump.stdout)?.[1], 'ip.test', dump.stdout);
  const noHost = mapRequest(config, { url: '/which.txt', host: '', port });
  assert.ok(noHost.ok);
  assert.equal(noHost.serverName, defaultServer);

  // Real requests against a foreground apache2.
  const child = spawn(APACHE, ['-f', conf, '-X'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let ready = false;
  for (let i = 0; i < 100 && !ready && child.exitCode === null; i++) {
    try {
      await get(port, 'alpha.test', '/which.txt');
      ready = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready) return t.skip(`skipped: apache2 -X did not start here (${stderr.trim().split('\n').pop() ?? 'no output'})`);
  // 127.0.0.2 has an IP-based vhost, which takes every request to that address whatever the Host.
  for (const address of ['127.0.0.1', '127.0.0.2']) {
    for (const host of [...HOSTS, 'ip.test']) {
      const apache = await get(port, host, '/which.txt', address);
      assert.equal(apache.status, 200, `Host ${host}`);
      const mapped = mapRequest(config, { url: '/which.txt', host: host ?? '', localAddress: address, port });
      assert.ok(mapped.ok);
      const served = Object.entries(sites).find(([, name]) => name === apache.body)?.[0];
      assert.equal(mapped.filePath, join(dir, served!, 'which.txt'), `${address} Host ${host}: Apache served ${apache.body}, hatter chose ${mapped.serverName}`);
    }
  }
  // URI decoding and normalisation: the same file, or the same refusal, as Apache.
  const PATHS = ['/which.txt', '/x/../which.txt', '/./which.txt', '//which.txt', '/%77hich.txt', '/x/%2e%2e/which.txt', '/../which.txt', '/%2e%2e/which.txt', '/a%2Fb', '/a%zz', '/which.txt?x=../..', '/x/./../which.txt'];
  for (const path of PATHS) {
    const apache = await get(port, 'beta.test', path);
    const mapped = mapRequest(config, { url: path, host: 'beta.test', localAddress: '127.0.0.1', port });
    if (apache.status === 200) {
      assert.ok(mapped.ok, `${path}: Apache served it, hatter says ${mapped.ok ? '' : mapped.reason}`);
      assert.equal(mapped.filePath, join(dir, 'b', 'which.txt'), path);
    } else {
      assert.equal(mapped.ok ? 200 : mapped.status, apache.status, `${path}: Apache answered ${apache.status}`);
    }
  }
  child.kill('SIGTERM');
});
