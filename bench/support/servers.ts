// The servers the web benchmarks compare, each started with a generated configuration in a work
// directory on a loopback port chosen at run time, and stopped afterwards whatever happens: Apache 2.4
// prefork + mod_php, nginx + php-fpm, hatter serve; and wrk to measure them. Shared by bench/serve.ts
// and bench/wordpress.ts (and the WordPress test), so every comparison starts its servers the same way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killMasterAndChildren, startPhpFpm, type PhpFpmMaster } from '../../src/server/fastcgi/index.js';

export const APACHE_MODULES = '/usr/lib/apache2/modules';
export const FPM = '/usr/sbin/php-fpm8.2';

export interface Started {
  readonly port: number;
  stop(): Promise<void>;
}

/** Every process group we start, so that nothing outlives the benchmark. */
const groups = new Set<ChildProcess>();
const fpmMasters = new Set<PhpFpmMaster>();

/** Kill every process group and PHP-FPM master started here (on exit and signals). */
export function killAllNow(): void {
  for (const child of groups) {
    if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  groups.clear();
  for (const master of fpmMasters) killMasterAndChildren(master.pid);
  fpmMasters.clear();
}

/** Stop every PHP-FPM master still running, politely. */
export async function stopFpmMasters(): Promise<void> {
  for (const master of fpmMasters) await master.stop().catch(() => {});
  fpmMasters.clear();
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

/** Where a server finds its files, and how to tell it is up. */
export interface ServedSite {
  /** Work directory for configurations, logs, run files. */
  readonly dir: string;
  /** Document root. */
  readonly www: string;
  /** A path that answers 200 once the server is up, and a check of its body. */
  readonly readyPath: string;
  readonly ready: (body: string) => boolean;
}

/** Apache 2.4 prefork + mod_php serving `site.www` (and shell CGI scripts from `cgiBin` at /cgi-bin/). */
export async function startApache(site: ServedSite, options: { cgiBin?: string } = {}): Promise<Started> {
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
    ...(options.cgiBin ? [`ScriptAlias /cgi-bin/ ${options.cgiBin}/`, `<Directory ${options.cgiBin}>\n  Require all granted\n</Directory>`] : []),
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
  await waitServing(port, site.readyPath, child, site.ready, 30_000);
  return { port, stop: () => stopGroup(child) };
}

/**
 * nginx (one worker per core) + a php-fpm master with `phpChildren` static children on a UNIX socket.
 * `keepConnections`: nginx keeps its FastCGI connections open between requests (an upstream with
 * `keepalive` and `fastcgi_keep_conn on`), as hatter does; Debian's nginx configuration does not, so
 * the plain form is the reference and this one shows what a C front with kept connections reaches.
 */
export async function startNginx(site: ServedSite, phpChildren: number, options: { keepConnections?: boolean } = {}): Promise<Started> {
  if (!existsSync('/usr/sbin/nginx') || !existsSync(FPM)) throw new Error('nginx or php-fpm is not installed');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const name = options.keepConnections ? 'nginx-keep' : 'nginx';
  const fpmRun = join(site.dir, `${name}-fpm-run`);
  const master = await startPhpFpm({
    siteName: 'bench', runDir: fpmRun, workers: phpChildren, processManager: 'static',
    ...(root ? { listenOwner: 'www-data', listenGroup: 'www-data' } : {}),
  });
  fpmMasters.add(master);
  chmodSync(fpmRun, 0o755);
  const temp = join(site.dir, `${name}-temp`);
  mkdirSync(temp, { recursive: true });
  const workers = Math.max(1, availableParallelism());
  // Each worker keeps at most its share of the children, as hatter's workers do.
  const upstream = options.keepConnections
    ? `  upstream php {\n    server unix:${master.socketPath};\n    keepalive ${Math.max(1, Math.floor(phpChildren / workers))};\n  }\n`
    : '';
  const pass = options.keepConnections ? 'fastcgi_pass php;\n      fastcgi_keep_conn on;' : `fastcgi_pass unix:${master.socketPath};`;
  const conf = `
${root ? 'user www-data;' : ''}
worker_processes ${workers};
pid ${site.dir}/${name}.pid;
error_log ${site.dir}/${name}-error.log warn;
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
${upstream}  server {
    listen 127.0.0.1:${port};
    root ${site.www};
    index index.php index.html;
    location ~ \\.php$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      ${pass}
    }
  }
}
`;
  const confFile = join(site.dir, `${name}.conf`);
  writeFileSync(confFile, conf);
  const child = startGroup('/usr/sbin/nginx', ['-p', site.dir, '-e', join(site.dir, `${name}-error.log`), '-c', confFile, '-g', 'daemon off;'], site.dir, join(site.dir, `${name}.log`));
  const stop = async () => {
    await stopGroup(child, 'SIGQUIT');
    await master.stop();
    fpmMasters.delete(master);
  };
  try {
    await waitServing(port, site.readyPath, child, site.ready, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

/** The CLI compiled next to the benchmarks (dist/ under `npm run bench`), else the package's bin. */
export function hatterCli(repoRoot: string): string {
  const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'bin.js');
  return existsSync(compiled) ? compiled : join(repoRoot, 'bin', 'hatter.js');
}

/** Write dir/NAME.yaml, start hatter serve on it and wait until every path answers as expected. */
export async function startHatterWith(
  dir: string, repoRoot: string, name: string, config: string, port: number, backend: string, ready: readonly (readonly [string, (body: string) => boolean])[],
): Promise<Started> {
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, config);
  const child = startGroup(process.execPath, [hatterCli(repoRoot), 'serve', configFile, '--backend', backend], dir, join(dir, `${name}.log`));
  try {
    for (const [path, expect] of ready) await waitServing(port, path, child, expect, 60_000);
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
  return { port, stop: () => stopGroup(child) };
}

export interface Measurement {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

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

/**
 * wrk -t1 -cCONNECTIONS for `seconds` against a loopback path; `timeoutSeconds`: wrk's per-request
 * timeout (its default, 2 s, counts slower responses as errors and leaves them out of the latencies).
 */
export function wrk(port: number, path: string, seconds: number, connections: number, timeoutSeconds?: number): Measurement {
  const result = spawnSync('/usr/bin/wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', ...(timeoutSeconds ? ['--timeout', `${timeoutSeconds}s`] : []), `http://127.0.0.1:${port}${path}`],
    { encoding: 'utf8', timeout: (seconds + 30 + (timeoutSeconds ?? 0)) * 1000 });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.error?.message}`);
  return parseWrk(result.stdout);
}
