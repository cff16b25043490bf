// `hatter diff`: compare two policies by meaning: which accesses an edit granted or removed.
import { createInterface } from 'node:readline';
import { createCompileCache, diffPolicies, type DiffWitness, type PolicyDiff } from '../policy/eval/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';
import { loadCompiledPolicy, newParseCache, printDiagnostics, readFeatures } from './load-policy.js';
import { commandCacheStore } from './cache-store.js';

const HELP = `Usage: hatter diff [-I DIR]... [--features FILE] OLD NEW [--json]
       hatter diff --jsonl [-I DIR]... < pairs.jsonl

Compare two policies by what they allow, not by their text: for each profile, hat and child and
each class (file, link, capability, network, unix, dbus, signal, ptrace, mount, change_profile,
userns, io_uring, mqueue, rlimit, flags) say whether the two decide every request the same way,
and if not, show the shortest request they decide differently ("gained: w on /srv/www/a/uploads/x").
File permissions are compared exactly on the automata of both policies; two policies written
completely differently compare equal when their compiled permissions are identical.

Options:
  -I, --include DIR   include search path (default /etc/apparmor.d); repeatable
  --features FILE     kernel feature set both policies are checked against
  --json              the full comparison as one JSON object
  --jsonl             read {"a": "<profile text>", "b": "<profile text>", "features": "<file or null>"}
                      lines on stdin; write {"equal": true|false, "witness": …} or {"error": "…"} per line
                      (these are not cached)
  --no-cache          neither read nor write the compile cache (docs/cache.md)
  -h, --help          show this help

Examples:
  hatter diff /etc/apparmor.d/usr.sbin.apache2 ./usr.sbin.apache2.new
  hatter diff --json old/php-fpm new/php-fpm | jq '.profiles[] | select(.equal == false)'

Exit status: 0 semantically equal, 1 different (witnesses printed), 2 usage error or a policy that
does not compile.`;

function witnessJson(w: DiffWitness) {
  const bits = (d: DiffWitness['before']) => d.bits.map((b) => ({ bit: b.bit, allowed: b.allowed, outcome: b.outcome, log: b.log }));
  return { request: w.request, summary: w.summary, gained: w.gained, lost: w.lost, changed: w.changed, before: bits(w.before), after: bits(w.after) };
}

function diffJson(diff: PolicyDiff) {
  return {
    equal: diff.equal,
    profiles: diff.profiles.map((p) => ({
      label: p.label, equal: p.equal,
      classes: p.classes.filter((c) => !c.equal).map((c) => ({ class: c.class, notes: c.notes, witnesses: c.witnesses.map(witnessJson) })),
    })),
  };
}

function firstWitness(diff: PolicyDiff) {
  for (const p of diff.profiles) {
    for (const c of p.classes) {
      if (c.equal) continue;
      const w = c.witnesses[0];
      return { profile: p.label, class: c.class, ...(w ? witnessJson(w) : { notes: c.notes }) };
    }
  }
  return null;
}

function printDiff(io: CliIo, diff: PolicyDiff): void {
  if (diff.equal) { const n = diff.profiles.length; io.stdout.write(`equal: ${n === 1 ? 'the profile decides' : `all ${n} profiles and hats decide`} every request the same way\n`); return; }
  for (const p of diff.profiles) {
    if (p.equal) continue;
    io.stdout.write(`${p.label}: different\n`);
    for (const c of p.classes) {
      if (c.equal) continue;
      for (const note of c.notes) io.stdout.write(`  ${c.class}: ${note}\n`);
      for (const w of c.witnesses) {
        io.stdout.write(`  ${c.class}: ${w.summary}\n`);
        const rules = (d: DiffWitness['before']) => d.bits.filter((b) => w.gained.includes(b.bit) || w.lost.includes(b.bit))
          .flatMap((b) => b.rules.map((r) => `${r.file}:${r.line}`))
          .filter((ref, i, all) => all.indexOf(ref) === i);
        const before = rules(w.before);
        const after = rules(w.after);
        if (before.length || after.length) io.stdout.write(`      before: ${before.join(', ') || 'no rule'}   after: ${after.join(', ') || 'no rule'}\n`);
      }
    }
  }
}

async function runJsonl(io: CliIo, includeDirs: readonly string[]): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let anyDifferent = false;
  let anyError = false;
  for await (const line of lines) {
    if (!line.trim()) continue;
    let out: unknown;
    try {
      const input = JSON.parse(line) as { a?: unknown; b?: unknown; features?: unknown };
      if (typeof input.a !== 'string' || typeof input.b !== 'string') throw new Error('each line needs string fields "a" and "b"');
      const features = typeof input.features === 'string' ? await readFeatures(io, input.features) : undefined;
      const cache = await newParseCache();
      const compileCache = createCompileCache();
      const a = await loadCompiledPolicy(io, { file: '<a>', text: input.a }, { includeDirs, ...(features ? { features } : {}), cache, compileCache });
      const b = await loadCompiledPolicy(io, { file: '<b>', text: input.b }, { includeDirs, ...(features ? { features } : {}), cache, compileCache });
      if (!a.ok || !b.ok) {
        const first = (!a.ok ? a.diagnostics : !b.ok ? b.diagnostics : [])[0];
        out = { error: `${!a.ok ? 'a' : 'b'} does not compile${first ? `: ${first.line}:${first.col}: ${first.message}` : ''}` };
        anyError = true;
      } else {
        const diff = diffPolicies(a.compiled, b.compiled);
        anyDifferent ||= !diff.equal;
        out = { equal: diff.equal, witness: firstWitness(diff) };
      }
    } catch (error) {
      out = { error: error instanceof Error ? error.message : String(error) };
      anyError = true;
    }
    io.stdout.write(`${JSON.stringify(out)}\n`);
  }
  return anyError ? EXIT_USAGE : anyDifferent ? EXIT_FINDING : EXIT_OK;
}

export const command: Command = {
  name: 'diff',
  summary: 'compare two policies by meaning, with witness requests',
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, {
      include: { type: 'string', short: 'I', multiple: true }, features: { type: 'string' },
      json: { type: 'boolean' }, jsonl: { type: 'boolean' }, 'no-cache': { type: 'boolean' },
    });
    const includeDirs = values.include ?? [];
    if (values.jsonl) {
      if (positionals.length) throw new UsageError('--jsonl reads pairs from stdin; give no files');
      return runJsonl(io, includeDirs);
    }
    if (positionals.length !== 2) throw new UsageError('give exactly two policy files: OLD NEW');
    const features = await readFeatures(io, values.features);
    // Profiles the edit did not touch compile once, and compare equal without a walk.
    const store = commandCacheStore(io, values['no-cache']);
    const compileCache = createCompileCache({ store });
    // Without a store the two loads share their parsing; with one each load records its own reads
    // (loadCompiledPolicy), and a cache hit must not load the parser at all.
    const cache = store ? undefined : await newParseCache();
    const [oldFile, newFile] = positionals as [string, string];
    const before = await loadCompiledPolicy(io, { file: oldFile }, { includeDirs, ...(features ? { features } : {}), ...(cache ? { cache } : {}), compileCache });
    const after = await loadCompiledPolicy(io, { file: newFile }, { includeDirs, ...(features ? { features } : {}), ...(cache ? { cache } : {}), compileCache });
    if (!before.ok || !after.ok) {
      if (!before.ok) printDiagnostics(io, before.diagnostics);
      if (!after.ok) printDiagnostics(io, after.diagnostics);
      const failed = [!before.ok ? oldFile : '', !after.ok ? newFile : ''].filter(Boolean);
      const both = failed.length === 2 && failed[0] === failed[1];
      io.stderr.write(`hatter diff: ${both ? failed[0] : failed.join(' and ')} ${failed.length === 2 && !both ? 'do' : 'does'} not compile or cannot be read\n`);
      return EXIT_USAGE;
    }
    printDiagnostics(io, before.warnings);
    if (newFile !== oldFile) printDiagnostics(io, after.warnings);
    const diff = diffPolicies(before.compiled, after.compiled);
    if (values.json) io.stdout.write(`${JSON.stringify(diffJson(diff))}\n`);
    else printDiff(io, diff);
    return diff.equal ? EXIT_OK : EXIT_FINDING;
  },
};
