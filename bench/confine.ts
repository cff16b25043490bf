// `npm run bench -- confine`: what kernel confinement costs.
//   1. spawn cost: /bin/true and `node -e 0` started plainly vs through the Landlock launcher (paired,
//      alternating order, medians of the per-pair differences);
//   2. throughput: the same hello-world Node handler under `hatter serve --backend none` and
//      `--backend landlock` (ruleset, capabilities dropped to the hat's, seccomp socket filter),
//      alternating runs with wrk -t1 -c32 on loopback. Target: <= 5% cost.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLauncher, launcherArgs, nodeRuntimeNeeds, probeLandlock } from '../src/confine/launcher.js';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';

const SPAWNS = Number(process.env.HATTER_BENCH_SPAWNS ?? 60);
const SECONDS = Number(process.env.HATTER_BENCH_SECONDS ?? 3);
const RUNS = Number(process.env.HATTER_BENCH_RUNS ?? 6);

function timeSpawn(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, [...args], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`${command} exited ${code}`))));
  });
}

interface SpawnRow { readonly what: string; readonly plain: number; readonly confined: number; readonly pairedDiff: number }

async function pairedSpawns(what: string, launcher: string, rules: readonly string[], command: string, args: readonly string[]): Promise<SpawnRow> {
  const plain: number[] = [];
  const confined: number[] = [];
  const diffs: number[] = [];
  for (let i = 0; i < SPAWNS; i++) {
    let p: number;
    let c: number;
    if (i % 2 === 0) { p = await timeSpawn(command, args); c = await timeSpawn(launcher, [...rules, '--', command, ...args]); }
    else { c = await timeSpawn(launcher, [...rules, '--', command, ...args]); p = await timeSpawn(command, args); }
    plain.push(p); confined.push(c); diffs.push(c - p);
  }
  return { what, plain: median(plain), confined: median(confined), pairedDiff: median(diffs) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address() as AddressInfo; server.close(() => resolve(port)); });
  });
}

interface Throughput { readonly rps: number; readonly p50: number; readonly p99: number; readonly errors: number; readonly requests: number; cpuMsPerRequest?: number }

function parseDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2]!]!;
}

function wrk(port: number, seconds: number): Throughput {
  const result = spawnSync('wrk', ['-t1', '-c32', `-d${seconds}s`, '--latency', '-H', 'Host: hello.localhost', `http://127.0.0.1:${port}/hello`], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.error?.message}`);
  const out = result.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  return { requests, rps, p50: parseDuration(/^\s*50%\s+(\S+)/m.exec(out)?.[1] ?? ''), p99: parseDuration(/^\s*99%\s+(\S+)/m.exec(out)?.[1] ?? ''), errors: non2xx };
}

/** CPU time (user + system, ms) used so far by a process and all its descendants. */
function treeCpuMs(root: number): number {
  const ticks = 100; // USER_HZ on Linux
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
      cpu.set(Number(entry), (Number(fields[11]) + Number(fields[12])) * 1000 / ticks);
    } catch { /* exited meanwhile */ }
  }
  let total = 0;
  for (const [pid, ms] of cpu) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) { total += ms; break; }
    }
  }
  return total;
}

function measure(server: { child: ChildProcess; port: number }): Throughput {
  const before = treeCpuMs(server.child.pid!);
  const result = wrk(server.port, SECONDS);
  const used = treeCpuMs(server.child.pid!) - before;
  result.cpuMsPerRequest = used / result.requests;
  return result;
}

async function startHatter(repoRoot: string, config: string, backend: string, port: number): Promise<ChildProcess> {
  void repoRoot;
  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.js');
  const child = spawn(process.execPath, [bin, 'serve', config, '--backend', backend, '--listen', `127.0.0.1:${port}`, '--admin', 'off', '--access-log', 'off'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HATTER_LAUNCHER: launcherFor(repoRoot) } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { if (stderr.length < 8192) stderr += chunk; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hatter serve --backend ${backend} exited ${child.exitCode}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const probe = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: hello.localhost', `http://127.0.0.1:${port}/hello`], { encoding: 'utf8', timeout: 5000 });
    if (probe.stdout === '200') return child;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`hatter serve --backend ${backend} did not answer: ${stderr.slice(-300)}`); }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => { child.once('exit', resolve); setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 10_000).unref(); });
}

function launcherFor(repoRoot: string): string {
  return findLauncher(process.env, repoRoot) ?? '';
}

function prepareSite(work: string): string {
  const site = join(work, 'hello');
  mkdirSync(join(site, 'app'), { recursive: true });
  mkdirSync(join(site, 'public'));
  writeFileSync(join(site, 'app', 'hello.mjs'), `export default function hello() {\n  return new Response('Hello, world!\\n', { headers: { 'content-type': 'text/plain' } });\n}\n`);
  writeFileSync(join(work, 'policy'), `profile bench {\n  ^hello.localhost {\n    /usr/lib/** mr,\n    /etc/ld.so.cache r,\n    ${site}/** r,\n  }\n  ^HANDLING_UNTRUSTED_INPUT {\n    /usr/lib/** mr,\n    network inet stream,\n  }\n  ^DEFAULT_URI {\n    /usr/lib/** mr,\n  }\n}\n`);
  const config = join(work, 'hatter.yaml');
  writeFileSync(config, `policy:\n  file: ${join(work, 'policy')}\n  profile: bench\npool:\n  min: 2\n  max: 2\nsites:\n  - serverName: hello.localhost\n    documentRoot: hello/public\n    locations:\n      - prefix: /hello\n        handler: { type: node, module: hello/app/hello.mjs }\n`);
  return config;
}

export async function run(repoRoot: string): Promise<void> {
  const launcher = findLauncher(process.env, repoRoot);
  const probe = launcher ? probeLandlock(launcher) : undefined;
  if (!launcher || !probe || !('abi' in probe) || probe.abi < 1) {
    process.stdout.write(`confine: ${!launcher ? 'launcher not built (node scripts/build-native.mjs)' : 'no Landlock on this kernel'}; skipped\n`);
    return;
  }
  const needs = nodeRuntimeNeeds();
  const nodeRules = launcherArgs({ landlock: { paths: [...needs.read.map((path) => ({ path, read: true, write: false, exec: false })), ...needs.exec.map((path) => ({ path, read: true, write: false, exec: true }))], scoped: true } });
  const manyRules = [...nodeRules, ...Array.from({ length: 50 }, (_, i) => ['-r', `/nonexistent/bench/${i}`]).flat(), ...['/etc', '/usr/share', '/var/lib', '/srv', '/opt'].flatMap((p) => ['-r', p])];
  process.stdout.write(`confine: spawn cost (${SPAWNS} paired spawns each) ...\n`);
  const spawnRows = [
    await pairedSpawns('/bin/true', launcher, ['-x', '/usr', '-r', '/etc/ld.so.cache'], '/bin/true', []),
    await pairedSpawns('/bin/true, 60 path rules', launcher, ['-x', '/usr', ...manyRules], '/bin/true', []),
    await pairedSpawns('node -e 0', launcher, nodeRules, process.execPath, ['-e', '0']),
    // what hatter serve adds on top of the ruleset: capabilities (-C) and the socket filter (-Y/-F)
    await pairedSpawns('node -e 0, + no capabilities + socket filter', launcher, [...nodeRules, '-C', '0', '-Y', '-F', '1:*:*:pair', '-F', '2:1:*', '-F', '10:1:*'], process.execPath, ['-e', '0']),
  ];

  const throughput: { backend: string; result: Throughput | string }[] = [];
  const pairRatios: number[] = [];
  const cpuRatios: number[] = [];
  const hasWrk = spawnSync('wrk', ['--version']).error === undefined;
  const work = mkdtempSync(join(tmpdir(), 'hatter-bench-confine-'));
  try {
    if (!hasWrk) throughput.push({ backend: 'both', result: 'wrk is not installed' });
    else {
      const config = prepareSite(work);
      const samples: Record<string, Throughput[]> = { none: [], landlock: [] };
      const servers: Record<string, { child: ChildProcess; port: number }> = {};
      try {
        for (const backend of ['none', 'landlock']) {
          process.stdout.write(`confine: hatter serve --backend ${backend} ...\n`);
          const port = await freePort();
          servers[backend] = { child: await startHatter(repoRoot, config, backend, port), port };
          wrk(port, 1); // warm-up
        }
        // Adjacent runs form a pair (alternating which goes first); the median of the pair ratios is what
        // the cost is read from, so load from other processes on the machine cancels out as far as it can.
        for (let i = 0; i < RUNS; i++) {
          for (const backend of i % 2 === 0 ? ['none', 'landlock'] : ['landlock', 'none']) samples[backend]!.push(measure(servers[backend]!));
          pairRatios.push(samples.landlock![i]!.rps / samples.none![i]!.rps);
          cpuRatios.push(samples.landlock![i]!.cpuMsPerRequest! / samples.none![i]!.cpuMsPerRequest!);
        }
        for (const backend of ['none', 'landlock']) {
          const runs = samples[backend]!;
          throughput.push({ backend, result: { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), errors: runs.reduce((s, r) => s + r.errors, 0), requests: runs.reduce((s, r) => s + r.requests, 0), cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest!)) } });
        }
      } catch (error) {
        throughput.push({ backend: 'both', result: (error as Error).message.split('\n')[0]! });
      } finally {
        for (const server of Object.values(servers)) await stop(server.child);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const spawnTable = {
    headers: ['program', 'plain spawn (ms, median)', 'through the launcher (ms, median)', 'paired difference (ms, median)', 'ratio'],
    rows: spawnRows.map((r) => [r.what, r.plain, r.confined, r.pairedDiff, `${(r.confined / r.plain).toFixed(2)}×`]),
  };
  const none = throughput.find((t) => t.backend === 'none')?.result;
  const landlock = throughput.find((t) => t.backend === 'landlock')?.result;
  let throughputMd: string;
  if (typeof none === 'object' && typeof landlock === 'object') {
    const ratio = median(pairRatios);
    const cost = (1 - ratio) * 100;
    throughputMd = markdownTable({
      headers: ['backend', 'requests/s (median)', 'p50 ms', 'p99 ms', 'server CPU µs per request (median)', 'errors'],
      rows: [
        ['none', none.rps, none.p50, none.p99, none.cpuMsPerRequest! * 1000, none.errors],
        ['landlock', landlock.rps, landlock.p50, landlock.p99, landlock.cpuMsPerRequest! * 1000, landlock.errors],
      ],
    }) + `\n\nLandlock throughput cost: **${cost.toFixed(1)}%** (median of ${pairRatios.length} paired landlock/none requests/s ratios = ${ratio.toFixed(3)}; pairs ${pairRatios.map((r) => r.toFixed(2)).join(', ')}; target ≤ 5%).` +
      `\nLandlock CPU cost per request: **${((median(cpuRatios) - 1) * 100).toFixed(1)}%** (median of paired CPU-time ratios ${cpuRatios.map((r) => r.toFixed(2)).join(', ')}; CPU time of the whole server process tree, less sensitive to other load on the machine than requests/s).`;
  } else {
    throughputMd = `Throughput not measured: ${throughput.map((t) => typeof t.result === 'string' ? t.result : '').filter(Boolean).join('; ')}`;
  }
  const load = loadavg()[0]!.toFixed(1);
  const busy = loadavg()[0]! > cpus().length
    ? ` The machine was shared and busy (load ${load} on ${cpus().length} cores): single requests/s pairs vary widely; rerun on a quiet machine before reading the cost.`
    : '';
  const markdown = `## confine\n\n${machineLine()}; Landlock ABI ${probe.abi}; load average ${load} while measuring.${busy}\n\nSpawn cost of the restrict-then-exec launcher (${SPAWNS} pairs, alternating order):\n\n${markdownTable(spawnTable)}\n\nHello-world Node handler, \`hatter serve --backend none\` vs \`--backend landlock\` (Landlock ruleset, every capability the hat does not grant dropped, seccomp socket filter; no namespaces) in the same run (wrk -t1 -c32, ${RUNS}×${SECONDS} s alternating, 2 workers):\n\n${throughputMd}\n`;
  process.stdout.write(`${markdown}\n`);
  writeBenchSection(repoRoot, 'confine', markdown);
}
