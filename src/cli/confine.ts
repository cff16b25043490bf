// `hatter confine explain`: how a hat is enforced by each confinement backend, and what Landlock cannot express.
import { resolve } from 'node:path';
import { diagnosticToJson, formatDiagnostic, hasErrors, parseLabel, profileAndHat } from '../policy/index.js';
import { chooseBackend, createBackend, explainHat, rightsText, type Explanation } from '../confine/index.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';
import { commandCacheStore } from './cache-store.js';
import { loadThroughCache } from './load-cache.js';
import { readHatRules } from '../confine/index.js';
import type { BlobStore } from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';

const HELP = `Usage: hatter confine explain --policy FILE [--backend landlock|apparmor] [-I DIR]... [--abi N] [--allow-widening RULE]... [--json] [--no-cache] PROFILE//HAT
       hatter confine probe [--json]

probe: which confinement backends this host offers (AppArmor state and the supervisor's label,
Landlock ABI and errata, the launcher), and what --backend auto would choose.

explain:

Show, for one hat, the kernel rules each confinement backend would apply to its workers:
  landlock  the ruleset the launcher builds (each grant with the hat rules it comes from), the TCP
            ports and scoping, the capabilities kept and the sockets the seccomp filter allows, the
            narrowing (hat rules granted less or nothing: owner rules, other processes' /proc,
            globs granted only on the existing paths they match, conditional network rules) and the
            widening: every path and operation the ruleset allows that the hat does not (globs opted
            in with landlock.allowWidening, deny rules, metadata, pathname unix sockets...), with
            examples computed exactly by the AARE engine
  apparmor  the label written to attr/exec before execve, and what the host must provide
Without --backend both are shown. PROFILE alone (no //HAT) explains the profile itself.
The workers' own runtime (node, its libraries) is granted in addition by hatter serve.

Options:
  --policy FILE       the AppArmor policy file defining PROFILE (required)
  -I, --include DIR   include search path (default /etc/apparmor.d); repeatable
  --backend NAME      landlock or apparmor (default: both)
  --abi N             explain for Landlock ABI N (default: this kernel's, else ${7})
  --allow-widening R  as landlock.allowWidening in hatter.yaml: let rule R (FILE:LINE or its path
                      pattern) widen instead of being narrowed; repeatable
  --json              machine-readable output
  --no-cache          neither read nor write the compile cache (docs/cache.md)
  -h, --help          show this help

Examples:
  hatter confine probe
  hatter confine explain --policy examples/hosting/policy/hatter-demo hatter-demo//bob.localhost
  hatter confine explain --policy /etc/apparmor.d/usr.sbin.apache2 --backend landlock apache2//example.com
  hatter confine explain --policy ./hatter --abi 3 --json hatter//shop | jq '.explanations[0].widening'

Exit status: 0 explained (probe: some backend other than none is available; 1 when none is), 2 usage error or a policy that cannot be read (diagnostics on stderr).
Diagnostic codes are documented in docs/diagnostics.md (## confine).`;

function formatText(explanation: Explanation): string {
  const lines: string[] = [];
  if (explanation.backend === 'apparmor') {
    lines.push(`apparmor: ${explanation.label}`);
    lines.push(`  launcher writes "${explanation.attrExec}" to /proc/self/attr/apparmor/exec (fallback attr/exec), then execve`);
    for (const note of explanation.notes) lines.push(`  - ${note}`);
    lines.push('  cannot express: nothing (AppArmor is the policy\'s own language)');
    return lines.join('\n');
  }
  const source = explanation.abiSource === 'kernel' ? 'this kernel' : explanation.abiSource === 'option' ? '--abi' : 'assumed: no launcher or no Landlock here';
  lines.push(`landlock: ${explanation.label} (ABI ${explanation.abi}, ${source})`);
  lines.push(`  ${explanation.paths.length} path grants (r read, w write/create/delete/rename, x execute; beneath directories):`);
  const origins = new Map(explanation.grants.map((g) => [g.path, g]));
  for (const rule of explanation.paths) {
    const origin = origins.get(rule.path);
    const from = origin ? origin.from.slice(0, 3).map((f) => `${f.pattern} ${f.perms} (${f.source})`).join('; ') + (origin.from.length > 3 ? `; ${origin.from.length - 3} more` : '') : '';
    lines.push(`    ${rightsText(rule).padEnd(3)} ${rule.path}${from ? `    <- ${from}` : ''}`);
  }
  lines.push(explanation.network
    ? `  tcp: handled; bind ports [${explanation.network.bind.join(', ')}], connect ports [${explanation.network.connect.join(', ')}] (plus the worker's runtime ports)`
    : '  tcp: not restricted (the hat allows TCP, or the ABI has no network rules)');
  lines.push(`  scoping: ${explanation.scoped ? 'signals and abstract unix sockets limited to the worker\'s own domain' : 'none (ABI < 6)'}`);
  const ownProc = explanation.ownProc?.map((entry) => { const [rights, sub] = entry.split(':'); return `${rights} on /proc/<pid>${sub ?? ''}`; });
  lines.push(`  /proc: ${ownProc ? `${ownProc.join(', ')}, of the worker's own /proc/<pid> only (for the hat's /proc/@{pid}, /proc/self rules)` : 'nothing'}`);
  lines.push(`  capabilities (every set, also for root): ${explanation.capabilities.length ? explanation.capabilities.join(' ') : 'none'}`);
  lines.push(`  sockets (seccomp; the worker's runtime adds its own): ${explanation.sockets === 'all' ? 'all' : explanation.sockets.length ? explanation.sockets.join(', ') : 'none'}`);
  lines.push(`  narrowing (${explanation.narrowing.length}): hat rules granted less than they say (allow one with landlock.allowWidening)`);
  for (const entry of explanation.narrowing) lines.push(`    [${entry.kind}] ${entry.summary}${entry.source ? ` (${entry.source})` : ''}`);
  lines.push(`  widening (${explanation.widening.length}): what the ruleset allows beyond the hat`);
  for (const entry of explanation.widening) lines.push(`    [${entry.kind}] ${entry.summary}${entry.source ? ` (${entry.source})` : ''}`);
  return lines.join('\n');
}

/** readHatRules answered from the compile cache while nothing it read has changed (load-cache.ts). */
function cachedHatRules(store: BlobStore): typeof readHatRules {
  return (file, profile, hat, options = {}) => loadThroughCache(store, { hatRules: file, profile, hat, includeDirs: options.includeDirs ?? [] },
    options.reader ?? nodeFileReader(), (reader) => readHatRules(file, profile, hat, { ...options, reader }), { cacheable: (result) => result.rules !== undefined });
}

async function probe(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return EXIT_OK;
  }
  if (positionals.length) throw new UsageError(`confine probe takes no arguments (got '${positionals[0]}')`);
  const results = [];
  for (const name of ['apparmor', 'landlock', 'none'] as const) {
    const availability = await createBackend(name).probe();
    results.push({ backend: name, ...availability });
  }
  const auto = await chooseBackend('auto');
  const choice = { backend: auto.backend?.name ?? null, reason: auto.reason };
  if (values.json) io.stdout.write(`${JSON.stringify({ backends: results, auto: choice }, null, 2)}\n`);
  else {
    for (const r of results) io.stdout.write(`${r.backend.padEnd(9)} ${r.available ? 'available  ' : 'unavailable'} ${r.reason}\n`);
    io.stdout.write(`auto      ${choice.backend ? choice.reason : `refuses to start: ${choice.reason}`}\n`);
  }
  return results.some((r) => r.available && r.backend !== 'none') ? EXIT_OK : EXIT_FINDING;
}

export const command: Command = {
  name: 'confine',
  summary: 'explain how a hat is enforced by each confinement backend; probe the host\'s backends',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '-h' || sub === '--help') {
      io.stdout.write(`${HELP}\n`);
      return sub === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (sub === 'probe') return probe(rest, io);
    if (sub !== 'explain') throw new UsageError(`unknown subcommand '${sub}' (expected: explain or probe)`);
    const { values, positionals } = parseOptions(rest, {
      policy: { type: 'string' },
      include: { type: 'string', short: 'I', multiple: true },
      backend: { type: 'string' },
      abi: { type: 'string' },
      'allow-widening': { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    if (!values.policy) throw new UsageError('--policy FILE is required');
    if (positionals.length !== 1) throw new UsageError('expected exactly one PROFILE//HAT');
    const label = profileAndHat(parseLabel(positionals[0]!));
    if (!label) throw new UsageError(`'${positionals[0]}' is not a PROFILE or PROFILE//HAT label`);
    const backend = values.backend;
    if (backend !== undefined && backend !== 'landlock' && backend !== 'apparmor') throw new UsageError(`--backend must be landlock or apparmor, not '${backend}'`);
    let abi: number | undefined;
    if (values.abi !== undefined) {
      abi = Number(values.abi);
      if (!Number.isInteger(abi) || abi < 1 || abi > 64) throw new UsageError(`--abi must be a Landlock ABI number (1, 2, ...), not '${values.abi}'`);
    }
    const cache = commandCacheStore(io, values['no-cache']);
    const { explanations, diagnostics } = explainHat({
      policyFile: resolve(io.cwd, values.policy),
      ...(values.include ? { includeDirs: values.include.map((dir) => resolve(io.cwd, dir)) } : {}),
      profile: label.profile,
      hat: label.hat,
      backends: backend ? [backend] : ['landlock', 'apparmor'],
      ...(abi !== undefined ? { abi } : {}),
      ...(values['allow-widening'] ? { allowWidening: values['allow-widening'] } : {}),
      ...(cache ? { cache, readRules: cachedHatRules(cache) } : {}),
    });
    const failed = hasErrors(diagnostics);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ label: positionals[0], ok: !failed, explanations: failed ? [] : explanations, diagnostics: diagnostics.map(diagnosticToJson) }, null, 2)}\n`);
    } else {
      for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
      if (!failed) io.stdout.write(`${explanations.map(formatText).join('\n\n')}\n`);
    }
    return failed ? EXIT_USAGE : EXIT_OK;
  },
};
