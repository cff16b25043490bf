// Benchmark: one DFA for a whole rule set (hatter) against one JavaScript RegExp per rule (the approach
// of the upstream Python tools), on the same ≥2,000 real file rules of the shared corpus and the same
// paths, in the same run. Also times apparmor_parser compiling the same rules, for scale.
//
//   npm run bench -- aare
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markdownTable, machineLine, median, writeBenchSection } from './support/report.js';
import { compileRuleSet, lookup, parseAare, type AareNode } from '../src/policy/aare/index.js';
import { corpusFilePatterns } from '../test/support/aare-corpus.js';

/** xorshift32: the same paths on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

const COMMON_PATHS = [
  '/etc/passwd', '/etc/group', '/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', '/etc/ld.so.cache',
  '/etc/ssl/certs/ca-certificates.crt', '/etc/localtime', '/etc/apache2/apache2.conf', '/etc/php/8.2/fpm/php.ini',
  '/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libssl.so.3', '/usr/share/zoneinfo/UTC',
  '/usr/bin/php8.2', '/usr/sbin/apache2', '/bin/sh', '/bin/dash', '/usr/bin/env', '/usr/share/locale/de/LC_MESSAGES/x.mo',
  '/proc/self/status', '/proc/1234/stat', '/proc/sys/kernel/random/uuid', '/sys/devices/system/cpu/online',
  '/dev/null', '/dev/urandom', '/dev/pts/3', '/tmp/php_sess_abc123', '/var/tmp/x', '/run/php/php8.2-fpm.sock',
  '/var/www/site1/htdocs/index.php', '/var/www/site2/htdocs/wp-content/uploads/2026/11/a.jpg', '/var/log/apache2/access.log',
  '/home/alice/.cache/fontconfig/x.cache', '/home/bob/.config/app/settings.ini', '/root/.bashrc', '/srv/www/a/b/c.html',
];

/** A concrete path for a pattern: one alternative, short fillers for globs, a member for classes. */
function instantiate(sequence: readonly AareNode[], r: () => number, bytes: number[]): void {
  for (const node of sequence) {
    switch (node.kind) {
      case 'Literal': bytes.push(node.byte); break;
      case 'AnyChar': bytes.push(0x78); break;
      case 'Star':
        for (const ch of node.crossesSlash ? (r() < 0.5 ? 'dir/file' : 'x') : (r() < 0.5 ? 'file' : 'a1')) bytes.push(ch.charCodeAt(0));
        break;
      case 'Class': {
        if (node.negated) { bytes.push(0x78); break; }
        const [lo, hi] = node.ranges[Math.floor(r() * node.ranges.length)]!;
        bytes.push(lo + Math.floor(r() * (hi - lo + 1)));
        break;
      }
      case 'Alternation':
        instantiate(node.alternatives[Math.floor(r() * node.alternatives.length)]!, r, bytes);
        break;
    }
  }
}

export function makePaths(patterns: readonly string[], count: number): string[] {
  const r = rng(7);
  const asts = patterns.flatMap((p) => { const parsed = parseAare(p); return parsed.ok ? [parsed.ast] : []; });
  const paths: string[] = [];
  while (paths.length < count) {
    if (r() < 0.2) { paths.push(COMMON_PATHS[Math.floor(r() * COMMON_PATHS.length)]!); continue; }
    const bytes: number[] = [];
    instantiate(asts[Math.floor(r() * asts.length)]!.sequence, r, bytes);
    let path = Buffer.from(bytes).toString('utf8');
    const miss = r();
    if (miss < 0.15) path += '.bak';
    else if (miss < 0.25) path = path.replace(/\/[^/]*$/, '/other');
    paths.push(path);
  }
  return paths;
}

/** A pattern as a RegExp the way the upstream Python tools build one (per rule, lookbehind guards). */
export function upstreamStyleRegExp(pattern: string): RegExp | undefined {
  let text = pattern.replace(/(?<!\\)([.+$()|^])/g, '\\$1');
  for (;;) {
    const m = /^(.*)\{([^{}]*)\}(.*)$/s.exec(text);
    if (!m) break;
    text = `${m[1]}(${m[2]!.replace(/(?<!\\),/g, '|')})${m[3]}`;
  }
  text = text.replace(/(?<!\\)\?/g, '[^/\\0]');
  text = text.replace(/(?<!\\)\*\*+/g, '\u0001');
  text = text.replace(/(?<!\\)\*/g, '(?:(?<=/)[^/\\0]+|(?<!/)[^/\\0]*)');
  text = text.replace(/\u0001/g, '(?:(?<=/)[^\\0]+|(?<!/)[^\\0]*)');
  try {
    return new RegExp(`^${text}$`);
  } catch {
    return undefined;
  }
}

/** CPU time in ms (user + system): the machine may be shared, so wall time would understate speed. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

function timeLoop(fn: () => number, minMs: number): { perSecond: number; checksum: number } {
  let iterations = 0;
  let checksum = 0;
  const start = cpuMs();
  let elapsed = 0;
  do {
    checksum += fn();
    iterations++;
    elapsed = cpuMs() - start;
  } while (elapsed < minMs);
  return { perSecond: (iterations * 1000) / elapsed, checksum };
}

export async function run(repoRoot: string): Promise<void> {
  const profilesDir = join(process.env.HATTER_CORPORA ?? join(repoRoot, '..', 'shared', 'corpora', 'apparmor'), 'profiles');
  if (!existsSync(profilesDir)) {
    process.stdout.write(`aare: skipped, corpus not found at ${profilesDir}\n`);
    return;
  }
  // All file rules of the corpus except those with `**` inside (not at the end of) the pattern: with
  // every rule keeping its own id, those multiply the DFA (see docs/aare.md, "Limits").
  const all = corpusFilePatterns(profilesDir);
  const patterns = all.filter((p) => !/\*\*[^,}]/.test(p));
  const entries = patterns.map((pattern, id) => ({ pattern, id }));

  const compileTimes: number[] = [];
  let automaton;
  for (let i = 0; i < 3; i++) {
    const t0 = cpuMs();
    const built = compileRuleSet(entries);
    compileTimes.push(cpuMs() - t0);
    if (!built.ok) throw new Error(`rule set did not compile: ${built.diagnostics.map((d) => d.message).join('; ')}`);
    automaton = built.automaton;
  }
  const dfa = automaton!;

  const regexTimes: number[] = [];
  let regexps: (RegExp | undefined)[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = cpuMs();
    regexps = patterns.map(upstreamStyleRegExp);
    regexTimes.push(cpuMs() - t0);
  }
  const usable = regexps.flatMap((re, id) => (re ? [{ re, id }] : []));

  const paths = makePaths(patterns, 20_000);
  const hatterRun = timeLoop(() => {
    let n = 0;
    for (const path of paths) n += lookup(dfa, path).length;
    return n;
  }, 2000);
  const hatterLookups = hatterRun.perSecond * paths.length;

  const sample = paths.slice(0, 2000);
  const regexRun = timeLoop(() => {
    let n = 0;
    for (const path of sample) for (const { re } of usable) if (re.test(path)) n++;
    return n;
  }, 2000);
  const regexLookups = regexRun.perSecond * sample.length;

  // How often the per-rule RegExps give a different rule set than the DFA (upstream corner cases).
  let differing = 0;
  for (const path of sample) {
    const viaRegex = usable.filter(({ re }) => re.test(path)).map(({ id }) => id).join(',');
    if (viaRegex !== lookup(dfa, path).join(',')) differing++;
  }
  const matched = paths.filter((p) => lookup(dfa, p).length > 0).length;

  let parserMs: number | undefined;
  const probe = spawnSync('apparmor_parser', ['--version'], { encoding: 'utf8' });
  if (!probe.error && probe.status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'hatter-bench-aare-'));
    try {
      const file = join(dir, 'rules.profile');
      writeFileSync(file, `profile bench {\n${patterns.map((p) => `  "${p}" r,\n`).join('')}}\n`);
      // The child's CPU time, like the others (wall time would count waiting for a busy machine).
      const result = spawnSync('/usr/bin/time', ['-f', '%U %S', 'apparmor_parser', '-Q', '-S', file], { maxBuffer: 1 << 28 });
      const times = /([\d.]+) ([\d.]+)\s*$/.exec(result.stderr.toString());
      if (result.status === 0 && times) parserMs = (Number(times[1]) + Number(times[2])) * 1000;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const ratio = hatterLookups / regexLookups;
  const table = {
    headers: ['measure', 'hatter (one DFA)', 'RegExp per rule', 'ratio'],
    rows: [
      ['rules', patterns.length, usable.length, ''],
      ['compile, CPU ms (median of 3)', median(compileTimes), median(regexTimes), ''],
      ['DFA states × byte classes', `${dfa.stateCount} × ${dfa.classCount}`, '', ''],
      ['path lookups per second (all matching rules)', hatterLookups, regexLookups, `${ratio.toFixed(0)}×`],
      ['paths where RegExp-per-rule gives other rules', '', `${differing} of ${sample.length}`, ''],
    ] as (string | number)[][],
  };
  if (parserMs !== undefined) table.rows.push(['apparmor_parser -Q -S compile of the same rules, CPU ms', '', '', `${parserMs.toFixed(0)} ms`]);
  const markdown = markdownTable(table);
  process.stdout.write(`${markdown}\n`);
  process.stdout.write(`${matched} of ${paths.length} paths match at least one rule; targets: ≥1,000,000 lookups/s and ≥20× RegExp per rule\n`);
  writeBenchSection(repoRoot, 'aare', `## aare\n\n${machineLine()}\n\n` +
    `${patterns.length} file rules of the shared profile corpus (variables expanded; rules with \`**\` inside a pattern left out, see docs/aare.md), ` +
    `${paths.length.toLocaleString('en-US')} generated and common paths (${matched.toLocaleString('en-US')} match some rule). ` +
    'hatter compiles all rules into one DFA whose accepting states carry rule ids; the baseline builds one RegExp per rule ' +
    'the way the upstream Python tools do and tests every one per path. One core, same run; rates are per CPU second. ' +
    'Targets: ≥1,000,000 lookups/s and ≥20× RegExp per rule.\n\n' + markdown);
}
