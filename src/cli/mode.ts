// `hatter mode complain|enforce|audit|disable LABEL...`: change only the flags of a profile, hat or
// child profile in its source file (through the lossless syntax tree), then reload it.
import { existsSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { diagnosticToJson, formatDiagnostic } from '../policy/index.js';
import { hostFileReader, prefixedHostFiles, underPrefix, MODE_CHANGES, findModeTargets, planModeChange, type ModeChange } from '../host/index.js';
import { applyPlan, checkWritable } from './apply-plan.js';
import { loadIntoKernel } from '../confine/index.js';
import { EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter mode complain|enforce|audit|disable PROFILE[//HAT]... [options]

Change the mode of profiles, hats and child profiles in their policy source, the way aa-complain,
aa-enforce, aa-audit and aa-disable do, but only the flags=(...) of each one changes: comments,
spacing and every other byte of the file stay as they were (the edit goes through hatter's lossless
syntax tree). A hat in its own file (Debian's /etc/apparmor.d/apache2.d/NAME) is edited there.
  complain   the mode flag becomes complain (kill, unconfined, prompt, enforce removed)
  enforce    the mode flag is removed (enforce is the default); a disable/ link is removed
  audit      the audit flag is added
  disable    Debian's convention: the link disable/FILE -> ../FILE, then apparmor_parser -R
             (whole policy files only; a hat cannot be disabled alone)
Then each changed policy file is reloaded with apparmor_parser -r (not with --no-reload or --prefix).

Options:
  --dir DIR      the policy directory (default /etc/apparmor.d)
  --prefix DIR   read and write under DIR (a scratch copy); nothing is reloaded
  --no-reload    change the files only
  --dry-run      say what would change; change nothing
  --json         machine-readable output
  -h, --help     show this help

Examples:
  hatter mode complain apache2//shop
  hatter mode enforce apache2//shop php-fpm//shop
  hatter mode complain /usr/sbin/apache2//DEFAULT_URI --no-reload
  hatter mode disable usr.sbin.apache2-profile-name --dry-run

Exit status: 0 done; 2 usage error, a name that is not in the policy, or a reload that failed.`;

export const command: Command = {
  name: 'mode',
  summary: 'put profiles, hats and child profiles in complain, enforce, audit or disable (flags only)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      dir: { type: 'string' },
      prefix: { type: 'string' },
      'no-reload': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) { io.stdout.write(`${HELP}\n`); return EXIT_OK; }
    const [change, ...labels] = positionals;
    if (change === undefined || !MODE_CHANGES.includes(change as ModeChange)) throw new UsageError(`give a mode: ${MODE_CHANGES.join(', ')}${change !== undefined ? ` (not '${change}')` : ''}`);
    if (labels.length === 0) throw new UsageError(`mode ${change} needs at least one PROFILE[//HAT]`);
    const prefix = values.prefix !== undefined ? resolve(io.cwd, values.prefix) : undefined;
    if (prefix !== undefined && !existsSync(prefix)) throw new UsageError(`--prefix ${values.prefix} does not exist`);
    const dir = posix.normalize(values.dir ?? '/etc/apparmor.d');
    const host = prefixedHostFiles(prefix);
    const reader = hostFileReader(host);
    const found = findModeTargets(labels, reader, dir);
    const plan = planModeChange(change as ModeChange, found.targets, reader, dir, (p) => host.read(p), (p) => host.link(p));
    const diagnostics = [...found.diagnostics, ...plan.diagnostics];
    const dryRun = Boolean(values['dry-run']);
    if (diagnostics.length === 0 && !dryRun) diagnostics.push(...checkWritable(plan.files, prefix));
    const refused = diagnostics.length > 0;
    const changes = refused ? [] : applyPlan(plan.files, prefix, { dryRun });
    const reloads: { entry: string; ok: boolean; output: string; removedLearning?: string[] }[] = [];
    if (!refused && !dryRun && prefix === undefined && !values['no-reload']) {
      for (const entry of [...new Set(found.targets.map((t) => t.entry))]) {
        // a learning profile standing where a target hat goes is removed first (confine/kernel-load.ts)
        const defined = change === 'disable' ? [] : found.targets.filter((t) => t.entry === entry).map((t) => t.label);
        const run = loadIntoKernel([change === 'disable' ? '-R' : '-r', underPrefix(prefix, entry)], defined);
        reloads.push({ entry, ok: run.ok, output: run.output, ...(run.removed.length ? { removedLearning: run.removed.map((r) => r.learning) } : {}) });
      }
    }
    const reloadFailed = reloads.some((r) => !r.ok);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({
        mode: change, targets: found.targets.map((t) => ({ label: t.label, file: t.file, entry: t.entry })), changes, reloads, dryRun,
        diagnostics: diagnostics.map(diagnosticToJson),
      }, null, 2)}\n`);
    } else {
      for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
      for (const t of found.targets) io.stdout.write(`${t.label}: ${t.file}${t.file !== t.entry ? ` (loaded through ${t.entry})` : ''}\n`);
      for (const c of changes) io.stdout.write(`${dryRun ? 'would ' : ''}${c}\n`);
      if (!refused && changes.length === 0) io.stdout.write(`already ${change}: nothing to change\n`);
      for (const r of reloads) {
        for (const l of r.removedLearning ?? []) io.stdout.write(`removed the learning profile ${l}, which stood where the hat goes\n`);
        io.stdout.write(`${r.ok ? 'reloaded' : 'RELOAD FAILED'}: ${r.entry}${r.ok ? '' : `: ${r.output}`}\n`);
      }
    }
    return refused || reloadFailed ? EXIT_USAGE : EXIT_OK;
  },
};
