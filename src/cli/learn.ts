// `hatter learn`: audit events → needs → proposals → (review, --answers or --apply) → edits → a dry-run
// diff or an atomic, validated write. Everything before the write is pure (src/learn); this file reads
// the logs and configuration, talks to the terminal and hands the changes to learn-write.
import { createReadStream } from 'node:fs';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../policy/diagnostic/index.js';
import { compilePolicy } from '../policy/eval/index.js';
import { learningShadows, loadIntoKernel } from '../confine/index.js';
import { EventReader, eventFilter, isMalformed, newReadStats, parseSince, type AuditEvent, type EventFilterSpec } from '../logs/index.js';
import { followFile } from '../logs-node/index.js';
import {
  mergeTenantModels, nodeFileSystem, readApacheConfig, readFpmConfig, tenantsFromApache, tenantsFromFlags, tenantsFromFpm, type TenantModel,
} from '../web/index.js';
import {
  applyAnswers, applyEdits, defaultAnswers, NeedCollector, parseAnswers, Proposer, renderGroup, renderReview, Review, REVIEW_KEYS,
  type Abstraction, type Answer, type PolicyEdit, type ProposalGroup, type Proposals,
} from '../learn/index.js';
import { previewChanges, writeChanges } from './learn-write.js';
import { createParseCache, loadPolicyFile } from './load-fresh.js';
import { defaultInputs } from './logs.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, parseOptions, UsageError, type CliIo, type Command } from './io.js';

const help = `hatter learn: turn what a site did (complain-mode audit events) into reviewed policy rules

Usage: hatter learn [LOG...|-] --policy FILE [OPTIONS]

Reads AppArmor audit events (any format hatter logs reads; without LOG, stdin when it is a pipe, else
/var/log/audit/audit.log, /var/log/kern.log or /var/log/syslog), finds what each profile, hat and child
needed that its rules do not allow (events the policy already allows are not needs; complain-mode
learning labels like php-fpm//null-myblog are mapped back to the hat they stand for) and proposes rules.
Each group has alternatives in order of preference: the exact rule; tunables variables (@{PROC}, @{pid},
@{HOME} ...); a glob of the last component or extension; '**' up to the site's own directory; for exec:
ix, Px (an existing profile), a child profile created empty in complain mode, Ux only with --allow-ux;
deny and audit deny. An alternative that reaches another site's area (from --apache, --fpm, --config or
--tenant) is never the default and is shown with the path it would expose.

Nothing is written without --write, and nothing is loaded into the kernel without --load.

Options:
  --policy FILE         the policy entry to learn into (e.g. /etc/apparmor.d/php-fpm); required
  -I, --include DIR     include search path (repeatable; default /etc/apparmor.d)
  --apache FILE         Apache configuration: each vhost's DocumentRoot, Directory and Alias are its area
  --fpm FILE            php-fpm configuration: each pool's chdir is its area, apparmor_hat its hat
  --config FILE         hatter.yaml: each site's document and handler roots are its area
  --tenant HAT=DIR      a site's hat and its directories (repeatable; DIR[,DIR...])
  --profile GLOB        only events whose label matches ('php-fpm', 'php-fpm//*')
  --since TIME          only events at or after TIME (2026-11-22, @EPOCH, 2h ...)
  --json                the proposals as JSON (groups with alternatives, needs and witnesses)
  --answers FILE        accept what FILE answers (JSON: {"answers":[{"group":"g1","action":"accept",
                        "alternative":0}, {"group":"g2","action":"ignore"}]}; "override":true accepts
                        an alternative that crosses into another site's area)
  --apply               accept the safest default of every group
  --dry-run             print the change as a unified diff (the default when answers are given)
  --write               write the change: atomically, with a backup of each file, only after hatter
                        check and apparmor_parser -QK accept the changed tree
  --load                after --write, run apparmor_parser -r (as root; otherwise print the command);
                        first removes a complain-mode learning profile that stands where a new hat
                        goes (a PHP-FPM pool's M//null-M//HAT, see docs/learn.md)
  --allow-ux            offer Ux (unconfined) for exec needs
  --no-abstractions     do not offer the include path's abstractions/* that already cover a need
  --follow, -f          keep reading LOG as it grows and print new groups as they arrive (writes nothing)
  -h, --help            this help

On a terminal without --json, --answers or --apply, each group is reviewed interactively with single
keys: (a)llow (d)eny (g)lob (n)ext alternative (i)nherit (p)rofile (c)hild (s)kip (u)ndo (f)inish
(q)uit; digits pick an alternative. Ctrl-C or q leaves every file untouched.

Examples:
  hatter learn /var/log/audit/audit.log --policy /etc/apparmor.d/php-fpm --fpm /etc/php/8.2/fpm/php-fpm.conf
  hatter learn --json --policy /etc/apparmor.d/usr.sbin.apache2 --apache /etc/apache2/apache2.conf audit.log > proposals.json
  hatter learn --answers answers.json --write --policy /etc/apparmor.d/php-fpm audit.log
  hatter learn --apply --dry-run --tenant myblog=/srv/www/myblog --policy ./php-fpm kern.log
  hatter learn --follow --profile 'php-fpm//*' --policy /etc/apparmor.d/php-fpm /var/log/audit/audit.log

Exit codes: 0 nothing to learn, or the change was written; 1 proposals or a change are pending (shown,
not written), or the review was quit; 2 usage or input error (no AppArmor lines, events only for
profiles the policy lacks, a policy that does not check, a change that does not validate): nothing written.
`;

const OPTIONS = {
  policy: { type: 'string' },
  include: { type: 'string', short: 'I', multiple: true },
  apache: { type: 'string' },
  fpm: { type: 'string' },
  config: { type: 'string' },
  tenant: { type: 'string', multiple: true },
  profile: { type: 'string' },
  since: { type: 'string' },
  json: { type: 'boolean' },
  answers: { type: 'string' },
  apply: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  write: { type: 'boolean' },
  load: { type: 'boolean' },
  'allow-ux': { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  'no-abstractions': { type: 'boolean' },
} as const;

function diag(file: string, code: string, message: string, severity: Diagnostic['severity'] = 'error', hint?: string): Diagnostic {
  return { file, line: 1, col: 1, severity, code, message, ...(hint ? { hint } : {}) };
}

function print(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}

/**
 * The abstractions under the include path (`abstractions/*`), each compiled as the body of a profile: the
 * proposals offer one where it already covers a need. Unreadable or failing ones are left out (they are
 * suggestions, not the policy being learned).
 */
function loadAbstractions(io: CliIo, includeDirs: readonly string[]): Abstraction[] {
  const out: Abstraction[] = [];
  const dirs = includeDirs.length ? includeDirs.map((d) => resolve(io.cwd, d)) : ['/etc/apparmor.d'];
  const cache = createParseCache();
  for (const dir of dirs) {
    let names: string[];
    try { names = readdirSync(join(dir, 'abstractions'), { withFileTypes: true }).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort(); } catch { continue; }
    for (const name of names) {
      const include = `abstractions/${name}`;
      if (out.some((a) => a.include === include)) continue;
      const text = `include if exists <tunables/global>\nprofile hatter-abstraction {\n  include <${include}>\n}\n`;
      const loaded = loadPolicyFile(io, { file: `<${include}>`, text }, { includeDirs: dirs, cache });
      if (!loaded.ok) continue;
      const profile = loaded.resolved.profiles[0];
      if (profile) out.push({ include, profile, rules: profile.rules.length });
    }
  }
  return out;
}

/** The tenant model from every source given (none: no tenant checks). */
async function readTenants(io: CliIo, values: { apache?: string; fpm?: string; config?: string; tenant?: string[] }, profile: string | undefined): Promise<TenantModel & { poolListen: Map<string, string> }> {
  const models: TenantModel[] = [];
  const poolListen = new Map<string, string>();
  const fs = nodeFileSystem();
  const env = io.env as Record<string, string>;
  if (values.apache !== undefined) {
    const { config, diagnostics } = readApacheConfig(resolve(io.cwd, values.apache), { fs, env });
    const model = tenantsFromApache(config);
    models.push({ ...model, diagnostics: [...diagnostics, ...model.diagnostics] });
  }
  if (values.fpm !== undefined) {
    const { config, diagnostics } = readFpmConfig(resolve(io.cwd, values.fpm), { fs, env });
    const model = tenantsFromFpm(config, profile);
    models.push({ ...model, diagnostics: [...diagnostics, ...model.diagnostics] });
    for (const pool of config.pools) if (pool.apparmorHat && pool.listen) poolListen.set(pool.apparmorHat, pool.listen);
  }
  if (values.config !== undefined) {
    const { loadConfigFile, tenantsFromServeConfig } = await import('../server/index.js');
    const loaded = loadConfigFile(resolve(io.cwd, values.config));
    if (loaded.config) models.push(tenantsFromServeConfig(loaded.config));
    else models.push({ tenants: [], shared: [], diagnostics: loaded.diagnostics });
  }
  if (values.tenant?.length) models.push(tenantsFromFlags(values.tenant));
  return { ...mergeTenantModels(models), poolListen };
}

interface Reading {
  readonly collector: NeedCollector;
  /** AppArmor events read (before filters): none means the input had no AppArmor lines. */
  events: number;
  malformed: number;
  readonly unknown: Diagnostic[];
}

function newReading(collector: NeedCollector): Reading {
  return { collector, events: 0, malformed: 0, unknown: [] };
}

async function readInto(reading: Reading, input: string, io: CliIo): Promise<Diagnostic | undefined> {
  const file = input === '-' ? 'stdin' : input;
  // The collector is the reader's sink: repeated lines never become events (memory and time per distinct line).
  const stats = newReadStats();
  const reader = new EventReader({ file, stats, sink: reading.collector, onSkip: (skipped) => { if (isMalformed(skipped)) reading.malformed++; } });
  try {
    const stream = input === '-' ? io.stdin : createReadStream(resolve(io.cwd, input), { highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer | string>) reader.push(chunk);
    reader.end();
    reading.events += stats.events;
  } catch (error) {
    return diag(file, 'learn/unreadable-log', `cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return undefined;
}

function groupToJson(group: ProposalGroup): unknown {
  return {
    ...group,
    events: group.needs.reduce((n, need) => n + need.count, 0),
    needs: group.needs.map((n) => ({ ...n, first: n.first === undefined ? undefined : new Date(n.first).toISOString(), last: n.last === undefined ? undefined : new Date(n.last).toISOString() })),
  };
}

/** Which profiles are in complain mode: the policy's, plus those the accepted edits create in complain mode. */
function complainNote(proposals: Proposals, edits: readonly PolicyEdit[] = []): string {
  const created = edits.flatMap((e) => (e.kind === 'create-profile' && e.flags.includes('complain') ? [`${e.parent}//${e.name}`] : []));
  const all = [...new Set([...proposals.complainProfiles, ...created])];
  if (all.length === 0) return '';
  return `in complain mode: ${all.join(', ')} (switch to enforce with aa-enforce or flags=(enforce) once learning is done)\n`;
}

/** Read single keys from a raw terminal until the review ends; Ctrl-C and q abort. */
async function interactive(io: CliIo, proposals: Proposals): Promise<Answer[] | undefined> {
  const review = new Review(proposals);
  const input = io.stdin as NodeJS.ReadStream;
  const draw = () => io.stdout.write(`\x1b[2J\x1b[H${renderReview(review)}`);
  input.setRawMode?.(true);
  input.resume();
  draw();
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        const digit = /^[1-9]$/.test(ch) ? Number(ch) - 1 : undefined;
        if (digit !== undefined) review.press(digit);
        else { const key = REVIEW_KEYS[ch]; if (key) review.press(key); }
        if (review.status !== 'reviewing') break;
      }
      draw();
      if (review.status !== 'reviewing') break;
    }
  } finally {
    input.setRawMode?.(false);
    input.pause();
  }
  return review.status === 'aborted' ? undefined : review.answers();
}

async function follow(io: CliIo, input: string, policy: ReturnType<typeof compilePolicy>['compiled'], proposer: Proposer, accepts: (e: AuditEvent) => boolean, json: boolean): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const collector = new NeedCollector(policy);
  const shown = new Set<string>();
  const reader = new EventReader({ file: input === '-' ? 'stdin' : input, immediate: true });
  const show = (events: readonly AuditEvent[]) => {
    for (const e of events) if (accepts(e)) collector.add(e);
    const fresh = collector.needs().filter((n) => !shown.has(`${n.key}\0${'permissions' in n ? n.permissions : ''}`));
    if (fresh.length === 0) return;
    for (const n of fresh) shown.add(`${n.key}\0${'permissions' in n ? n.permissions : ''}`);
    for (const group of proposer.propose(fresh).groups) io.stdout.write(json ? `${JSON.stringify(groupToJson(group))}\n` : `${renderGroup(group)}\n`);
  };
  try {
    const source = input === '-' ? (io.stdin as AsyncIterable<Buffer | string>) : followFile(resolve(io.cwd, input), { signal: controller.signal });
    for await (const chunk of source) {
      show(reader.push(chunk));
      if (controller.signal.aborted) break;
    }
    show(reader.end());
  } catch (error) {
    print(io, [diag(input, 'learn/unreadable-log', `cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)]);
    return EXIT_USAGE;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  return EXIT_OK;
}

export const command: Command = {
  name: 'learn',
  summary: 'turn complain-mode audit events into reviewed, tenant-safe policy rules',
  help,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, OPTIONS);
    if (values.policy === undefined) throw new UsageError('--policy FILE is required: the policy entry the rules go into (e.g. /etc/apparmor.d/php-fpm)');
    if (values.write && values['dry-run']) throw new UsageError('--write and --dry-run exclude each other');
    if (values.apply && values.answers !== undefined) throw new UsageError('--apply and --answers exclude each other');
    if (values.follow && (values.apply || values.answers !== undefined || values.write)) throw new UsageError('--follow only shows proposals; run again with --apply, --answers or --write on the log');
    if (values.load && !values.write) throw new UsageError('--load needs --write (the change must be written before it is loaded)');
    let since: number | undefined;
    if (values.since !== undefined) {
      since = parseSince(values.since);
      if (since === undefined) throw new UsageError(`--since: cannot read '${values.since}' (try 2026-11-22, 2026-11-22T10:00:00Z, @1700000000, 2h)`);
    }
    const spec: EventFilterSpec = { ...(since !== undefined ? { since } : {}), ...(values.profile !== undefined ? { profile: values.profile } : {}) };
    const accepts = eventFilter(spec);

    // The policy: it must check, or nothing can be learned into it.
    const entry = resolve(io.cwd, values.policy);
    const includeDirs = values.include ?? [];
    const loaded = loadPolicyFile(io, { file: entry }, { includeDirs });
    if (loaded.unreadable) { print(io, loaded.diagnostics.length ? loaded.diagnostics : [diag(values.policy, 'learn/unreadable-policy', `cannot read '${values.policy}'`)]); return EXIT_USAGE; }
    if (!loaded.ok) {
      print(io, loaded.diagnostics.filter((d) => d.severity === 'error'));
      print(io, [diag(values.policy, 'learn/policy-does-not-check', 'the policy does not check; fix it first (hatter check shows the same errors), nothing was written')]);
      return EXIT_USAGE;
    }
    const { compiled, diagnostics: compileDiagnostics } = compilePolicy(loaded.resolved);
    if (compileDiagnostics.some((d) => d.severity === 'error')) { print(io, compileDiagnostics); return EXIT_USAGE; }

    const topProfile = [...compiled.profiles.keys()].find((k) => !k.includes('//'));
    const tenants = await readTenants(io, values, topProfile);
    print(io, tenants.diagnostics);
    if (tenants.diagnostics.some((d) => d.severity === 'error')) return EXIT_USAGE;

    const proposer = new Proposer({
      policy: compiled, tenants: tenants.tenants, allowUx: values['allow-ux'] === true,
      ...(values['no-abstractions'] ? {} : { abstractions: loadAbstractions(io, includeDirs) }),
      ...(loaded.resolved.variables ? { variables: loaded.resolved.variables } : {}),
      poolListen: tenants.poolListen,
    });
    let inputs = positionals;
    if (inputs.length === 0) inputs = await defaultInputs(io);
    if (values.follow) {
      if (inputs.length !== 1) throw new UsageError('--follow reads exactly one LOG (or - for stdin)');
      return follow(io, inputs[0]!, compiled, proposer, accepts, values.json === true);
    }

    const unknown: string[] = [];
    const kindFilter = eventFilter({ ...(values.profile !== undefined ? { profile: values.profile } : {}) });
    const reading = newReading(new NeedCollector(compiled, { onUnknownProfile: (p) => unknown.push(p), accepts: kindFilter, ...(since !== undefined ? { since } : {}) }));
    for (const input of inputs) {
      const problem = await readInto(reading, input, io);
      if (problem) { print(io, [problem]); return EXIT_USAGE; }
    }
    const logName = inputs.join(', ');
    if (reading.events === 0) {
      print(io, [diag(logName === '-' ? 'stdin' : logName, 'learn/no-events', `no AppArmor audit lines in ${logName === '-' ? 'stdin' : logName}`, 'error', 'give the audit log (/var/log/audit/audit.log) or the kernel log; hatter logs reads the same formats')]);
      return EXIT_USAGE;
    }
    const needs = reading.collector.needs();
    const stats = reading.collector.stats;
    if (unknown.length) {
      const known = [...compiled.profiles.keys()].filter((k) => !k.includes('//')).join(', ');
      const onlyUnknown = needs.length === 0 && stats.alreadyAllowed === 0;
      print(io, unknown.map((p) => diag(values.policy!, 'learn/unknown-profile', `the log has events for profile '${p}', which ${values.policy} does not define (it defines ${known || 'no profile'})`, onlyUnknown ? 'error' : 'warning', 'give the policy file that defines it with --policy, or narrow the events with --profile')));
      if (onlyUnknown) return EXIT_USAGE;
    }
    const proposals = proposer.propose(needs);

    let answers: Answer[] | undefined;
    if (values.answers !== undefined) {
      let document: unknown;
      try {
        document = JSON.parse(await readFile(resolve(io.cwd, values.answers), 'utf8'));
      } catch (error) {
        print(io, [diag(values.answers, 'learn/bad-answers', error instanceof SyntaxError ? `not JSON: ${error.message}` : `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)]);
        return EXIT_USAGE;
      }
      const parsed = parseAnswers(document, values.answers);
      print(io, parsed.diagnostics);
      if (parsed.diagnostics.some((d) => d.severity === 'error')) return EXIT_USAGE;
      answers = parsed.answers;
    } else if (values.apply) {
      answers = defaultAnswers(proposals);
    } else if (!values.json && io.stdoutIsTTY && (io.stdin as { isTTY?: boolean }).isTTY && !inputs.includes('-')) {
      if (proposals.groups.length > 0) {
        answers = await interactive(io, proposals);
        if (answers === undefined) { io.stdout.write('learning aborted: nothing was changed\n'); return EXIT_FINDING; }
      }
    }

    if (answers === undefined) {
      // Show the proposals only.
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ groups: proposals.groups.map(groupToJson), complainProfiles: proposals.complainProfiles, stats, tenants: tenants.tenants.map((t) => ({ name: t.name, hats: t.hats, areas: t.areas.map((a) => a.path) })) }, null, 2)}\n`);
      } else {
        for (const group of proposals.groups) io.stdout.write(`${renderGroup(group)}\n`);
        io.stdout.write(`${proposals.groups.length} group${proposals.groups.length === 1 ? '' : 's'} from ${stats.needed} events (${stats.alreadyAllowed} already allowed, ${stats.unclassified + stats.notLearnable} not learnable)\n`);
        io.stdout.write(complainNote(proposals));
        if (proposals.groups.length) io.stdout.write('accept the defaults with --apply (or answers with --answers FILE), then --write\n');
      }
      return proposals.groups.length ? EXIT_FINDING : EXIT_OK;
    }

    const chosen = applyAnswers(proposals, answers);
    print(io, chosen.diagnostics);
    if (chosen.diagnostics.some((d) => d.severity === 'error')) return EXIT_USAGE;
    const texts = new Map([...loaded.files].map(([name, file]) => [name, file.text]));
    const applied = applyEdits(texts, chosen.edits, { entry, workingDirectory: io.cwd, ...(includeDirs.length ? { includePaths: includeDirs.map((d) => resolve(io.cwd, d)) } : {}), resolved: loaded.resolved });
    print(io, applied.diagnostics);
    if (applied.diagnostics.some((d) => d.severity === 'error')) return EXIT_USAGE;
    const changes = applied.changes.filter((c) => c.before !== c.after);

    if (values.json) {
      io.stdout.write(`${JSON.stringify({ groups: proposals.groups.map(groupToJson), answers, edits: chosen.edits, changes: changes.map((c) => ({ file: c.file, created: c.before === undefined })), complainProfiles: proposals.complainProfiles }, null, 2)}\n`);
    }
    if (!values.write) {
      if (!values.json) {
        io.stdout.write(previewChanges(changes));
        io.stdout.write(changes.length ? `${changes.length} file${changes.length === 1 ? '' : 's'} would change; run again with --write to write ${changes.length === 1 ? 'it' : 'them'}\n` : 'nothing to change\n');
        io.stdout.write(complainNote(proposals, chosen.edits));
      }
      return changes.length ? EXIT_FINDING : EXIT_OK;
    }
    const written = writeChanges(changes, { entries: [entry], workingDirectory: io.cwd, ...(includeDirs.length ? { includeDirs: includeDirs.map((d) => resolve(io.cwd, d)) } : {}) });
    print(io, written.diagnostics);
    if (written.exitCode !== 0) return EXIT_USAGE;
    const out = values.json ? io.stderr : io.stdout;
    for (const file of written.written) out.write(`wrote ${file}${written.backups.get(file) ? ` (backup ${written.backups.get(file)})` : ''}\n`);
    if (written.written.length === 0) out.write('nothing to change\n');
    out.write(complainNote(proposals, chosen.edits));
    const parserArgs = ['-r', ...includeDirs.flatMap((d) => ['-I', resolve(io.cwd, d)]), entry];
    const reload = ['apparmor_parser', ...parserArgs];
    // every profile the written policy defines: a complain-mode learning profile may stand in the kernel
    // where one of them (a PHP-FPM pool's new hat) must go (confine/kernel-load.ts)
    const defined = [...compiled.profiles.keys(), ...chosen.edits.flatMap((e) => (e.kind === 'create-profile' ? [`${e.parent}//${e.name}`] : []))];
    if (written.written.length && values.load && process.getuid?.() === 0) {
      const run = loadIntoKernel(parserArgs, defined);
      for (const r of run.removed) out.write(`removed the learning profile ${r.learning} (the kernel knew it as ${r.remove}, the name of the new hat)\n`);
      if (!run.ok) {
        print(io, [diag(entry, 'learn/load-failed', `${reload.join(' ')} failed: ${run.output || 'no output'}`, 'error', 'the files are written; fix the problem and load them again')]);
        return EXIT_USAGE;
      }
      out.write(`loaded: ${reload.join(' ')}\n`);
      if (run.removed.length) out.write('restart the PHP-FPM pools of those hats: their workers are still in the removed learning profiles\n');
    } else if (written.written.length) {
      for (const r of learningShadows(defined)) {
        out.write(`first remove the learning profile ${r.learning}, which the kernel knows as the new hat ${r.remove} (else apparmor_parser -r replaces it in place and the pool's change_profile is denied): echo -n '${r.remove}' | sudo tee /sys/kernel/security/apparmor/.remove (hatter learn --load does this)\n`);
      }
      out.write(`load the change into the kernel with: ${values.load ? 'sudo ' : ''}${reload.join(' ')}\n`);
    }
    return EXIT_OK;
  },
};
