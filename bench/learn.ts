// Benchmark: `hatter learn` on a 1,000,000-line complain-mode log (the logs benchmark's generator):
// reading the log into needs (the CLI's path: the NeedCollector as the reader's sink, one decide() per distinct need), proposing rules with
// alternatives and tenant witnesses, and one interactive answer (Review.press + renderReview).
// Target (issue #19): proposals under 10 s, memory bounded by distinct needs, a redraw under 50 ms.
//
//   npm run bench -- learn           (HATTER_BENCH_LOG_LINES overrides the 1,000,000 lines)
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { markdownTable, machineLine, median, writeBenchSection } from './support/report.js';
import { generateLog } from './logs.js';
import { EventReader, newReadStats } from '../src/logs/index.js';
import { loadPolicy } from '../src/policy/load/index.js';
import { memoryFileReader } from '../src/policy/resolve/index.js';
import { compilePolicy } from '../src/policy/eval/index.js';
import { NeedCollector, propose, Review, renderReview } from '../src/learn/index.js';
import { tenantsFromFlags } from '../src/web/tenants.js';

const SITES = Array.from({ length: 60 }, (_, i) => `www.site${i}.example`);
const POOLS = Array.from({ length: 20 }, (_, i) => `pool${i}`);
const WORKERS = Array.from({ length: 8 }, (_, i) => `site${i}`);

/** The profiles the generated log names, every one in complain mode with empty hats (learning from scratch). */
function benchPolicy(): string {
  const hats = (names: readonly string[]) => names.map((n) => `  ^${n} flags=(complain) {\n  }\n`).join('');
  return [
    `profile apache2 /usr/sbin/apache2 flags=(complain) {\n  /usr/sbin/apache2 mr,\n${hats(SITES)}}\n`,
    `profile php-fpm /usr/sbin/php-fpm* flags=(complain) {\n  /usr/sbin/php-fpm* mr,\n${hats(POOLS)}}\n`,
    `profile worker /usr/bin/worker flags=(complain) {\n${hats(WORKERS)}}\n`,
  ].join('\n');
}

function rssMiB(): number {
  return process.memoryUsage().rss / (1 << 20);
}

export async function run(repoRoot: string): Promise<void> {
  const count = Number(process.env.HATTER_BENCH_LOG_LINES ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'hatter-bench-learn-'));
  try {
    const log = join(dir, 'complain.log');
    const bytes = await generateLog(log, count);
    const entry = '/etc/apparmor.d/bench';
    const loaded = loadPolicy(entry, memoryFileReader({ [entry]: benchPolicy() }), { includePaths: ['/etc/apparmor.d'] });
    if (!loaded.ok) throw new Error(`bench policy does not load: ${loaded.diagnostics[0]?.message}`);
    const policy = compilePolicy(loaded.resolved).compiled;
    const tenants = tenantsFromFlags(SITES.map((s) => `${s}=/srv/${s}`)).tenants;

    global.gc?.();
    const rssBefore = rssMiB();
    let peak = rssBefore;
    const sampler = setInterval(() => { peak = Math.max(peak, rssMiB()); }, 20);

    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // As `hatter learn` reads: the collector is the reader's sink, so a line the reader's memo recognizes
    // never becomes an event and is never classified or decided again.
    const collector = new NeedCollector(policy);
    const stats = newReadStats();
    const reader = new EventReader({ file: log, stats, sink: collector });
    for await (const chunk of createReadStream(log, { highWaterMark: 1 << 20 })) reader.push(chunk as Buffer);
    reader.end();
    const events = stats.events;
    const needs = collector.needs();
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const proposals = propose(needs, { policy, variables: loaded.resolved.variables ?? [], tenants });
    const t2 = performance.now();
    const c2 = process.cpuUsage();
    const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, rssMiB());

    // One interactive answer: a key and the redraw, measured over many presses (undo keeps the position).
    const review = new Review(proposals);
    const redraws: number[] = [];
    for (let i = 0; i < 200 && proposals.groups.length > 0; i++) {
      const start = performance.now();
      review.press(i % 2 === 0 ? 'allow' : 'undo');
      renderReview(review);
      redraws.push(performance.now() - start);
    }

    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const table = markdownTable({
      headers: ['measure', 'wall', 'CPU', 'notes'],
      rows: [
        ['needs (read + decide, streaming)', seconds(t1 - t0), seconds(cpu(c0, c1)), `${count.toLocaleString('en')} lines (${(bytes / (1 << 20)).toFixed(0)} MiB), ${events.toLocaleString('en')} events → ${needs.length} distinct needs`],
        ['propose (alternatives, tenant witnesses)', seconds(t2 - t1), seconds(cpu(c1, c2)), `${proposals.groups.length} groups`],
        ['**needs + propose**', `**${seconds(t2 - t0)}**`, `**${seconds(cpu(c0, c2))}**`, 'target < 10 s'],
        ['RSS', '', '', `${rssBefore.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak`],
        ['interactive answer + redraw (median / max of 200)', redraws.length ? `${median(redraws).toFixed(2)} ms / ${Math.max(...redraws).toFixed(2)} ms` : 'no groups', '', 'target < 50 ms'],
      ],
    });
    process.stdout.write(`${table}\n`);
    writeBenchSection(repoRoot, 'learn', [
      '## learn',
      '',
      `${machineLine()}. The logs benchmark's generated log (every source format; apache2 hats per site,`,
      'PHP-FPM pools, signals, dbus, capabilities) against a policy whose profiles and hats are all empty and in complain mode,',
      'with every site a tenant (`--tenant SITE=/srv/SITE`). One process; RSS sampled every 20 ms.',
      '',
      table,
      '',
      `Verdict: needs + propose took ${seconds(cpu(c0, c2))} of CPU, ${cpu(c0, c2) < 10_000 ? 'within' : '**over**'} the 10 s target; ` +
        `a redraw took at most ${redraws.length ? Math.max(...redraws).toFixed(1) : '-'} ms (target 50 ms; the maximum includes garbage collection and a busy machine).`,
      '',
      `Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores (the wall column includes waiting for a core; CPU is the process's own time).`,
    ].join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
