// Benchmark: `hatter lint` on Debian's /etc/apparmor.d and on the shared upstream profile corpus, next to
// `hatter check` on the same trees in the same run (check is the loading floor lint starts from).
// Wall and CPU time (user + system of the child), median of RUNS; the load average is printed because
// on a shared machine wall time says more about the neighbours than about hatter.
//
//   npm run bench -- lint
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { markdownTable, machineLine, median, writeBenchSection } from './support/report.js';

const RUNS = 3;

function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return 0;
  }
}

function timed(args: string[], env: NodeJS.ProcessEnv = process.env): { ms: number; cpuMs: number } {
  const cpu = childrenCpuMs();
  const started = process.hrtime.bigint();
  spawnSync(process.execPath, args, { stdio: 'ignore', env, maxBuffer: 64 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: childrenCpuMs() - cpu };
}

export async function run(repoRoot: string): Promise<void> {
  const bin = join(repoRoot, 'bin', 'hatter.js');
  const corpus = resolve(process.env.HATTER_CORPORA ?? join(repoRoot, '..', 'shared', 'corpora', 'apparmor'), 'profiles', 'apparmor.d');
  const trees: { name: string; args: string[] }[] = [];
  if (existsSync('/etc/apparmor.d')) trees.push({ name: 'Debian /etc/apparmor.d', args: ['/etc/apparmor.d'] });
  if (existsSync(corpus)) trees.push({ name: 'upstream corpus profiles/apparmor.d', args: ['-I', corpus, corpus] });
  const rows: (string | number)[][] = [];
  for (const tree of trees) {
    // check, then lint three ways: no cache (every run cold), a cold cache (the first run, which also
    // writes it) and a warm one (an unchanged tree linted again).
    const cacheDir = mkdtempSync(join(tmpdir(), 'hatter-bench-lint-'));
    const env = { ...process.env, HATTER_CACHE_DIR: cacheDir };
    const rowsOf = (label: string, samples: { ms: number; cpuMs: number }[]) => rows.push([tree.name, label, median(samples.map((s) => s.ms)), median(samples.map((s) => s.cpuMs))]);
    rowsOf('hatter check', Array.from({ length: RUNS }, () => timed([bin, 'check', '-q', ...tree.args])));
    rowsOf('hatter lint --no-cache', Array.from({ length: RUNS }, () => timed([bin, 'lint', '--json', '--no-cache', ...tree.args])));
    rowsOf('hatter lint, cold cache', Array.from({ length: RUNS }, () => { rmSync(cacheDir, { recursive: true, force: true }); return timed([bin, 'lint', '--json', ...tree.args], env); }));
    rowsOf('hatter lint, warm cache', Array.from({ length: RUNS }, () => timed([bin, 'lint', '--json', ...tree.args], env)));
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const table = markdownTable({ headers: ['tree', 'command', 'wall ms (median)', 'CPU ms (median)'], rows });
  process.stdout.write(`${table}\n`);
  writeBenchSection(repoRoot, 'lint', `## lint\n\n${machineLine()}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} while measuring.\n\n${table}\n\nThe target is under 2 s wall on an idle 2-core machine; on a machine shared with other builds the CPU column is the comparable number. A warm run checks that every file the cached loads read is unchanged (a SHA-256 each) and prints the kept findings.`);
}
