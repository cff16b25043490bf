// `hatter lint`: the mistakes that make web confinement useless (writable PHP code, globs into other
// sites, missing hats, shells with ix, Ux, dangerous capabilities, shared /tmp …), as diagnostics,
// JSON or SARIF; `--fix` for the rules with a mechanical fix.
import { unifiedDiff } from './line-diff.js';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createParseCache, diagnosticToJson, formatDiagnostic, hasErrors, lookupInclude, snapshotFileReader, type Diagnostic, type FileReader, type ParseCache, type Severity } from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import {
  mergeTenantModels, nodeFileSystem, parseEnvvars, readApacheConfig, readFpmConfig, tenantsFromApache, tenantsFromFlags, tenantsFromFpm,
  type TenantModel,
} from '../web/index.js';
import { applyEdits, compareFindings, createLintCache, findingKey, lintPolicy, toSarif, type ConfiguredHat, type LintCache, type LintFinding, type LintWeb, type Suppression, type TextEdit } from '../lint/index.js';
import { codeIdentity, commandCacheStore, modulesDigest } from './cache-store.js';
import { loadThroughCache } from './load-cache.js';
import { writeFileAtomic } from './atomic-write.js';
import { loadPolicyFile } from './load-fresh.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter lint [-I DIR]... [--apache FILE] [--fpm FILE] [--config hatter.yaml] [--tenant HAT=DIR]...
                   [--json | --format text|json|sarif] [--fail-on error|warning|info] [--fix [--dry-run]] [--no-cache] FILE...

Find the mistakes that load fine but make web confinement useless: a hat that can write the PHP
files it serves, a glob that reaches another site's directory, a hat Apache or PHP-FPM names that
does not exist, ix on a shell, Ux, dac_override or sys_admin in a site's hat, /tmp writes without
owner, //null- leftovers from profiling, change_profile broader than its hats, #include, no abi.
Rules and their fixes: docs/lint.md. Each FILE is a policy (a directory stands for the profile
files in it, as with hatter check).

Options:
  -I, --include DIR     add DIR to the include search path (default /etc/apparmor.d); repeatable
  --apache FILE         Apache's configuration: AAHatName/AADefaultHatName checked against the
                        policy (lint/missing-hat, lint/unreachable-hat), vhosts become tenants
  --fpm FILE            php-fpm.conf: each pool's apparmor_hat checked; pools become tenants
  --prefix DIR          php-fpm's prefix for relative includes (default /usr)
  --config FILE         hatter.yaml: its sites' hats checked; sites become tenants
  --tenant HAT=DIR,...  a tenant by hand (hats with the same directories form one site); repeatable
  --profile NAME        the web server's profile (default: the one attached to apache2 / php-fpm)
  -D NAME               define NAME for Apache's <IfDefine>; repeatable
  --json                one JSON document: {"findings":[...],"suppressed":[...],"summary":{...}}
  --format FORMAT       text (default), json, or sarif (SARIF 2.1.0 for code scanning)
  --help-uri URI        base of the rules' helpUri in SARIF (default: this installation's docs/lint.md)
  --fail-on LEVEL       exit 1 when a finding is at least this severe (default warning)
  --fix                 apply the mechanical fixes (deprecated #include, owner on /tmp rules,
                        null- leftovers) through the lossless syntax tree: atomic writes, the old
                        file kept as FILE.hatter-lint~ (apparmor_parser skips names ending in ~)
  --dry-run             with --fix: print the fixes as a unified diff and write nothing
  --no-cache            neither read nor write the compile cache (docs/cache.md); without --apache,
                        --fpm and --config a file's findings are kept there until a file it read changes
  -h, --help            show this help

Suppress a finding with a comment on its line or the line before; the reason is required:
  /tmp/site-*.lock rw,  # hatter-lint: allow lint/shared-tmp — lock names are fixed per site

Examples:
  hatter lint /etc/apparmor.d/usr.sbin.apache2
  hatter lint --apache /etc/apache2/apache2.conf /etc/apparmor.d/usr.sbin.apache2
  hatter lint --fpm /etc/php/8.2/fpm/php-fpm.conf /etc/apparmor.d/php-fpm
  hatter lint --tenant alice=/srv/www/alice --tenant bob=/srv/www/bob ./apparmor.d/web
  hatter lint --format sarif /etc/apparmor.d > lint.sarif
  hatter lint --fix --dry-run ./apparmor.d/web

Exit status: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage error,
unreadable input, a policy apparmor_parser would reject, or a web configuration error.`;

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

function expandInputs(io: CliIo, reader: FileReader, names: readonly string[]): string[] {
  const inputs: string[] = [];
  for (const name of names) {
    if (reader.kind(resolve(io.cwd, name)) === 'directory') {
      const found = lookupInclude(resolve(io.cwd, name), 'quoted', [], io.cwd, reader);
      const prefix = name.endsWith('/') ? name : `${name}/`;
      if (found.found) inputs.push(...found.files.map((file) => prefix + file.slice(file.lastIndexOf('/') + 1)));
    } else {
      inputs.push(name);
    }
  }
  return inputs;
}

interface WebRead {
  readonly web: LintWeb;
  readonly diagnostics: Diagnostic[];
}

async function readWeb(io: CliIo, values: Record<string, unknown>): Promise<WebRead> {
  const diagnostics: Diagnostic[] = [];
  const models: TenantModel[] = [];
  const fs = nodeFileSystem();
  const env = io.env as Record<string, string>;
  let web: LintWeb = {};
  const profile = values.profile as string | undefined;
  if (typeof values.apache === 'string') {
    const path = resolve(io.cwd, values.apache);
    const envvarsPath = join(dirname(path), 'envvars');
    const envRead = existsSync(envvarsPath) ? fs.read(envvarsPath) : undefined;
    const read = readApacheConfig(path, { fs, env: { ...(envRead && 'text' in envRead ? parseEnvvars(envRead.text) : {}), ...env }, ...(values.define ? { defines: values.define as string[] } : {}) });
    diagnostics.push(...read.diagnostics);
    if (read.config.files.length === 0) diagnostics.push({ file: values.apache, line: 1, col: 1, severity: 'error', code: 'web/apache-unreadable', message: `cannot read ${values.apache}` });
    web = { ...web, apache: { config: read.config, map: { defaultServerName: hostname(), stat: (p: string) => fs.stat(p) }, ...(profile ? { profile } : {}) } };
    models.push(tenantsFromApache(read.config));
  }
  if (typeof values.fpm === 'string') {
    const read = readFpmConfig(resolve(io.cwd, values.fpm), { fs, env, ...(typeof values.prefix === 'string' ? { prefix: resolve(io.cwd, values.prefix) } : {}) });
    diagnostics.push(...read.diagnostics);
    if (read.config.files.length === 0) diagnostics.push({ file: values.fpm, line: 1, col: 1, severity: 'error', code: 'web/fpm-unreadable', message: `cannot read ${values.fpm}` });
    web = { ...web, fpm: { config: read.config, ...(profile ? { profile } : {}) } };
    models.push(tenantsFromFpm(read.config));
  }
  if (typeof values.config === 'string') {
    // The serve configuration lives in server/ and is read exactly as `hatter serve` reads it; imported only when asked for.
    const { loadConfigFile, tenantsFromServeConfig } = await import('../server/index.js');
    const loaded = loadConfigFile(resolve(io.cwd, values.config));
    diagnostics.push(...loaded.diagnostics);
    if (loaded.config) {
      const config = loaded.config;
      models.push(tenantsFromServeConfig(config));
      const at = { file: values.config, line: 1, col: 1 };
      const hats: ConfiguredHat[] = [];
      config.sites.forEach((site, i) => {
        hats.push({ hat: site.defaultHat ?? site.serverName, profile: config.policy.profile, at, by: `sites[${i}] (${site.serverName}): ${site.defaultHat !== undefined ? 'defaultHat' : 'default hat (ServerName)'}`, consequence: 'its requests fall through to the next candidate (ServerName-URI, URI, DEFAULT_URI) or the parent profile' });
        site.locations.forEach((l, j) => {
          if (l.hat !== undefined) hats.push({ hat: l.hat, profile: config.policy.profile, at, by: `sites[${i}].locations[${j}] hat`, consequence: 'requests there fall through to the site\'s default hat or a broader one' });
        });
      });
      web = { ...web, configuredHats: hats };
    }
  }
  if (Array.isArray(values.tenant) && values.tenant.length) models.push(tenantsFromFlags(values.tenant as string[]));
  if (models.length) {
    const merged = mergeTenantModels(models);
    diagnostics.push(...merged.diagnostics.filter((d) => d.severity === 'error'));
    web = { ...web, tenants: merged };
  }
  return { web, diagnostics };
}


/** The compile cache's code identity plus lint's own modules and the web model they use. */
function lintCodeIdentity(): string {
  return `${codeIdentity()}:${modulesDigest(['lint', 'web', 'cli/lint.js'])}`;
}

function packageRoot(): string {
  // dist/src/cli/lint.js → the package root (where docs/ lives).
  return resolve(dirname(new URL(import.meta.url).pathname), '..', '..', '..');
}

function findingJson(f: LintFinding): Record<string, unknown> {
  return { ...diagnosticToJson(f), ...(f.profile ? { profile: f.profile } : {}), ...(f.fix ? { fix: f.fix.description } : {}) };
}

/**
 * The run's parse cache, seen through a recording reader: a file parsed for an earlier profile is read
 * again (from the run's snapshot, so the same bytes) so that this load's cache entry records it too.
 */
function readingParseCache(shared: ParseCache, reader: FileReader): ParseCache {
  return {
    get(path) {
      const parsed = shared.get(path);
      if (parsed) reader.readFile(path);
      return parsed;
    },
    set: (path, file) => shared.set(path, file),
  };
}

/** What lint says about one input file: its findings, or the lines that explain why it could not be linted. */
interface FileLint {
  readonly findings: readonly LintFinding[];
  readonly suppressed: readonly { readonly finding: LintFinding; readonly by: Suppression }[];
  readonly errors?: readonly string[];
}

function lintFile(io: CliIo, file: string, reader: FileReader, includeDirs: readonly string[], cache: ParseCache, web: LintWeb, lintCache: LintCache): FileLint {
  const loaded = loadPolicyFile(io, { file }, { includeDirs, cache }, reader);
  if (loaded.unreadable || !loaded.ok) {
    // Lint judges policies that load; what stops one from loading is hatter check's job.
    const errors = loaded.diagnostics.filter((x) => x.severity === 'error').map(formatDiagnostic);
    if (loaded.unreadable && loaded.diagnostics.length === 0) errors.push(`hatter lint: cannot read ${file}`);
    return { findings: [], suppressed: [], errors };
  }
  return lintPolicy({ loaded, web, cache: lintCache });
}

export const command: Command = {
  name: 'lint',
  summary: 'find policy mistakes that make web confinement useless (SARIF, --fix)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      include: { type: 'string', short: 'I', multiple: true },
      apache: { type: 'string' },
      fpm: { type: 'string' },
      prefix: { type: 'string' },
      config: { type: 'string' },
      tenant: { type: 'string', multiple: true },
      profile: { type: 'string' },
      define: { type: 'string', short: 'D', multiple: true },
      json: { type: 'boolean' },
      format: { type: 'string' },
      'help-uri': { type: 'string' },
      'fail-on': { type: 'string' },
      fix: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    if (positionals.length === 0) throw new UsageError('no policy file given');
    if (positionals.includes('-')) throw new UsageError("lint reads policy files, not standard input ('-'): suppressions and fixes need a file");
    const format = values.json ? 'json' : values.format ?? 'text';
    if (values.json && values.format !== undefined && values.format !== 'json') throw new UsageError('--json and --format cannot both be given');
    if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new UsageError(`--format must be text, json or sarif, not '${format}'`);
    const failOn = (values['fail-on'] ?? 'warning') as Severity;
    if (!(failOn in RANK)) throw new UsageError(`--fail-on must be error, warning or info, not '${values['fail-on']}'`);
    if (values['dry-run'] && !values.fix) throw new UsageError('--dry-run goes with --fix');

    const webRead = await readWeb(io, values);
    let inputError = hasErrors(webRead.diagnostics);
    for (const d of webRead.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);

    // One snapshot of the file system for the run: every profile looks up the same abstractions.
    const reader = snapshotFileReader(nodeFileReader());
    const cache = createParseCache();
    const lintCache = createLintCache();
    // The warm path: a file's findings come from the compile cache while nothing its load read has
    // changed (load-cache.ts). Only without Apache/FPM/hatter.yaml: their files are not recorded.
    const store = values.apache || values.fpm || values.config ? undefined : commandCacheStore(io, values['no-cache']);
    const code = store ? lintCodeIdentity() : '';
    const seen = new Set<string>();
    const findings: LintFinding[] = [];
    const suppressed: { finding: LintFinding; by: Suppression }[] = [];
    for (const file of expandInputs(io, reader, positionals)) {
      const keyParts = { command: 'lint', code, file: resolve(io.cwd, file), display: file, cwd: io.cwd, includeDirs: values.include ?? [], tenants: values.tenant ?? [] };
      const outcome = loadThroughCache<FileLint>(store, keyParts, reader, (recorded) => lintFile(io, file, recorded, values.include ?? [], store ? readingParseCache(cache, recorded) : cache, webRead.web, lintCache), { cacheable: (r) => r.errors === undefined });
      if (outcome.errors !== undefined) {
        inputError = true;
        for (const line of outcome.errors) io.stderr.write(`${line}\n`);
        continue;
      }
      for (const f of outcome.findings) if (!seen.has(findingKey(f))) { seen.add(findingKey(f)); findings.push(f); }
      for (const s of outcome.suppressed) if (!seen.has(findingKey(s.finding))) { seen.add(findingKey(s.finding)); suppressed.push(s); }
    }
    findings.sort(compareFindings);

    let fixed = new Set<LintFinding>();
    if (values.fix) {
      const outcome = applyFixes(io, findings, Boolean(values['dry-run']), values.include ?? []);
      if (!values['dry-run']) fixed = outcome.fixed;
      if (outcome.failed) inputError = true;
    }

    const remaining = findings.filter((f) => !fixed.has(f));
    if (format === 'sarif') {
      const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
      const helpBase = values['help-uri'] ?? pathToFileURL(join(packageRoot(), 'docs', 'lint.md')).href;
      const uriOf = (f: string) => {
        const abs = resolve(io.cwd, f);
        const rel = relative(io.cwd, abs);
        return rel.startsWith('..') ? pathToFileURL(abs).href : rel.split('/').map(encodeURIComponent).join('/');
      };
      io.stdout.write(`${JSON.stringify(toSarif(remaining, suppressed, { helpBase, toolVersion: version, uriOf }), null, 2)}\n`);
    } else if (format === 'json') {
      const count = (s: Severity) => remaining.filter((f) => f.severity === s).length;
      io.stdout.write(`${JSON.stringify({
        findings: remaining.map(findingJson),
        suppressed: suppressed.map((s) => ({ ...findingJson(s.finding), reason: s.by.reason })),
        fixed: [...fixed].map(findingJson),
        summary: { errors: count('error'), warnings: count('warning'), info: count('info'), suppressed: suppressed.length, fixed: fixed.size },
      }, null, 2)}\n`);
    } else if (!(values.fix && values['dry-run'])) {
      for (const f of remaining) io.stdout.write(`${formatDiagnostic(f)}${f.fix ? `\n  fixable: ${f.fix.description} (hatter lint --fix)` : ''}\n`);
      const count = (s: Severity) => remaining.filter((f) => f.severity === s).length;
      io.stderr.write(`${remaining.length} finding${remaining.length === 1 ? '' : 's'} (${count('error')} errors, ${count('warning')} warnings, ${count('info')} info)${suppressed.length ? `, ${suppressed.length} suppressed` : ''}${fixed.size ? `, ${fixed.size} fixed` : ''}\n`);
    }
    if (inputError) return EXIT_USAGE;
    return remaining.some((f) => RANK[f.severity] >= RANK[failOn]) ? EXIT_FINDING : EXIT_OK;
  },
};

/** Apply every finding's fix, file by file; the result must still load with no new errors. */
function applyFixes(io: CliIo, findings: readonly LintFinding[], dryRun: boolean, includeDirs: readonly string[]): { fixed: Set<LintFinding>; failed: boolean } {
  const byPath = new Map<string, { edits: TextEdit[]; findings: LintFinding[] }>();
  for (const f of findings) {
    if (!f.fix) continue;
    for (const e of f.fix.edits) {
      const entry = byPath.get(e.path) ?? { edits: [], findings: [] };
      entry.edits.push(e);
      if (!entry.findings.includes(f)) entry.findings.push(f);
      byPath.set(e.path, entry);
    }
  }
  const fixed = new Set<LintFinding>();
  let failed = false;
  for (const [path, { edits, findings: owned }] of byPath) {
    const before = readFileSync(path, 'latin1');
    // The loader decodes UTF-8; edit the same decoded text and write it back as UTF-8.
    const text = Buffer.from(before, 'latin1').toString('utf8');
    const result = applyEdits(text, edits, path);
    if (!result.ok) {
      io.stderr.write(`hatter lint: ${path}: not fixed: ${result.reason}\n`);
      failed = true;
      continue;
    }
    // The fixed file must load as well as before (hatter check's verdict), with its includes.
    const overlay: FileReader = overlayReader(nodeFileReader(), path, result.text);
    const check = loadPolicyFile(io, { file: path }, { includeDirs }, overlay);
    const original = loadPolicyFile(io, { file: path }, { includeDirs });
    if (check.diagnostics.filter((d) => d.severity === 'error').length > original.diagnostics.filter((d) => d.severity === 'error').length) {
      io.stderr.write(`hatter lint: ${path}: not fixed: the fixed file would not load (${check.diagnostics.find((d) => d.severity === 'error')?.message})\n`);
      failed = true;
      continue;
    }
    if (dryRun) {
      io.stdout.write(unifiedDiff(text, result.text, path));
      continue;
    }
    copyFileSync(path, `${path}.hatter-lint~`);
    writeFileAtomic(path, result.text);
    io.stderr.write(`hatter lint: fixed ${owned.length} finding${owned.length === 1 ? '' : 's'} in ${path} (was saved as ${path}.hatter-lint~)\n`);
    for (const f of owned) fixed.add(f);
  }
  return { fixed, failed };
}

function overlayReader(base: FileReader, path: string, text: string): FileReader {
  const bytes = new TextEncoder().encode(text);
  return {
    kind: (p) => base.kind(p),
    readFile: (p) => (p === path ? bytes : base.readFile(p)),
    listDirectory: (p) => base.listDirectory(p),
  };
}
