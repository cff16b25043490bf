// `npm run bench -- serve`: requests per second and p50/p99 latency, with wrk -t1 -c32 on loopback, for
// the same hello-world page and the same 1 KB static file served by: plain Node http, Node cluster (2
// workers), hatter serve (Node handler, CGI script, static handler), Apache 2.4 prefork + mod_php and
// nginx + php-fpm. Every server is started here with a generated config in a temp dir, on loopback
// ports chosen at run time, and stopped afterwards whatever happens. Medians of RUNS runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killMasterAndChildren, startPhpFpm, type PhpFpmMaster } from '../src/server/fastcgi/index.js';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';

const SECONDS = Number(process.env.HATTER_BENCH_SECONDS ?? 3);
const RUNS = Number(process.env.HATTER_BENCH_RUNS ?? 3);
const CONNECTIONS = 32;
const HELLO = 'Hello, world!\n';
const APACHE_MODULES = '/usr/lib/apache2/modules';
const FPM = '/usr/sbin/php-fpm8.2';
/** PHP-FPM children for nginx and for hatter's PHP rows alike (static pool), a multiple of hatter's 2 workers. */
const PHP_CHILDREN = 4;

interface Measurement {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

type Outcome = Measurement | { readonly notMeasured: string };

interface Row {
  readonly server: string;
  readonly hello: Outcome;
  readonly file: Outcome;
}

/** Every process group we start, so that nothing outlives the benchmark. */
const groups = new Set<ChildProcess>();
const fpmMasters = new Set<PhpFpmMaster>();

function killAllNow(): void {
  for (const child of groups) {
    if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  groups.clear();
  for (const master of fpmMasters) killMasterAndChildren(master.pid);
  fpmMasters.clear();
}

export async function run(repoRoot: string): Promise<void> {
  if (!existsSync('/usr/bin/wrk')) {
    process.stdout.write('serve: wrk is not installed (apt-get install wrk); skipped\n');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'hatter-bench-serve-'));
  chmodSync(work, 0o755); // Apache, nginx and FPM children run as www-data when we are root
  const onSignal = () => { killAllNow(); process.exit(130); };
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const rows: Row[] = [];
  let interleaved: Interleaved | undefined;
  const loadBefore = loadavg()[0]!;
  try {
    const site = prepareSite(work, repoRoot);
    rows.push(...await measureServer('Node http, 1 process', () => startNode(site, false), '/hello', '/file.txt'));
    rows.push(...await measureServer('Node cluster, 2 workers', () => startNode(site, true), '/hello', '/file.txt'));
    rows.push(...await measureHatter(site, repoRoot));
    for (const backend of ['none', 'landlock'] as const) {
      rows.push(...await measureServer(`hatter serve + PHP-FPM (${backend}; static handler for the file)`, () => startHatterPhp(site, repoRoot, backend), '/hello.php', '/file.txt'));
    }
    rows.push(...await measureServer('Apache 2.4 prefork + mod_php', () => startApache(site), '/hello.php', '/file.txt',
      { name: 'Apache 2.4 prefork + shell CGI (mod_cgi)', path: '/cgi-bin/hello.sh' }));
    rows.push(...await measureServer('nginx + php-fpm', () => startNginx(site), '/hello.php', '/file.txt'));
    interleaved = await measureInterleaved([
      { name: 'hatter + PHP-FPM (landlock)', start: () => startHatterPhp(site, repoRoot, 'landlock') },
      { name: 'hatter + PHP-FPM (none)', start: () => startHatterPhp(site, repoRoot, 'none') },
      { name: 'nginx + php-fpm', start: () => startNginx(site) },
      { name: 'Apache prefork + mod_php', start: () => startApache(site) },
    ]);
  } finally {
    for (const master of fpmMasters) await master.stop().catch(() => {});
    killAllNow();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killAllNow);
    rmSync(work, { recursive: true, force: true });
  }
  report(repoRoot, rows, [loadBefore, loadavg()[0]!], interleaved);
}

// ---------------------------------------------------------------------------------------------
// The site every server serves: www/hello.php, www/file.txt (1 KB), cgi-bin/hello.sh, app/hello.mjs.

interface Site {
  readonly dir: string;
  readonly www: string;
}

function prepareSite(work: string, repoRoot: string): Site {
  const www = join(work, 'www');
  for (const d of [www, join(work, 'cgi-bin'), join(work, 'app')]) { mkdirSync(d); chmodSync(d, 0o755); }
  const file = Buffer.alloc(1024);
  for (let i = 0; i < file.length; i++) file[i] = 0x61 + (i % 26);
  writeFileSync(join(www, 'file.txt'), file);
  writeFileSync(join(www, 'hello.php'), `<?php echo "Hello, world!\\n";\n`);
  writeFileSync(join(work, 'cgi-bin', 'hello.sh'), `#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nHello, world!\\n'\n`);
  chmodSync(join(work, 'cgi-bin', 'hello.sh'), 0o755);
  writeFileSync(join(work, 'app', 'hello.mjs'),
    `export default function hello() {\n  return new Response('Hello, world!\\n', { headers: { 'content-type': 'text/plain' } });\n}\n`);
  writeFileSync(join(work, 'node-server.mjs'), NODE_SERVER);
  void repoRoot;
  return { dir: work, www };
}

const NODE_SERVER = `
import cluster from 'node:cluster';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
const [port, root, workers] = process.argv.slice(2);
if (Number(workers) > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < Number(workers); i++) cluster.fork().on('listening', () => { if (++ready === Number(workers)) console.log('ready'); });
} else {
  http.createServer(async (req, res) => {
    if (req.url === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 14 });
      res.end('Hello, world!\\n');
    } else if (req.url === '/file.txt') {
      const data = await readFile(root + '/file.txt');
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': data.length });
      res.end(data);
    } else {
      res.writeHead(404);
      res.end();
    }
  }).listen(Number(port), '127.0.0.1', () => { if (!cluster.isWorker) console.log('ready'); });
}
`;

// ---------------------------------------------------------------------------------------------
// Servers. Each start function returns the port and a stop function.

interface Started {
  readonly port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export function startGroup(command: string, args: readonly string[], cwd: string, logFile: string): ChildProcess {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(child);
  let log = '';
  const keep = (chunk: Buffer) => { if (log.length < 16_384) log += chunk.toString(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => { try { writeFileSync(logFile, log); } catch { /* work dir gone */ } });
  (child as ChildProcess & { outputSoFar: () => string }).outputSoFar = () => log;
  return child;
}

export async function stopGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try { process.kill(-child.pid, signal); } catch { /* gone */ }
  const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(r, 5000, true))]);
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* whole group gone */ }
  if (timedOut) await exited;
  groups.delete(child);
}

/** Poll until GET path answers 200 with the expected body, or the process dies, or time runs out. */
export async function waitServing(port: number, path: string, child: ChildProcess | undefined, expect: (body: string) => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const output = (child as ChildProcess & { outputSoFar?: () => string }).outputSoFar?.() ?? '';
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before serving: ${output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
      const body = await response.text();
      if (response.status === 200 && expect(body)) return;
      last = `${response.status} ${JSON.stringify(body.slice(0, 80))}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`GET ${path} did not answer correctly within ${timeoutMs} ms (last: ${last})`);
}

const isHello = (body: string) => body === HELLO;
const isFile = (body: string) => body.length === 1024 && body.startsWith('abcdefghijklmnopqrstuvwxyzab');

async function startNode(site: Site, cluster: boolean): Promise<Started> {
  const port = await freePort();
  const child = startGroup(process.execPath, [join(site.dir, 'node-server.mjs'), String(port), site.www, cluster ? '2' : '1'], site.dir, join(site.dir, 'node.log'));
  await waitServing(port, '/hello', child, isHello);
  return { port, stop: () => stopGroup(child) };
}

async function startApache(site: Site): Promise<Started> {
  if (!existsSync('/usr/sbin/apache2') || !existsSync(join(APACHE_MODULES, 'libphp8.2.so'))) throw new Error('apache2 or libapache2-mod-php is not installed');
  const port = await freePort();
  const run = join(site.dir, 'apache-run');
  mkdirSync(run, { recursive: true });
  const root = process.getuid?.() === 0;
  const modules = ['mpm_prefork', 'authz_core', 'mime', 'dir', 'alias', 'cgi'];
  const conf = [
    ...modules.map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`),
    `LoadModule php_module ${APACHE_MODULES}/libphp8.2.so`,
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `PidFile ${run}/apache.pid`,
    `DefaultRuntimeDir ${run}`,
    `Mutex file:${run} default`,
    `ErrorLog ${site.dir}/apache-error.log`,
    'LogLevel warn',
    ...(root ? ['User www-data', 'Group www-data'] : []),
    `DocumentRoot ${site.www}`,
    `<Directory ${site.www}>\n  Require all granted\n</Directory>`,
    `ScriptAlias /cgi-bin/ ${site.dir}/cgi-bin/`,
    `<Directory ${site.dir}/cgi-bin>\n  Require all granted\n</Directory>`,
    'TypesConfig /etc/mime.types',
    'DirectoryIndex index.php index.html',
    '<FilesMatch "\\.php$">\n  SetHandler application/x-httpd-php\n</FilesMatch>',
    'KeepAlive On', 'MaxKeepAliveRequests 0', 'KeepAliveTimeout 5',
    // Enough children for wrk's 32 connections from the start (the shape of a tuned prefork server).
    'StartServers 40', 'MinSpareServers 40', 'MaxSpareServers 80', 'ServerLimit 150', 'MaxRequestWorkers 150', 'MaxConnectionsPerChild 0',
  ].join('\n') + '\n';
  const confFile = join(site.dir, 'apache.conf');
  writeFileSync(confFile, conf);
  const child = startGroup('/usr/sbin/apache2', ['-f', confFile, '-DFOREGROUND'], site.dir, join(site.dir, 'apache.log'));
  await waitServing(port, '/hello.php', child, isHello);
  return { port, stop: () => stopGroup(child) };
}

async function startNginx(site: Site): Promise<Started> {
  if (!existsSync('/usr/sbin/nginx') || !existsSync(FPM)) throw new Error('nginx or php-fpm is not installed');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const master = await startPhpFpm({
    siteName: 'bench', runDir: join(site.dir, 'fpm-run'), workers: PHP_CHILDREN, processManager: 'static',
    ...(root ? { listenOwner: 'www-data', listenGroup: 'www-data' } : {}),
  });
  fpmMasters.add(master);
  chmodSync(join(site.dir, 'fpm-run'), 0o755);
  const temp = join(site.dir, 'nginx-temp');
  mkdirSync(temp, { recursive: true });
  const conf = `
${root ? 'user www-data;' : ''}
worker_processes auto;
pid ${site.dir}/nginx.pid;
error_log ${site.dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${site.www};
    index index.php index.html;
    location ~ \\.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      fastcgi_pass unix:${master.socketPath};
    }
  }
}
`;
  const confFile = join(site.dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child = startGroup('/usr/sbin/nginx', ['-p', site.dir, '-e', join(site.dir, 'nginx-error.log'), '-c', confFile, '-g', 'daemon off;'], site.dir, join(site.dir, 'nginx.log'));
  try {
    await waitServing(port, '/hello.php', child, isHello);
  } catch (error) {
    await stopGroup(child, 'SIGQUIT');
    await master.stop();
    fpmMasters.delete(master);
    throw error;
  }
  return {
    port,
    stop: async () => {
      await stopGroup(child, 'SIGQUIT');
      await master.stop();
      fpmMasters.delete(master);
    },
  };
}

/** The CLI compiled next to this benchmark (dist/ under `npm run bench`), else the package's bin. */
function hatterCli(repoRoot: string): string {
  const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.js');
  return existsSync(compiled) ? compiled : join(repoRoot, 'bin', 'hatter.js');
}

/**
 * hatter serve with its own PHP-FPM (PHP_CHILDREN static children, like nginx's) for `.php` and static
 * files elsewhere. With landlock, the policy's one hat reads the site and nothing else; the workers
 * and the FPM master with its children run confined to it.
 */
async function startHatterPhp(site: Site, repoRoot: string, backend: 'none' | 'landlock'): Promise<Started> {
  if (!existsSync(FPM)) throw new Error('php-fpm is not installed');
  const port = await freePort();
  const admin = await freePort();
  const policy = join(site.dir, `hatter-php-${backend}.policy`);
  writeFileSync(policy, `profile hatter-bench {\n  ^127.0.0.1 {\n    ${site.www}/** r,\n  }\n}\n`);
  const config = [
    `listen: 127.0.0.1:${port}`,
    `admin: 127.0.0.1:${admin}`,
    `backend: ${backend}`,
    `policy: { file: ${policy}, profile: hatter-bench }`,
    'accessLog: off',
    'pool: { min: 2, max: 2 }',
    'sites:',
    '  - serverName: 127.0.0.1',
    '    documentRoot: www',
    '    locations:',
    "      - regex: '\\.php$'",
    `        handler: { type: fastcgi, phpFpm: true, children: ${PHP_CHILDREN}, root: www }`,
  ].join('\n') + '\n';
  return startHatterWith(site, repoRoot, `hatter-php-${backend}`, config, port, backend, [['/hello.php', isHello], ['/file.txt', isFile]]);
}

/** Write NAME.yaml, start hatter serve on it and wait until every path answers as expected. */
async function startHatterWith(
  site: Site, repoRoot: string, name: string, config: string, port: number, backend: string, ready: readonly (readonly [string, (body: string) => boolean])[],
): Promise<Started> {
  const configFile = join(site.dir, `${name}.yaml`);
  writeFileSync(configFile, config);
  const child = startGroup(process.execPath, [hatterCli(repoRoot), 'serve', configFile, '--backend', backend], site.dir, join(site.dir, `${name}.log`));
  try {
    for (const [path, expect] of ready) await waitServing(port, path, child, expect);
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
  return { port, stop: () => stopGroup(child) };
}

/** hatter serve with the Node handler at /hello, a CGI script at /cgi-bin/, static files elsewhere. */
async function startHatter(site: Site, repoRoot: string): Promise<Started> {
  const port = await freePort();
  const admin = await freePort();
  const config = [
    `listen: 127.0.0.1:${port}`,
    `admin: 127.0.0.1:${admin}`,
    'backend: none',
    'accessLog: off',
    'pool: { min: 2, max: 2 }',
    'sites:',
    '  - serverName: 127.0.0.1',
    '    documentRoot: www',
    '    locations:',
    '      - prefix: /hello',
    '        handler: { type: node, module: app/hello.mjs }',
    '      - prefix: /cgi-bin/',
    '        handler: { type: cgi, root: cgi-bin }',
  ].join('\n') + '\n';
  return startHatterWith(site, repoRoot, 'hatter', config, port, 'none', [['/hello', isHello], ['/cgi-bin/hello.sh', isHello], ['/file.txt', isFile]]);
}

// ---------------------------------------------------------------------------------------------
// Measuring.

function parseDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === 'us' ? value / 1000 : match[2] === 'ms' ? value : match[2] === 's' ? value * 1000 : value * 60_000;
}

export function parseWrk(output: string): Measurement {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p50 = /^\s*50%\s+(\S+)/m.exec(output);
  const p99 = /^\s*99%\s+(\S+)/m.exec(output);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  if (!rps || !p50 || !p99) throw new Error(`cannot read wrk output: ${output.trim().slice(0, 300)}`);
  const socketErrors = socket ? Number(socket[1]) + Number(socket[3]) + Number(socket[4]) : 0;
  return {
    requestsPerSecond: Number(rps[1]), p50Ms: parseDuration(p50[1]!), p99Ms: parseDuration(p99[1]!),
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

function wrk(port: number, path: string, seconds: number): Measurement {
  const result = spawnSync('/usr/bin/wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}${path}`],
    { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.error?.message}`);
  return parseWrk(result.stdout);
}

async function measurePath(port: number, path: string): Promise<Measurement> {
  wrk(port, path, 1); // warm-up: JIT, opcache, pools at full size
  const runs: Measurement[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(wrk(port, path, SECONDS));
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** One server: the hello page and the file, plus an optional second dynamic path reported as its own row. */
async function measureServer(
  name: string, start: () => Promise<Started>, helloPath: string, filePath: string, extra?: { name: string; path: string },
): Promise<Row[]> {
  process.stdout.write(`serve: ${name} ...\n`);
  let server: Started;
  try {
    server = await start();
  } catch (error) {
    const reason = `not measured: ${(error as Error).message.split('\n')[0]}`;
    process.stdout.write(`serve: ${name}: ${reason}\n`);
    const rows: Row[] = [{ server: name, hello: { notMeasured: reason }, file: { notMeasured: reason } }];
    if (extra) rows.push({ server: extra.name, hello: { notMeasured: reason }, file: { notMeasured: 'same server as the row above' } });
    return rows;
  }
  try {
    const hello = await measurePath(server.port, helloPath);
    const file = await measurePath(server.port, filePath);
    const rows: Row[] = [{ server: name, hello, file }];
    if (extra) {
      let other: Outcome;
      try {
        await waitServing(server.port, extra.path, undefined, isHello, 3000);
        other = await measurePath(server.port, extra.path);
      } catch (error) {
        other = { notMeasured: `not measured: ${(error as Error).message.split('\n')[0]}` };
      }
      rows.push({ server: extra.name, hello: other, file: { notMeasured: 'same server as the row above' } });
    }
    return rows;
  } finally {
    await server.stop();
  }
}

async function measureHatter(site: Site, repoRoot: string): Promise<Row[]> {
  const nodeName = 'hatter serve, Node handler (static handler for the file)';
  const cgiName = 'hatter serve, CGI script';
  process.stdout.write('serve: hatter serve ...\n');
  let server: Started;
  try {
    server = await startHatter(site, repoRoot);
  } catch (error) {
    const reason = `not measured: hatter serve did not start (${(error as Error).message.split('\n')[0]})`;
    process.stdout.write(`serve: ${reason}\n`);
    return [
      { server: nodeName, hello: { notMeasured: reason }, file: { notMeasured: reason } },
      { server: cgiName, hello: { notMeasured: reason }, file: { notMeasured: 'same server as the row above' } },
    ];
  }
  try {
    const hello = await measurePath(server.port, '/hello');
    const file = await measurePath(server.port, '/file.txt');
    const cgi = await measurePath(server.port, '/cgi-bin/hello.sh');
    return [
      { server: nodeName, hello, file },
      { server: cgiName, hello: cgi, file: { notMeasured: 'same server as the row above' } },
    ];
  } finally {
    await server.stop();
  }
}

/**
 * The PHP comparison on a shared machine: every server up at once, then ROUNDS rounds in which each
 * serves hello.php and the file for SECONDS in turn, so that a busy spell of other work hits all of
 * them alike. Ratios are taken within a round; the report gives their median and range.
 */
interface Interleaved {
  readonly names: readonly string[];
  /** rounds[r][server] = [hello req/s, file req/s] */
  readonly rounds: readonly (readonly (readonly [number, number])[])[];
  readonly notMeasured: readonly string[];
  readonly load: readonly number[];
}

const ROUNDS = Number(process.env.HATTER_BENCH_ROUNDS ?? 5);

async function measureInterleaved(servers: readonly { name: string; start: () => Promise<Started> }[]): Promise<Interleaved> {
  process.stdout.write('serve: PHP servers side by side ...\n');
  const started: { name: string; server: Started }[] = [];
  const notMeasured: string[] = [];
  const load: number[] = [];
  try {
    for (const { name, start } of servers) {
      try {
        started.push({ name, server: await start() });
      } catch (error) {
        notMeasured.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    for (const { server } of started) { wrk(server.port, '/hello.php', 1); wrk(server.port, '/file.txt', 1); }
    const rounds: (readonly [number, number])[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      load.push(loadavg()[0]!);
      // Rotate the order each round: no server always runs first (or right after the heaviest).
      const order = started.map((_, i) => (i + round) % started.length);
      const results: [number, number][] = started.map(() => [0, 0]);
      for (const i of order) {
        const port = started[i]!.server.port;
        results[i] = [wrk(port, '/hello.php', SECONDS).requestsPerSecond, wrk(port, '/file.txt', SECONDS).requestsPerSecond];
      }
      rounds.push(results);
      process.stdout.write(`serve: round ${round + 1}: ${started.map((s, i) => `${s.name} ${Math.round(results[i]![0])}/${Math.round(results[i]![1])}`).join(', ')}\n`);
    }
    load.push(loadavg()[0]!);
    return { names: started.map((s) => s.name), rounds, notMeasured, load };
  } finally {
    for (const { server } of started) await server.stop();
  }
}

function interleavedSection(result: Interleaved): string[] {
  const { names, rounds } = result;
  if (rounds.length === 0 || names.length === 0) return ['', 'PHP side by side: not measured.', ...result.notMeasured.map((n) => `- ${n}`)];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const index = (prefix: string) => names.findIndex((n) => n.startsWith(prefix));
  const nginx = index('nginx');
  const apache = index('Apache');
  const ratio = (a: number, b: number, column: 0 | 1) => {
    if (a < 0 || b < 0) return undefined;
    const values = rounds.map((r) => r[a]![column] / r[b]![column]);
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  };
  const cell = (r: ReturnType<typeof ratio>) => (r ? `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})` : '');
  const table = markdownTable({
    headers: ['server', 'hello.php req/s (median)', 'vs nginx + php-fpm', 'vs Apache + mod_php', '1 KB file req/s (median)', 'file vs nginx'],
    rows: names.map((name, i) => [
      name, fmt(median(rounds.map((r) => r[i]![0]))), cell(ratio(i, nginx, 0)), cell(ratio(i, apache, 0)),
      fmt(median(rounds.map((r) => r[i]![1]))), cell(ratio(i, nginx, 1)),
    ]),
  });
  const landlock = index('hatter + PHP-FPM (landlock)');
  const none = index('hatter + PHP-FPM (none)');
  const verdict = (label: string, r: ReturnType<typeof ratio>, goal: number) =>
    `- ${label} ≥ ${goal}×: ${r ? `${r.median.toFixed(2)}× (range ${r.min.toFixed(2)}–${r.max.toFixed(2)}) ${r.median >= goal ? 'MET' : 'NOT MET'}` : 'not checked (a server was not measured)'}`;
  return [
    '',
    `### PHP side by side (issue 22)`,
    '',
    `All four servers up at once; ${rounds.length} rounds, each server serving \`/hello.php\` then the 1 KB file for ${SECONDS} s in turn ` +
      `(wrk -t1 -c${CONNECTIONS}), the order rotated every round; ratios are taken within a round (median, and range over the rounds). ` +
      `hatter and nginx both use ${PHP_CHILDREN} static PHP-FPM children; hatter has 2 workers. ` +
      `Load average (1 min) at each round: ${result.load.map((l) => l.toFixed(1)).join(', ')}.`,
    '',
    table,
    '',
    'Targets (issue 22):',
    verdict('hatter + PHP-FPM (landlock) vs nginx + php-fpm, hello.php', ratio(landlock, nginx, 0), 1.0),
    verdict('hatter + PHP-FPM (landlock) vs Apache prefork + mod_php, hello.php', ratio(landlock, apache, 0), 0.8),
    verdict('hatter static 1 KB file (none) vs nginx', ratio(none, nginx, 1), 0.6),
    ...(result.notMeasured.length ? ['', 'Not measured:', ...result.notMeasured.map((n) => `- ${n}`)] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const measured = (o: Outcome): o is Measurement => 'requestsPerSecond' in o;

function report(repoRoot: string, rows: readonly Row[], load: readonly number[], interleaved: Interleaved | undefined): void {
  const apache = rows.find((r) => r.server.startsWith('Apache'));
  const apacheRps = apache && measured(apache.hello) ? apache.hello.requestsPerSecond : undefined;
  const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const cells = (o: Outcome): string[] => measured(o)
    ? [fmt(o.requestsPerSecond), `${o.p50Ms.toFixed(2)} ms`, `${o.p99Ms.toFixed(2)} ms`]
    : [o.notMeasured.startsWith('same server') ? '(see above)' : 'not measured', '', ''];
  const tableRows = rows.map((row) => [
    row.server,
    ...cells(row.hello),
    measured(row.hello) && apacheRps ? `${(row.hello.requestsPerSecond / apacheRps).toFixed(2)}×` : '',
    ...cells(row.file),
  ]);
  const table = markdownTable({
    headers: ['server', 'hello req/s', 'hello p50', 'hello p99', 'hello vs Apache+mod_php', '1 KB file req/s', 'file p50', 'file p99'],
    rows: tableRows,
  });
  const errors = rows.flatMap((r) => [r.hello, r.file].filter(measured).filter((m) => m.errors > 0).map((m) => `${r.server}: ${m.errors} failed responses`));
  const notes = [...new Set(rows.flatMap((r) => [r.hello, r.file]
    .filter((o): o is { notMeasured: string } => !measured(o) && !o.notMeasured.startsWith('same server'))
    .map((o) => `${r.server}: ${o.notMeasured}`)))];
  const hatterNode = rows.find((r) => r.server.startsWith('hatter serve, Node'));
  const hatterCgi = rows.find((r) => r.server.startsWith('hatter serve, CGI'));
  const targets: string[] = [];
  const target = (label: string, a: Outcome | undefined, b: Outcome | undefined, goal: number) => {
    if (!a || !b || !measured(a) || !measured(b)) {
      targets.push(`- ${label} ≥ ${goal}×: not checked (a row was not measured)`);
      return;
    }
    const ratio = a.requestsPerSecond / b.requestsPerSecond;
    targets.push(`- ${label} ≥ ${goal}×: ${ratio.toFixed(2)}× ${ratio >= goal ? 'MET' : 'NOT MET'}`);
  };
  target('hatter Node handler vs Apache prefork + mod_php (hello)', hatterNode?.hello, apache?.hello, 1.5);
  target('hatter Node handler vs hatter CGI (hello)', hatterNode?.hello, hatterCgi?.hello, 10);

  const text = [
    '## serve',
    '',
    `${machineLine()}. \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s\` on loopback, median of ${RUNS} runs after a 1 s warm-up; ` +
      'wrk and the server share the machine\'s cores. The hello page is 14 bytes of text (a PHP `echo` for Apache and nginx, ' +
      'a fetch-style handler for hatter, a shell script for CGI); the file is the same 1 KB text file for every server. ' +
      'hatter (Node handler row) runs with the `none` backend (no kernel confinement) and 2 workers; Apache prefork with 40 to 150 children and ' +
      `mod_php; nginx with one worker per core and php-fpm (${PHP_CHILDREN} static children, UNIX socket); hatter + PHP-FPM rows: 2 workers and ` +
      `its own PHP-FPM master with ${PHP_CHILDREN} static children, under \`none\` and under \`landlock\` (workers, master and children confined to the site's hat); no access logs anywhere. ` +
      `Load average (1 min) before and after: ${load.map((l) => l.toFixed(1)).join(' and ')}` +
      (load.some((l) => l > 2) ? ' — other work was running, so the absolute figures are low and noisy; compare rows of the same run.' : '.'),
    '',
    table,
    '',
    'Targets (issue 8):',
    ...targets,
    ...(errors.length ? ['', 'Failed responses:', ...errors.map((e) => `- ${e}`)] : []),
    ...(notes.length ? ['', 'Not measured:', ...notes.map((n) => `- ${n}`)] : []),
    ...(interleaved ? interleavedSection(interleaved) : []),
  ].join('\n');
  process.stdout.write(`\n${text}\n`);
  writeBenchSection(repoRoot, 'serve', text);
}

