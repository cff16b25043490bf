// `hatter site add|remove|list`: one site = one hat + vhost + PHP-FPM pool, planned by src/host and
// confirmed before anything is written (hatter's checker, which-hat and hatter isolate's analysis on the
// planned tree, then apparmor_parser -QK, apache2ctl -t and php-fpm -t on a scratch copy when they are
// installed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { diagnosticToJson, formatDiagnostic, loadPolicy, type Diagnostic } from '../policy/index.js';
import { parseServeConfig, tenantsFromServeConfig } from '../server/index.js';
import { checkSiteIsolation, debianIsolationTargets } from './site-isolation.js';
import { overlayHostFiles, prefixedHostFiles, underPrefix, type HostFiles, type FilePlan, DEBIAN_LAYOUT, listSites, planSiteAdd, planSiteRemove, type SitePaths, type SiteSpec, confirmSite , hostFileReader, planHatterSiteAdd, planHatterSiteRemove, listHatterSites } from '../host/index.js';
import type { Tenant } from '../web/index.js';
import { applyPlan, canWriteDirectory, checkWritable, type WriteAccess } from './apply-plan.js';
import { EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError, parseOptions, type CliIo, type Command } from './io.js';

const HELP = `Usage: hatter site add NAME --root DIR [--php] [options]
       hatter site remove NAME [--force] [--prefix DIR] [--dry-run]
       hatter site list [--json] [--prefix DIR] [--layout hatter [--config FILE]]

One site = one AppArmor hat + one Apache vhost + one PHP-FPM pool, in Debian's layout:
  /etc/apparmor.d/apache2.d/NAME          the hat Apache enters (include <apache2.d> of usr.sbin.apache2)
  /etc/apparmor.d/php-fpm.d/NAME          the hat the pool's workers enter (include <php-fpm.d> of php-fpm)
  /etc/apache2/sites-available/NAME.conf  the vhost with AADefaultHatName NAME (enabled in sites-enabled/)
  /etc/php/VERSION/fpm/pool.d/NAME.conf   the pool with apparmor_hat = NAME, user, listen, chdir
and one owner-only PHP session and temp directory. The hats grant the site's root read-only, write
access only to the directories given with --writable (never to PHP code there, unless
--allow-php-writes), and nothing of any other site.

Before anything is written: hatter's checker on the new policy, which-hat (each server name lands in
the new hat, the pool's workers can enter theirs), no rule of the new hats reaches another site's
directories (exact glob intersection), hatter isolate's analysis of the whole planned policy
(abstractions and includes counted: any flow between the new site and another refuses the add;
flows only owner rules grant between sites of one Unix user are warnings), and apparmor_parser -QK,
apache2ctl -t and php-fpmVERSION -t on a scratch copy when they are installed. Files are written atomically; a file edited by hand since
hatter wrote it (each file's first line records a hash) is never overwritten without --force, and then
a backup (DIR/.FILE.hatter-backup, hidden so apparmor_parser skips it) is kept. Reload Apache, PHP-FPM and the profiles yourself afterwards
(systemctl reload apache2 php8.2-fpm; apparmor_parser -r /etc/apparmor.d/usr.sbin.apache2 ...).

Options (add):
  --root DIR              the site's root directory (the DocumentRoot and the pool's chdir)
  --php                   a PHP site: a PHP-FPM pool and hat, .php requests proxied to the pool
  --user USER             the account the pool runs as (default www-data)
  --server-name HOST      the vhost's ServerName, then ServerAliases (repeatable; default NAME)
  --writable DIR          a directory (under the root) the site writes, e.g. uploads (repeatable)
  --allow-php-writes DIR  like --writable, and PHP files there may be written too (repeatable)
  --php-version V         which PHP (default: the only one installed)
  --layout debian|hatter  debian (default): the files above; hatter: a site entry in hatter.yaml
                          (after its other sites, comments kept) and the site's hat inside the
                          profile its policy: names, both removed exactly by site remove; its
                          rules may reach no other site of hatter.yaml (same glob check and
                          isolation analysis); site
                          list --layout hatter lists hatter.yaml's sites, their hats and whether
                          each hat is in the policy's profile
  --config FILE           with --layout hatter: the hatter.yaml (default /etc/hatter/hatter.yaml)
Options (all):
  --prefix DIR            read and write every file under DIR (a scratch copy of the layout); every
                          path given, --root included, is still the path on the deployed system
  --dry-run               print the files that would change (and their text with --json); write nothing
  --force                 overwrite (add) or remove (remove) files edited by hand; backups are kept
  --no-external           skip apparmor_parser, apache2ctl and php-fpm (hatter's own checks still run)
  --json                  machine-readable output
  -h, --help              show this help

Examples:
  hatter site add shop --root /srv/shop/public --php --user shop --server-name shop.example \\
      --server-name www.shop.example --writable uploads --writable cache
  hatter site add blog --root /srv/blog --php --prefix /tmp/scratch --dry-run
  hatter site list --json
  hatter site remove shop

Exit status: 0 done (or nothing to do); 1 list: a site whose hat, vhost and pool disagree;
2 usage error or a diagnostic (nothing was written).`;

/**
 * The `site` command; `edge.canWrite` replaces the permission check of the preflight (tests refuse a
 * directory with it, as root too, without mounts or chattr).
 */
export function siteCommand(edge: { canWrite?: WriteAccess } = {}): Command {
  const canWrite = edge.canWrite ?? canWriteDirectory;
  return {
  name: 'site',
  summary: 'add, remove and list sites (hat + Apache vhost + PHP-FPM pool, in agreement)',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(args, {
      root: { type: 'string' },
      php: { type: 'boolean' },
      user: { type: 'string' },
      'server-name': { type: 'string', multiple: true },
      writable: { type: 'string', multiple: true },
      'allow-php-writes': { type: 'string', multiple: true },
      'php-version': { type: 'string' },
      layout: { type: 'string' },
      config: { type: 'string' },
      prefix: { type: 'string' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      'no-external': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) { io.stdout.write(`${HELP}\n`); return EXIT_OK; }
    const [action, name, ...rest] = positionals;
    if (action === undefined) throw new UsageError('give an action: add, remove or list');
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (values.layout !== undefined && values.layout !== 'debian' && values.layout !== 'hatter') throw new UsageError(`--layout must be debian or hatter, not '${values.layout}'`);
    if (values.config !== undefined && values.layout !== 'hatter') throw new UsageError('--config goes with --layout hatter');
    const prefix = values.prefix !== undefined ? resolve(io.cwd, values.prefix) : undefined;
    if (prefix !== undefined && !existsSync(prefix)) throw new UsageError(`--prefix ${values.prefix} does not exist`);
    const host = prefixedHostFiles(prefix);
    const json = Boolean(values.json);

    const hatterConfig = values.layout === 'hatter' ? (values.config !== undefined ? posix.resolve(prefix === undefined ? io.cwd : '/', values.config) : '/etc/hatter/hatter.yaml') : undefined;
    if (action === 'list' && hatterConfig !== undefined) {
      if (name !== undefined) throw new UsageError(`unexpected argument '${name}'`);
      const { sites, diagnostics } = listHatterSites(host, hatterConfig);
      if (json) io.stdout.write(`${JSON.stringify({ sites, diagnostics: diagnostics.map(diagnosticToJson) }, null, 2)}\n`);
      else {
        for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
        if (sites.length === 0) io.stdout.write(`no sites in ${hatterConfig}\n`);
        for (const s of sites) {
          io.stdout.write(`${s.serverName}  ${s.agree ? 'agree' : 'DISAGREE'}${s.managed ? '  (hatter)' : ''}${s.aliases.length ? `  ${s.aliases.join(' ')}` : ''}${s.root ? `  ${s.root}` : ''}\n`);
          io.stdout.write(`  hats ${s.hats.map((h) => `${h.name}${h.exists ? '' : ' (missing)'}`).join(', ')}\n`);
          for (const p of s.problems) io.stdout.write(`  problem: ${p}\n`);
        }
      }
      if (diagnostics.some((d) => d.severity === 'error')) return EXIT_USAGE;
      return sites.every((s) => s.agree) ? EXIT_OK : EXIT_FINDING;
    }
    if (action === 'list') {
      if (name !== undefined) throw new UsageError(`unexpected argument '${name}'`);
      const { sites, diagnostics } = listSites(host);
      if (json) io.stdout.write(`${JSON.stringify({ sites, diagnostics: diagnostics.map(diagnosticToJson) }, null, 2)}\n`);
      else {
        if (sites.length === 0) io.stdout.write('no sites (no vhost with AADefaultHatName, no pool with apparmor_hat)\n');
        for (const s of sites) {
          io.stdout.write(`${s.name}  ${s.agree ? 'agree' : 'DISAGREE'}${s.managed ? '  (hatter)' : ''}${s.serverNames.length ? `  ${s.serverNames.join(' ')}` : ''}${s.root ? `  ${s.root}` : ''}\n`);
          io.stdout.write(`  hat ${s.apacheHat ?? '-'}${s.fpmHat ? ` + ${s.fpmHat}` : ''}\n  vhost ${s.vhost ?? '-'}${s.vhost && !s.enabled ? ' (not enabled)' : ''}\n  pool ${s.pool ?? '-'}\n`);
          for (const p of s.problems) io.stdout.write(`  problem: ${p}\n`);
        }
      }
      return sites.every((s) => s.agree) ? EXIT_OK : EXIT_FINDING;
    }
    if (name === undefined) throw new UsageError(`site ${action} needs a NAME`);
    if (action === 'remove' && hatterConfig !== undefined) {
      const plan = planHatterSiteRemove(name, host, hatterConfig, { force: Boolean(values.force) });
      return finish(io, json, plan.files, plan.diagnostics, [], prefix, Boolean(values['dry-run']), canWrite);
    }
    if (action === 'remove') {
      for (const key of ['root', 'php', 'user', 'server-name', 'writable', 'allow-php-writes', 'php-version'] as const) {
        if (values[key] !== undefined) throw new UsageError(`--${key} goes with add, not remove`);
      }
      const plan = planSiteRemove(name, host, { force: Boolean(values.force) });
      return finish(io, json, plan.files, plan.diagnostics, [], prefix, Boolean(values['dry-run']), canWrite);
    }

    if (action !== 'add') throw new UsageError(`unknown action '${action}' (add, remove or list)`);
    if (values.root === undefined) throw new UsageError('site add needs --root DIR');
    const spec: SiteSpec = {
      name,
      root: values.root,
      php: Boolean(values.php),
      ...(values.user !== undefined ? { user: values.user } : {}),
      serverNames: values['server-name'] ?? [name],
      writable: values.writable ?? [],
      allowPhpWrites: values['allow-php-writes'] ?? [],
      ...(values['php-version'] !== undefined ? { phpVersion: values['php-version'] } : {}),
      force: Boolean(values.force),
    };
    if (hatterConfig !== undefined) {
      if (spec.phpVersion !== undefined) throw new UsageError('--php-version goes with --layout debian (hatter serve runs Debian\'s php-fpm8.2)');
      const plan = planHatterSiteAdd(spec, host, hatterConfig, configuredTenants(host, hatterConfig));
      const diagnostics = [...plan.diagnostics, ...(plan.diagnostics.length === 0 ? confirmHatterSite(plan.files, host, hatterConfig, plan.policyFile!) : [])];
      const confirmed = diagnostics.length === 0 ? ['hatter check: the policy with the new hat loads', 'hatter serve: the configuration with the new site parses'] : [];
      if (diagnostics.length === 0) {
        // Every site of the planned hatter.yaml is a tenant; hatter serve runs each site's workers as its own user when it has one.
        const planned = configuredTenants(overlayHostFiles(host, plan.files), hatterConfig).map((t) => ({ ...t, profile: plan.profile! }));
        const isolated = checkSiteIsolation(spec.name, plan.files, host, [{ policyFile: plan.policyFile!, profile: plan.profile!, tenants: planned, hatFile: plan.policyFile! }]);
        diagnostics.push(...isolated.diagnostics);
        confirmed.push(...isolated.confirmed);
      }
      return finish(io, json, diagnostics.some((d) => d.severity === 'error') ? [] : plan.files, diagnostics, confirmed, prefix, Boolean(values['dry-run']), canWrite);
    }
    const plan = planSiteAdd(spec, host);
    const diagnostics = [...plan.diagnostics];
    const confirmed: string[] = [];
    if (!diagnostics.some((d) => d.severity === 'error') && plan.paths) {
      const confirmation = confirmSite({ ...spec, root: posix.normalize(spec.root).replace(/(.)\/$/, '$1') }, plan.paths, plan.files, host);
      diagnostics.push(...confirmation.diagnostics);
      confirmed.push(...confirmation.confirmed);
      if (!confirmation.diagnostics.some((d) => d.severity === 'error')) {
        const isolated = checkSiteIsolation(spec.name, plan.files, host, debianIsolationTargets(plan.paths, overlayHostFiles(host, plan.files)));
        diagnostics.push(...isolated.diagnostics);
        confirmed.push(...isolated.confirmed);
      }
      if (!values['no-external'] && !diagnostics.some((d) => d.severity === 'error')) {
        const external = runExternalChecks(plan.paths, plan.files, host, prefix);
        diagnostics.push(...external.diagnostics);
        confirmed.push(...external.confirmed);
      }
    }
    return finish(io, json, plan.files, diagnostics, confirmed, prefix, Boolean(values['dry-run']), canWrite);
  },
  };
}

export const command: Command = siteCommand();

/**
 * The sites hatter.yaml has now, as tenants (computed here: host does not import server). A file that
 * does not parse gives none: the planned file then does not parse either and is refused.
 */
function configuredTenants(host: HostFiles, configFile: string): Tenant[] {
  const text = host.read(configFile);
  const config = text === undefined ? undefined : parseServeConfig(text, configFile).config;
  return config ? [...tenantsFromServeConfig(config).tenants] : [];
}

/** The planned hatter.yaml parses as `hatter serve` reads it, and the planned policy loads. */
function confirmHatterSite(plan: readonly FilePlan[], current: HostFiles, configFile: string, policyFile: string): Diagnostic[] {
  const host = overlayHostFiles(current, plan);
  const planned = new Set(plan.map((p) => p.path));
  const loaded = loadPolicy(policyFile, hostFileReader(host), { workingDirectory: posix.dirname(policyFile), includePaths: ['/etc/apparmor.d'] });
  const config = parseServeConfig(host.read(configFile) ?? '', configFile);
  return [...loaded.diagnostics, ...config.diagnostics].filter((d) => d.severity === 'error' && planned.has(d.file));
}

function finish(io: CliIo, json: boolean, files: readonly FilePlan[], diagnostics: Diagnostic[], confirmed: readonly string[], prefix: string | undefined, dryRun: boolean, canWrite: WriteAccess): number {
  const failed = diagnostics.some((d) => d.severity === 'error');
  if (!failed && !dryRun) diagnostics.push(...checkWritable(files, prefix, canWrite));
  const refused = diagnostics.some((d) => d.severity === 'error');
  const changes = refused ? [] : applyPlan(files, prefix, { dryRun });
  if (json) {
    io.stdout.write(`${JSON.stringify({
      written: !refused && !dryRun, dryRun, changes, confirmed,
      files: files.map((f) => ({ path: f.path, action: f.action, ...(f.action === 'write' ? { content: f.content } : f.action === 'symlink' ? { target: f.target } : {}) })),
      diagnostics: diagnostics.map(diagnosticToJson),
    }, null, 2)}\n`);
  } else {
    for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    for (const c of confirmed) io.stdout.write(`ok: ${c}\n`);
    for (const c of changes) io.stdout.write(`${dryRun ? 'would ' : ''}${c}\n`);
    if (dryRun) for (const f of files) if (f.action === 'write') io.stdout.write(`\n--- ${f.path}\n${f.content}`);
    if (refused) io.stderr.write('hatter site: nothing was written\n');
  }
  return refused ? EXIT_USAGE : EXIT_OK;
}

interface ToolRun { readonly ok: boolean; readonly output: string; readonly missing: boolean }

function runTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ToolRun {
  const result = spawnSync(command, args, { encoding: 'utf8', env, timeout: 60_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, output: '', missing: true };
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim(), missing: false };
}

/** Copy a deployed directory (as the plan will leave it) into a scratch directory. */
function stageTree(host: HostFiles, from: string, to: string, depth = 0): void {
  if (depth > 12) return;
  mkdirSync(to, { recursive: true });
  for (const entry of host.list(from) ?? []) {
    const source = posix.join(from, entry);
    const target = join(to, entry);
    const link = host.link(source);
    if (link !== undefined && !link.startsWith('/')) { symlinkSync(link, target); continue; }
    const kind = host.kind(source);
    if (kind === 'directory') stageTree(host, source, target, depth + 1);
    else if (kind === 'file') writeFileSync(target, host.read(source) ?? '');
  }
}

const TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** apparmor_parser -QK, apache2ctl -t and php-fpm -t on scratch copies of the planned tree. */
function runExternalChecks(paths: SitePaths, plan: readonly FilePlan[], current: HostFiles, prefix: string | undefined): { diagnostics: Diagnostic[]; confirmed: string[] } {
  const host = overlayHostFiles(current, plan);
  const layout = DEBIAN_LAYOUT;
  const diagnostics: Diagnostic[] = [];
  const confirmed: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'hatter-site-'));
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:${TOOL_PATH}` };
  const fail = (code: string, file: string, message: string): void => { diagnostics.push({ file, line: 1, col: 1, severity: 'error', code, message }); };
  try {
    // apparmor_parser: the hat directories as planned, searched before the host's own apparmor.d.
    const staged = join(scratch, 'apparmor.d');
    const profileFiles = [layout.apacheProfileFile, ...(paths.fpmHat ? [layout.fpmProfileFile] : [])];
    for (const dir of ['apache2.d', 'php-fpm.d']) stageTree(host, posix.join(layout.apparmorDir, dir), join(staged, dir));
    for (const file of profileFiles) writeFileSync(join(staged, file), host.read(posix.join(layout.apparmorDir, file)) ?? '');
    for (const file of profileFiles) {
      const run = runTool('apparmor_parser', ['-QK', '-I', staged, '-I', underPrefix(prefix, layout.apparmorDir), join(staged, file)], env);
      if (run.missing) { confirmed.push('apparmor_parser: not installed, skipped'); break; }
      if (run.ok) confirmed.push(`apparmor_parser -QK: ${posix.join(layout.apparmorDir, file)} with the new hat compiles`);
      else fail('host/apparmor-parser-rejects', posix.join(layout.apparmorDir, file), `apparmor_parser rejects the policy: ${run.output.split('\n').filter((l) => !l.startsWith('Cache read/write')).join(' ')}`);
    }
    // apache2ctl -t on a scratch copy of /etc/apache2 (its includes are relative to the ServerRoot).
    const apacheCopy = join(scratch, 'apache2');
    stageTree(host, layout.apacheDir, apacheCopy);
    const apache = runTool('apache2ctl', ['-t'], { ...env, APACHE_CONFDIR: apacheCopy });
    if (apache.missing) confirmed.push('apache2ctl: not installed, skipped');
    else if (apache.ok) confirmed.push('apache2ctl -t: Syntax OK');
    else fail('host/apache-rejects', paths.vhost, `apache2ctl -t rejects the configuration: ${apache.output.split('\n').filter((l) => !l.includes('AH00558')).join(' ')}`);
    // php-fpm -t on a scratch copy: include= and chdir point into the copy and the prefix.
    if (paths.pool && paths.phpVersion) {
      const fpmDir = posix.join(layout.phpDir, paths.phpVersion, 'fpm');
      const fpmCopy = join(scratch, 'fpm');
      stageTree(host, fpmDir, fpmCopy);
      const conf = join(fpmCopy, 'php-fpm.conf');
      const relocate = (text: string): string => text
        .replace(/^(\s*include\s*=\s*)(\S+)/gm, (_m, lead: string, path: string) => `${lead}${path.startsWith(`${fpmDir}/`) ? join(fpmCopy, path.slice(fpmDir.length + 1)) : path}`)
        .replace(/^(\s*(?:pid|error_log)\s*=\s*)(\S+)/gm, (_m, lead: string, path: string) => `${lead}${join(scratch, posix.basename(path))}`);
      writeFileSync(conf, relocate(host.read(posix.join(fpmDir, 'php-fpm.conf')) ?? ''));
      if (prefix !== undefined) {
        for (const pool of host.list(posix.join(fpmDir, 'pool.d')) ?? []) {
          const text = host.read(posix.join(fpmDir, 'pool.d', pool));
          if (text !== undefined) writeFileSync(join(fpmCopy, 'pool.d', pool), text.replace(/^(\s*chdir\s*=\s*)(\/\S*)/gm, (_m, lead: string, path: string) => `${lead}${underPrefix(prefix, path)}`));
        }
      }
      const binary = `php-fpm${paths.phpVersion}`;
      const fpm = runTool(binary, ['-t', '-y', conf], env);
      if (fpm.missing) confirmed.push(`${binary}: not installed, skipped`);
      else if (fpm.ok) confirmed.push(`${binary} -t: configuration test is successful`);
      else fail('host/php-fpm-rejects', paths.pool, `${binary} -t rejects the configuration: ${fpm.output.replace(/\[[^\]]*\] /g, '').split('\n').join(' ')}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { diagnostics, confirmed };
}
