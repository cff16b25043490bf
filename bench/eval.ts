// `npm run bench -- eval`: file decisions per second against Debian's compiled /etc/apparmor.d
// profiles, and the time to diff two versions of the whole tree. The reference for decisions is the
// approach of the upstream tools (one RegExp per rule, then deny/allow combination), run on the same
// requests in the same run; for the tree diff it is `apparmor_parser -QKS` compiling both trees
// (the only other way to learn whether an edit changed the compiled policy).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEmpty } from '../src/policy/aare/index.js';
import { checkPolicy, createParseCache } from '../src/policy/check/index.js';
import { compilePolicy, createCompileCache, decide, diffPolicies, type CompileCache, type CompiledPolicy } from '../src/policy/eval/index.js';
import { compilePattern } from '../src/policy/aare/index.js';
import { nodeFileReader } from '../src/policy-node/index.js';
import { machineLine, markdownTable, writeBenchSection } from './support/report.js';

const TREE = '/etc/apparmor.d';

function profileFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => {
    const path = join(dir, name);
    return statSync(path).isFile() && !name.startsWith('.') && !/\.(dpkg-[a-z]+|orig|rej)$/.test(name);
  }).sort().map((name) => join(dir, name));
}

/** Wall and CPU time (this process, user + system) of `fn`, in ms. */
function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

/** CPU time used by waited-for child processes so far (Linux /proc/self/stat cutime + cstime), in ms. */
function childCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
    const ticks = Number(fields[13]) + Number(fields[14]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function compileTree(dir: string, compileCache?: CompileCache): { policies: { file: string; compiled: CompiledPolicy }[]; ms: number; cpuMs: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const cache = createParseCache();
  const policies: { file: string; compiled: CompiledPolicy }[] = [];
  for (const file of profileFiles(dir)) {
    const checked = checkPolicy(file, { reader: nodeFileReader(), workingDirectory: dir, includePaths: [dir], cache });
    if (!checked.ok) continue;
    policies.push({ file, compiled: compilePolicy(checked.policy, compileCache ? { cache: compileCache } : {}).compiled });
  }
  const used = process.cpuUsage(cpu);
  return { policies, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

/** Upstream-style matching: each file rule's AARE converted to a RegExp, all tried per path. */
function regexFor(pattern: string): RegExp | undefined {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') { if (pattern[i + 1] === '*') { out += '.*'; i++; } else out += '[^/]*'; }
    else if (c === '?') out += '[^/]';
    else if (c === '{') out += '(';
    else if (c === '}') out += ')';
    else if (c === ',') out += '|';
    else if (c === '[' || c === ']') out += c;
    else if (c === '\\') { out += `\\${pattern[++i] ?? '\\'}`; }
    else out += c.replace(/[.+()$|^]/g, '\\$&');
  }
  try { return new RegExp(`^${out}$`); } catch { return undefined; }
}

export async function run(repoRoot: string): Promise<void> {
  if (!existsSync(TREE)) {
    process.stdout.write(`bench eval: skipped: ${TREE} not found (apt-get install apparmor apparmor-profiles)\n`);
    return;
  }
  const tree = compileTree(TREE);
  const profiles = tree.policies.flatMap((p) => [...p.compiled.profiles.values()].map((profile) => ({ compiled: p.compiled, profile })));
  const ruleCount = profiles.reduce((n, p) => n + p.profile.files.length, 0);

  // Requests: for every profile, the shortest path each of its rules matches, plus paths it does not match.
  const requests: { compiled: CompiledPolicy; label: string; path: string }[] = [];
  const common = ['/etc/passwd', '/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/proc/1/status', '/home/alice/.ssh/id_rsa', '/tmp/x', '/var/log/syslog', '/srv/www/index.html'];
  for (const { compiled, profile } of profiles) {
    for (const rule of profile.files.slice(0, 40)) {
      const automaton = compilePattern(rule.pattern, { kind: 'path' });
      const witness = automaton.ok ? isEmpty(automaton.automaton).witness?.text : undefined;
      if (witness) requests.push({ compiled, label: profile.label, path: witness });
    }
    for (const path of common) requests.push({ compiled, label: profile.label, path });
  }

  // hatter: decide() per request, read permission.
  // The machine may be shared: report the rate over CPU time (what one core does) and over wall time.
  // The first round also builds each automaton's lookup table and the verdict caches: timed apart.
  let allowed = 0;
  const decideRound = () => {
    let n = 0;
    for (const r of requests) if (decide(r.compiled, r.label, { class: 'file', path: r.path, permissions: 'r' }).allowed) n++;
    return n;
  };
  const firstRound = timed(decideRound);
  const rounds = Math.max(1, Math.ceil(2_000_000 / requests.length));
  const decided = timed(() => {
    for (let round = 0; round < rounds; round++) allowed += decideRound();
  });
  const hatterRate = (requests.length * rounds) / (decided.cpuMs / 1000);
  const hatterWallRate = (requests.length * rounds) / (decided.wallMs / 1000);

  // Reference: RegExp per rule with deny-wins combination.
  const regexProfiles = new Map(profiles.map(({ profile }) => [profile.label, profile.files.map((f) => ({ re: regexFor(f.pattern), deny: f.prefix.decision === 'deny', r: f.bits.has('r') }))]));
  let allowedRef = 0;
  const refRounds = Math.max(1, Math.ceil(rounds / 20));
  const referenced = timed(() => {
    for (let round = 0; round < refRounds; round++) {
      for (const r of requests) {
        let allow = false;
        let deny = false;
        for (const rule of regexProfiles.get(r.label)!) {
          if (rule.r && rule.re?.test(r.path)) { if (rule.deny) deny = true; else allow = true; }
        }
        if (allow && !deny) allowedRef++;
      }
    }
  });
  const refRate = (requests.length * refRounds) / (referenced.cpuMs / 1000);

  // Diff two versions of the whole tree: a copy with a few real edits.
  const copy = mkdtempSync(join(tmpdir(), 'hatter-bench-eval-'));
  let diffMs = 0;
  let diffCpuMs = 0;
  let cachedDiffMs = 0;
  let cachedDiffCpuMs = 0;
  let changedProfiles = 0;
  let parserMs: number | undefined;
  let parserCpuMs: number | undefined;
  try {
    cpSync(TREE, copy, { recursive: true, dereference: false });
    const edits = profileFiles(copy).slice(0, 5);
    for (const file of edits) {
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.replace(/\n}\s*$/, '\n  /srv/hatter-bench/** rw,\n}\n'));
    }
    // Each tree compiled on its own, then compared; and the way `hatter diff` does it, with one
    // CompileCache for both sides, so profiles the edit did not touch compile once and compare equal
    // without a walk.
    const diffTrees = (before: ReturnType<typeof compileTree>, after: ReturnType<typeof compileTree>) => {
      const byName = new Map(after.policies.map((p) => [p.file.slice(copy.length), p.compiled]));
      let changed = 0;
      const compared = timed(() => {
        for (const old of before.policies) {
          const other = byName.get(old.file.slice(TREE.length));
          if (other && !diffPolicies(old.compiled, other).equal) changed++;
        }
      });
      return { changed, ms: compared.wallMs + after.ms + before.ms, cpuMs: compared.cpuMs + after.cpuMs + before.cpuMs };
    };
    const separate = diffTrees(tree, compileTree(copy));
    const cache = createCompileCache();
    const cached = diffTrees(compileTree(TREE, cache), compileTree(copy, cache));
    if (cached.changed !== separate.changed) throw new Error(`bench eval: the compile cache changed the diff (${cached.changed} vs ${separate.changed} policies)`);
    changedProfiles = separate.changed;
    diffMs = separate.ms;
    diffCpuMs = separate.cpuMs;
    cachedDiffMs = cached.ms;
    cachedDiffCpuMs = cached.cpuMs;
    const parser = spawnSync('sh', ['-c', 'command -v apparmor_parser'], { encoding: 'utf8' }).stdout.trim();
    if (parser) {
      const t3 = performance.now();
      const childBefore = childCpuMs();
      for (const dir of [TREE, copy]) {
        for (const file of profileFiles(dir)) spawnSync(parser, ['-QKS', '-I', dir, '--config-file=/dev/null', file], { stdio: 'ignore', cwd: dir });
      }
      parserMs = performance.now() - t3;
      const childAfter = childCpuMs();
      if (childBefore !== undefined && childAfter !== undefined) parserCpuMs = childAfter - childBefore;
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }

  const count = (n: number) => Math.round(n).toLocaleString('en-US');
  const parserText = parserMs === undefined ? 'not measured'
    : `${parserCpuMs === undefined ? '?' : count(parserCpuMs)} / ${count(parserMs)} (apparmor_parser -QKS of both trees)`;
  const ratioText = (cpuMs: number, wallMs: number) => `${((parserCpuMs ?? parserMs!) / cpuMs).toFixed(1)}× less CPU, ${(parserMs! / wallMs).toFixed(1)}× less wall time`;
  const table = {
    headers: ['measure', 'hatter', 'reference', 'ratio'],
    rows: [
      ['profiles and hats compiled', profiles.length, '', ''],
      ['file rules', ruleCount, '', ''],
      ['file decisions per second, CPU time', hatterRate, `${count(refRate)} (RegExp per rule)`, `${(hatterRate / refRate).toFixed(1)}×`],
      ['file decisions per second, wall time', hatterWallRate, '', ''],
      [`first round of ${count(requests.length)} decisions, building lookup tables and caches (ms, CPU / wall)`, `${count(firstRound.cpuMs)} / ${count(firstRound.wallMs)}`, '', ''],
      ['compile the tree (ms, CPU / wall)', `${count(tree.cpuMs)} / ${count(tree.ms)}`, '', ''],
      ['diff two versions of the tree, each compiled on its own (ms, CPU / wall)', `${count(diffCpuMs)} / ${count(diffMs)}`,
        parserText, parserMs === undefined ? '' : ratioText(diffCpuMs, diffMs)],
      ['diff two versions of the tree as `hatter diff` does, one compile cache (ms, CPU / wall)', `${count(cachedDiffCpuMs)} / ${count(cachedDiffMs)}`,
        parserText, parserMs === undefined ? '' : ratioText(cachedDiffCpuMs, cachedDiffMs)],
    ] as (string | number)[][],
  };
  const text = markdownTable(table);
  const load = loadavg().map((n) => n.toFixed(1)).join(', ');
  process.stdout.write(`${text}\n(decided ${requests.length.toLocaleString('en-US')} requests × ${rounds} rounds; ${allowed} allowed; reference agreed on the allow count ${Math.round(allowedRef * rounds / refRounds) === allowed ? 'yes' : 'no (it ignores owner, priority and exec precedence)'}; ${changedProfiles} policies changed by the edit)\n`);
  writeBenchSection(repoRoot, 'eval', `## Policy decisions and semantic diff\n\n${machineLine()}. Debian's ${TREE} (${tree.policies.length} policy files that check clean).\nTarget: one million file decisions per second on one core. CPU time is this process's user + system time
(for apparmor_parser, its children's), the honest measure on a shared machine; load average at the end of the run: ${load}.
Requests: for every profile and hat, the shortest path of each of its first 40 file rules plus 8 common paths, asked for \`r\`,
in profile order, one first round timed apart, then ${rounds} rounds.\n\n${text}`);
}
