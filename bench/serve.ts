// `npm run bench -- serve`: requests per second and p50/p99 latency, with wrk -t1 -c32 on loopback, for
// the same hello-world page and the same 1 KB static file served by: plain Node http, Node cluster (2
// workers), hatter serve (Node handler, CGI script, static handler), Apache 2.4 prefork + mod_php and
// nginx + php-fpm. Every server is started here with a generated config in a temp dir, on loopback
// ports chosen at run time, and stopped afterwards whatever happens. Medians of RUNS runs.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';
import {
  FPM, freePort, killAllNow, startApache as startApacheSite, startGroup, startHatterWith, startNginx as startNginxSite, stopFpmMasters, stopGroup,
  waitServing, wrk as wrkOn, type Measurement, type Started,
} from './support/servers.js';

const SECONDS = Number(process.env.HATTER_BENCH_SECONDS ?? 3);
const RUNS = Number(process.env.HATTER_BENCH_RUNS ?? 3);
const CONNECTIONS = 32;
const HELLO = 'Hello, world!\n';
/** PHP-FPM children for nginx and for hatter's PHP rows alike (static pool), a multiple of hatter's 2 workers. */
const PHP_CHILDREN = 4;

type Outcome = Measurement | { readonly notMeasured: string };

interface Row {
  readonly server: string;
  readonly hello: Outcome;
  readonly file: Outcome;
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
      { name: 'hatter + PHP-FPM (landlock, fast lane off)', start: () => startHatterPhp(site, repoRoot, 'landlock', false) },
      { name: 'nginx + php-fpm', start: () => startNginx(site) },
      { name: 'nginx + php-fpm (kept FastCGI connections)', start: () => startNginx(site, true) },
      { name: 'Apache prefork + mod_php', start: () => startApache(site) },
    ]);
  } finally {
    await stopFpmMasters();
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

const isHello = (body: string) => body === HELLO;
const isFile = (body: string) => body.length === 1024 && body.startsWith('abcdefghijklmnopqrstuvwxyzab');

async function startNode(site: Site, cluster: boolean): Promise<Started> {
  const port = await freePort();
  const child = startGroup(process.execPath, [join(site.dir, 'node-server.mjs'), String(port), site.www, cluster ? '2' : '1'], site.dir, join(site.dir, 'node.log'));
  await waitServing(port, '/hello', child, isHello);
  return { port, stop: () => stopGroup(child) };
}

function startApache(site: Site): Promise<Started> {
  return startApacheSite({ dir: site.dir, www: site.www, readyPath: '/hello.php', ready: isHello }, { cgiBin: join(site.dir, 'cgi-bin') });
}

function startNginx(site: Site, keepConnections = false): Promise<Started> {
  return startNginxSite({ dir: site.dir, www: site.www, readyPath: '/hello.php', ready: isHello }, PHP_CHILDREN, { keepConnections });
}

/**
 * hatter serve with its own PHP-FPM (PHP_CHILDREN static children, like nginx's) for `.php` and static
 * files elsewhere. With landlock, the policy's one hat reads the site and nothing else; the workers
 * and the FPM master with its children run confined to it.
 */
async function startHatterPhp(site: Site, repoRoot: string, backend: 'none' | 'landlock', fastLane = true): Promise<Started> {
  if (!existsSync(FPM)) throw new Error('php-fpm is not installed');
  const port = await freePort();
  const admin = await freePort();
  const policy = join(site.dir, `hatter-php-${backend}${fastLane ? '' : '-http'}.policy`);
  writeFileSync(policy, `profile hatter-bench {\n  ^127.0.0.1 {\n    ${site.www}/** r,\n  }\n}\n`);
  const config = [
    `listen: 127.0.0.1:${port}`,
    `admin: 127.0.0.1:${admin}`,
    `backend: ${backend}`,
    `policy: { file: ${policy}, profile: hatter-bench }`,
    'accessLog: off',
    'pool: { min: 2, max: 2 }',
    `front: { fastLane: ${fastLane} }`,
    'sites:',
    '  - serverName: 127.0.0.1',
    '    documentRoot: www',
    '    locations:',
    "      - regex: '\\.php$'",
    `        handler: { type: fastcgi, phpFpm: true, children: ${PHP_CHILDREN}, root: www }`,
  ].join('\n') + '\n';
  return startHatterWith(site.dir, repoRoot, `hatter-php-${backend}${fastLane ? '' : '-http'}`, config, port, backend, [['/hello.php', isHello], ['/file.txt', isFile]]);
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
  return startHatterWith(site.dir, repoRoot, 'hatter', config, port, 'none', [['/hello', isHello], ['/cgi-bin/hello.sh', isHello], ['/file.txt', isFile]]);
}

// ---------------------------------------------------------------------------------------------
// Measuring.

function wrk(port: number, path: string, seconds: number): Measurement {
  return wrkOn(port, path, seconds, CONNECTIONS);
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
    // Warm-up: long enough for V8 to have optimized the Node workers' hot paths.
    for (const { server } of started) { wrk(server.port, '/hello.php', 2); wrk(server.port, '/file.txt', 1); }
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
  const nginx = names.indexOf('nginx + php-fpm');
  const apache = names.indexOf('Apache prefork + mod_php');
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
  const landlock = names.indexOf('hatter + PHP-FPM (landlock)');
  const none = names.indexOf('hatter + PHP-FPM (none)');
  const verdict = (label: string, r: ReturnType<typeof ratio>, goal: number) =>
    `- ${label} ≥ ${goal}×: ${r ? `${r.median.toFixed(2)}× (range ${r.min.toFixed(2)}–${r.max.toFixed(2)}) ${r.median >= goal ? 'MET' : 'NOT MET'}` : 'not checked (a server was not measured)'}`;
  return [
    '',
    `### PHP side by side (issue 22)`,
    '',
    `All ${names.length} servers up at once; ${rounds.length} rounds, each server serving \`/hello.php\` then the 1 KB file for ${SECONDS} s in turn ` +
      `(wrk -t1 -c${CONNECTIONS}), the order rotated every round; ratios are taken within a round (median, and range over the rounds). ` +
      `hatter and nginx both use ${PHP_CHILDREN} static PHP-FPM children; hatter has 2 workers; "fast lane off" is hatter with ` +
      '`front.fastLane: false` (every request through node:http), for comparison; "kept FastCGI connections" is nginx with an upstream ' +
      '`keepalive` and `fastcgi_keep_conn on` (as hatter keeps its connections; Debian\'s nginx configuration does not), to show what a C front does with the same PHP-FPM exchange. ' +
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

