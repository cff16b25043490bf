// `npm run bench -- eval`: file decisions per second against Debian's compiled /etc/apparmor.d
// profiles, and the time to diff two versions of the whole tree. The reference for decisions is the
// approach of the upstream tools (one RegExp per rule, then deny/allow combination), run on the same
// requests in the same run; for the tree diff it is `apparmor_parser -QKS` compiling both trees
// (the only other way to learn whether an edit changed the compiled policy).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isEmpty } from '../src/policy/aare/index.js';
import { checkPolicy, createParseCache } from '../src/policy/check/index.js';
import { compilePolicy, decide, diffPolicies, type CompiledPolicy } from '../src/policy/eval/index.js';
import { compilePattern } from '../src/policy/aare/index.js';
import { nodeFileReader } from '../src/cli/check.js';
import { machineLine, markdownTable, writeBenchSection } from './support/report.js';

const TREE = '/etc/apparmor.d';

function profileFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => {
    const path = join(dir, name);
    return statSync(path).isFile() && !name.startsWith('.') && !/\.(dpkg-[a-z]+|orig|rej)$/.test(name);
  }).sort().map((name) => join(dir, name));
}

function compileTree(dir: string): { policies: { file: string; compiled: CompiledPolicy }[]; ms: number } {
  const started = performance.now();
  const cache = createParseCache();
  const policies: { file: string; compiled: CompiledPolicy }[] = [];
  for (const file of profileFiles(dir)) {
    const checked = checkPolicy(file, { reader: nodeFileReader(), workingDirectory: dir, includePaths: [dir], cache });
    if (!checked.ok) continue;
    policies.push({ file, compiled: compilePolicy(checked.policy).compiled });
  }
  return { policies, ms: performance.now() - started };
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
  let allowed = 0;
  const rounds = Math.max(1, Math.ceil(2_000_000 / requests.length));
  const t0 = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const r of requests) if (decide(r.compiled, r.label, { class: 'file', path: r.path, permissions: 'r' }).allowed) allowed++;
  }
  const hatterSeconds = (performance.now() - t0) / 1000;
  const hatterRate = (requests.length * rounds) / hatterSeconds;

  // Reference: RegExp per rule with deny-wins combination.
  const regexProfiles = new Map(profiles.map(({ profile }) => [profile.label, profile.files.map((f) => ({ re: regexFor(f.pattern), deny: f.prefix.decision === 'deny', r: f.bits.has('r') }))]));
  let allowedRef = 0;
  const refRounds = Math.max(1, Math.ceil(rounds / 20));
  const t1 = performance.now();
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
  const refSeconds = (performance.now() - t1) / 1000;
  const refRate = (requests.length * refRounds) / refSeconds;

  // Diff two versions of the whole tree: a copy with a few real edits.
  const copy = mkdtempSync(join(tmpdir(), 'hatter-bench-eval-'));
  let diffMs = 0;
  let changedProfiles = 0;
  let parserMs: number | undefined;
  try {
    cpSync(TREE, copy, { recursive: true, dereference: false });
    const edits = profileFiles(copy).slice(0, 5);
    for (const file of edits) {
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.replace(/\n}\s*$/, '\n  /srv/hatter-bench/** rw,\n}\n'));
    }
    const after = compileTree(copy);
    const t2 = performance.now();
    const byName = new Map(after.policies.map((p) => [p.file.slice(copy.length), p.compiled]));
    for (const before of tree.policies) {
      const other = byName.get(before.file.slice(TREE.length));
      if (other && !diffPolicies(before.compiled, other).equal) changedProfiles++;
    }
    diffMs = performance.now() - t2 + after.ms + tree.ms;
    const parser = spawnSync('sh', ['-c', 'command -v apparmor_parser'], { encoding: 'utf8' }).stdout.trim();
    if (parser) {
      const t3 = performance.now();
      for (const dir of [TREE, copy]) {
        for (const file of profileFiles(dir)) spawnSync(parser, ['-QKS', '-I', dir, '--config-file=/dev/null', file], { stdio: 'ignore', cwd: dir });
      }
      parserMs = performance.now() - t3;
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }

  const table = {
    headers: ['measure', 'hatter', 'reference', 'ratio'],
    rows: [
      ['profiles and hats compiled', profiles.length, '', ''],
      ['file rules', ruleCount, '', ''],
      ['file decisions per second', hatterRate, `${Math.round(refRate).toLocaleString('en-US')} (RegExp per rule)`, `${(hatterRate / refRate).toFixed(1)}×`],
      ['compile the tree (ms)', tree.ms, '', ''],
      ['diff two versions of the tree, compile included (ms)', diffMs, parserMs === undefined ? 'not measured' : `${Math.round(parserMs).toLocaleString('en-US')} (apparmor_parser -QKS of both trees)`, parserMs === undefined ? '' : `${(parserMs / diffMs).toFixed(1)}× faster`],
    ] as (string | number)[][],
  };
  const text = markdownTable(table);
  process.stdout.write(`${text}\n(decided ${requests.length.toLocaleString('en-US')} requests × ${rounds} rounds; ${allowed} allowed; reference agreed on the allow count ${Math.round(allowedRef * rounds / refRounds) === allowed ? 'yes' : 'no (it ignores owner, priority and exec precedence)'}; ${changedProfiles} policies changed by the edit)\n`);
  writeBenchSection(repoRoot, 'eval', `## Policy decisions and semantic diff\n\n${machineLine()}. Debian's ${TREE} (${tree.policies.length} policy files that check clean).\nTarget: one million file decisions per second on one core.\n\n${text}`);
}
