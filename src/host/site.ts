// One site = one hat + one vhost + one PHP-FPM pool, in Debian's layout: the hats in their own files
// included from the web server's and PHP-FPM's profiles (/etc/apparmor.d/apache2.d/NAME through
// `include <apache2.d>`, /etc/apparmor.d/php-fpm.d/NAME through `include if exists <php-fpm.d>`), the
// vhost in /etc/apache2/sites-available/NAME.conf (enabled by the sites-enabled/ link, as a2ensite
// does), the pool in /etc/php/VERSION/fpm/pool.d/NAME.conf. Pure: reads go through HostFiles, the
// result is a file plan the CLI carries out.
import { posix } from 'node:path';
import { patternsOverlap, type Diagnostic } from '../policy/index.js';
import { formatWitness, literalPattern } from '../policy/aare/index.js';
import { areaPatterns, readApacheConfig, readFpmConfig, tenantsFromApache, tenantsFromFpm, mergeTenantModels, hostFromServerName, type ApacheConfig, type FpmConfig, type Tenant } from '../web/index.js';
import { hostWebFileSystem, type HostFiles } from './host-files.js';
import { authorship, withHeader, type FilePlan } from './plan.js';

/** Where Debian keeps things; every path is the deployed one. */
export interface DebianLayout {
  readonly apparmorDir: string;
  readonly apacheDir: string;
  readonly phpDir: string;
  /** The files holding Apache's and PHP-FPM's profiles, relative to apparmorDir. */
  readonly apacheProfileFile: string;
  readonly fpmProfileFile: string;
  readonly apacheProfile: string;
  readonly fpmProfile: string;
  /** PHP's session and upload/temp directories get one owner-only subdirectory per site. */
  readonly sessionsDir: string;
  readonly phpTempDir: string;
  readonly runDir: string;
}

export const DEBIAN_LAYOUT: DebianLayout = {
  apparmorDir: '/etc/apparmor.d',
  apacheDir: '/etc/apache2',
  phpDir: '/etc/php',
  apacheProfileFile: 'usr.sbin.apache2',
  fpmProfileFile: 'php-fpm',
  apacheProfile: 'apache2',
  fpmProfile: 'php-fpm',
  sessionsDir: '/var/lib/php/sessions',
  phpTempDir: '/var/lib/php/tmp',
  runDir: '/run/php',
};

export interface SiteSpec {
  readonly name: string;
  /** The site's root directory on the deployed system (absolute). */
  readonly root: string;
  readonly php: boolean;
  /** The account the site's PHP runs as (default www-data). */
  readonly user?: string;
  /** ServerName then ServerAliases (default NAME). */
  readonly serverNames: readonly string[];
  /** Directories under the root the site writes (uploads, cache); relative to the root or absolute inside it. */
  readonly writable: readonly string[];
  /** Writable directories where PHP files may be written too (plugins that update themselves). */
  readonly allowPhpWrites: readonly string[];
  /** PHP version (e.g. 8.2); default the only one installed. */
  readonly phpVersion?: string;
  /** Overwrite files edited by hand (a backup of each is kept). */
  readonly force?: boolean;
}

export interface SitePlan {
  readonly files: FilePlan[];
  readonly diagnostics: Diagnostic[];
  /** The deployed paths the site is made of. */
  readonly paths?: SitePaths;
}

export interface SitePaths {
  readonly apacheHat: string;
  readonly vhost: string;
  readonly vhostEnabled: string;
  readonly fpmHat?: string;
  readonly pool?: string;
  readonly phpVersion?: string;
  readonly socket?: string;
  readonly sessions?: string;
  readonly temp?: string;
}

/** A name that works as a hat, a file name in apparmor.d, a pool name and an Apache token. */
export const SITE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Hats every Apache profile has; a site cannot take them. */
const RESERVED_NAMES = ['DEFAULT_URI', 'HANDLING_UNTRUSTED_INPUT', 'www'];
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Files of PHP code: never writable by the site's own PHP unless --allow-php-writes says so. */
const PHP_CODE = '**.{php,php[0-9],phtml,phar,inc}';

const ARGS = '<arguments>';
/**
 * Paths hatter writes into three configuration languages (AppArmor, Apache, php-fpm's ini, YAML): only
 * characters none of them gives a meaning to, so a path can never end a directive or start another.
 */
export const SAFE_PATH = /^\/[A-Za-z0-9._@+\/-]*$/;

/** Diagnostics for the paths and names of a site spec that no layout can write safely. */
/**
 * Where `--force` keeps the file it replaces: a hidden file next to it (`DIR/.NAME.hatter-backup`).
 * Hidden, because apparmor_parser skips dot files when it includes a directory such as apache2.d/: a
 * visible copy of a hat file would define the hat twice and the whole profile would fail to load.
 */
export function backupPathOf(path: string): string {
  return posix.join(posix.dirname(path), `.${posix.basename(path)}.hatter-backup`);
}

export function checkSpecText(spec: SiteSpec): Diagnostic[] {
  const out: Diagnostic[] = [];
  const paths: [string, string][] = [['--root', spec.root], ...spec.writable.map((w): [string, string] => ['--writable', w]), ...spec.allowPhpWrites.map((w): [string, string] => ['--allow-php-writes', w])];
  for (const [option, path] of paths) {
    const absolute = path.startsWith('/') ? path : `/${path}`;
    if (!SAFE_PATH.test(absolute) || /(^|\/)\.\.?(\/|$)/.test(path)) {
      out.push(siteDiagnostic('host/unsafe-path', `${option} ${JSON.stringify(path)} has characters or '..' components hatter will not write into configuration files`, 'use letters, digits and . _ @ + - / only'));
    }
  }
  for (const h of spec.serverNames) if (!HOST_NAME.test(h)) out.push(siteDiagnostic('host/invalid-server-name', `'${h}' is not a host name`));
  if (spec.user !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(spec.user)) out.push(siteDiagnostic('host/invalid-user', `'${spec.user}' is not a user name`));
  return out;
}

export function siteDiagnostic(code: string, message: string, hint?: string, file = ARGS): Diagnostic {
  return { file, line: 1, col: 1, code, severity: 'error', message, ...(hint ? { hint } : {}) };
}

/** PHP versions with an FPM configuration on this host. */
export function installedPhpVersions(host: HostFiles, layout: DebianLayout = DEBIAN_LAYOUT): string[] {
  return (host.list(layout.phpDir) ?? []).filter((v) => /^\d+\.\d+$/.test(v) && host.kind(posix.join(layout.phpDir, v, 'fpm', 'php-fpm.conf')) === 'file');
}

export function sitePaths(spec: Pick<SiteSpec, 'name' | 'php'>, phpVersion: string | undefined, layout: DebianLayout = DEBIAN_LAYOUT): SitePaths {
  const n = spec.name;
  const base = {
    apacheHat: posix.join(layout.apparmorDir, 'apache2.d', n),
    vhost: posix.join(layout.apacheDir, 'sites-available', `${n}.conf`),
    vhostEnabled: posix.join(layout.apacheDir, 'sites-enabled', `${n}.conf`),
  };
  if (!spec.php || phpVersion === undefined) return base;
  return {
    ...base,
    fpmHat: posix.join(layout.apparmorDir, 'php-fpm.d', n),
    pool: posix.join(layout.phpDir, phpVersion, 'fpm', 'pool.d', `${n}.conf`),
    phpVersion,
    socket: posix.join(layout.runDir, `php${phpVersion}-fpm-${n}.sock`),
    sessions: posix.join(layout.sessionsDir, n),
    temp: posix.join(layout.phpTempDir, n),
  };
}

/** The site's writable directories as absolute paths, each inside the root (or a diagnostic). */
function writableDirs(spec: SiteSpec, diagnostics: Diagnostic[]): { path: string; phpWrites: boolean }[] {
  const out: { path: string; phpWrites: boolean }[] = [];
  const add = (dir: string, phpWrites: boolean, option: string): void => {
    const path = posix.normalize(posix.isAbsolute(dir) ? dir : posix.join(spec.root, dir)).replace(/\/$/, '');
    if (path !== spec.root && !path.startsWith(`${spec.root}/`)) {
      diagnostics.push(siteDiagnostic('host/outside-root', `${option} ${dir} is not inside the site's root ${spec.root}`));
      return;
    }
    const existing = out.find((w) => w.path === path);
    if (existing) { existing.phpWrites ||= phpWrites; return; }
    out.push({ path, phpWrites });
  };
  for (const w of spec.writable) add(w, false, '--writable');
  for (const w of spec.allowPhpWrites) add(w, true, '--allow-php-writes');
  return out;
}

interface HatRules {
  readonly lines: string[];
  /** The file patterns the hat grants (not denies), for the isolation check. */
  readonly patterns: string[];
}

function fileRules(spec: SiteSpec, paths: SitePaths, writable: readonly { path: string; phpWrites: boolean }[], forFpm: boolean): HatRules {
  const root = literalPattern(spec.root);
  const lines: string[] = [];
  const patterns: string[] = [];
  const rule = (pattern: string, perms: string, owner = false): void => {
    lines.push(`  ${owner ? 'owner ' : ''}${pattern} ${perms},`);
    patterns.push(pattern);
  };
  lines.push('  # The site\'s own files: read only.');
  rule(`${root}/`, 'r');
  rule(`${root}/**`, 'r');
  if (forFpm || !spec.php) {
    for (const w of writable) {
      const dir = literalPattern(w.path);
      lines.push(`  # Written by the site${w.phpWrites ? ' (PHP code too: --allow-php-writes)' : ''}.`);
      rule(`${dir}/`, 'rw');
      rule(`${dir}/**`, 'rwk');
    }
    const denied = writable.filter((w) => !w.phpWrites);
    if (denied.length > 0) {
      lines.push('  # Write-xor-execute: code the site could write is code an attacker could run.');
      for (const w of denied) lines.push(`  deny ${literalPattern(w.path)}/${PHP_CODE} w,`);
    }
  }
  if (forFpm && paths.sessions && paths.temp) {
    lines.push('  # PHP sessions and uploads in progress: this site\'s own, owner-only.');
    rule(`${literalPattern(paths.sessions)}/`, 'r');
    rule(`${literalPattern(paths.sessions)}/*`, 'rwk', true);
    rule(`${literalPattern(paths.temp)}/`, 'r');
    rule(`${literalPattern(paths.temp)}/**`, 'rwk', true);
  }
  if (!forFpm && paths.socket) {
    lines.push('  # Requests for .php go to the site\'s PHP-FPM pool.');
    rule(literalPattern(paths.socket), 'rw');
  }
  return { lines, patterns };
}

/**
 * abstractions/php lets every site read and write PHP's shared session files (hatter isolate reports
 * it); hatter's sites keep their sessions elsewhere (the pool's session.save_path, hatter serve's own).
 * Lines without indentation, for both layouts' hats.
 */
export const PHP_SHARED_SESSION_DENIES: readonly string[] = [
  '# abstractions/php lets every site read and write PHP\'s shared session files (hatter isolate',
  '# reports it); this site keeps its sessions in its own directory.',
  'deny /var/lib/php{,5,7,8}/{sess_*,session_mm_*} rwlk,',
  'deny /var/lib/php{,5,7,8}/sessions/* rwlk,',
];

/**
 * abstractions/nameservice (through winbind and likewise) grants sockets in /tmp that any site could
 * create itself and answer name lookups of the others from (hatter isolate reports them): denied.
 */
const NAMESERVICE_TMP_DENIES: readonly string[] = [
  '  # abstractions/nameservice grants winbind\'s and likewise\'s sockets in /tmp, which any site could',
  '  # create and answer the other sites\' lookups from (hatter isolate reports it).',
  '  deny /tmp/{.winbindd,.lwidentity}/pipe rw,',
];

/** The Apache hat (entered by mod_apparmor for every request of the vhost). */
export function apacheHatText(spec: SiteSpec, paths: SitePaths, layout: DebianLayout = DEBIAN_LAYOUT): { text: string; patterns: string[] } {
  const rules = fileRules(spec, paths, writableDirs(spec, []), false);
  const body = [
    `# The Apache hat of site ${spec.name}: ${layout.apacheProfile}//${spec.name}, entered through`,
    `# AADefaultHatName ${spec.name} in ${paths.vhost}.`,
    `^${spec.name} {`,
    '  include <abstractions/base>',
    '  include <abstractions/nameservice>',
    ...NAMESERVICE_TMP_DENIES,
    '  # What abstractions/apache2-common grants, less what crosses sites: its /**/.htaccess r reads',
    '  # every site\'s .htaccess and its signal peer=apache2//* signals every other site\'s hat',
    '  # (hatter isolate reports both). The vhost sets AllowOverride None: no .htaccess is read.',
    '  signal (receive) peer=unconfined,',
    `  signal (receive) peer=${layout.apacheProfile},`,
    '  signal peer=@{profile_name},',
    '  ptrace (readby),',
    '  ptrace (tracedby),',
    '  network inet stream,',
    '  network inet6 stream,',
    '  /usr/share/apache2/** r,',
    '  @{PROC}/@{pid}/attr/{apparmor/,}current rw,',
    '  /dev/urandom r,',
    '',
    ...rules.lines,
    '}',
    '',
  ].join('\n');
  return { text: withHeader('#', `site ${spec.name} (apache hat)`, body), patterns: rules.patterns };
}

/**
 * Recorded in the header of a PHP-FPM hat when hatter made php-fpm.d/ (Debian ships none): every later
 * site's hat records it too while the directory is hatter's, so whichever site goes last removes it,
 * and a directory that was there before (even empty) is never removed.
 */
const MADE_FPM_DIR = ', made php-fpm.d/';

/** Whether php-fpm.d/ is one hatter made: absent now, or holding a hatter hat that says so. */
function fpmDirIsHatters(host: HostFiles, layout: DebianLayout): boolean {
  const dir = posix.join(layout.apparmorDir, 'php-fpm.d');
  if (host.kind(dir) === undefined) return true;
  return (host.list(dir) ?? []).some((f) => {
    const who = authorship(host.read(posix.join(dir, f)) ?? '');
    return who.by !== 'other' && who.what.endsWith(`(php-fpm hat${MADE_FPM_DIR})`);
  });
}

/** The PHP-FPM hat (entered by the pool's workers through apparmor_hat). */
export function fpmHatText(spec: SiteSpec, paths: SitePaths, layout: DebianLayout = DEBIAN_LAYOUT, madeDir = false): { text: string; patterns: string[] } {
  const rules = fileRules(spec, paths, writableDirs(spec, []), true);
  const body = [
    `# The PHP-FPM hat of site ${spec.name}: ${layout.fpmProfile}//${spec.name}, entered through`,
    `# apparmor_hat = ${spec.name} in ${paths.pool}.`,
    `^${spec.name} {`,
    '  include <abstractions/base>',
    '  include <abstractions/nameservice>',
    '  include <abstractions/php>',
    '  include <abstractions/openssl>',
    '  include <abstractions/ssl_certs>',
    ...PHP_SHARED_SESSION_DENIES.map((l) => `  ${l}`),
    ...NAMESERVICE_TMP_DENIES,
    '',
    ...rules.lines,
    '}',
    '',
  ].join('\n');
  return { text: withHeader('#', `site ${spec.name} (php-fpm hat${madeDir ? MADE_FPM_DIR : ''})`, body), patterns: rules.patterns };
}

export function vhostText(spec: SiteSpec, paths: SitePaths): string {
  const [serverName, ...aliases] = spec.serverNames;
  const lines = [
    `# Site ${spec.name}: every request runs in the hat ${spec.name} (${paths.apacheHat}).`,
    '<VirtualHost *:80>',
    `\tServerName ${serverName}`,
    ...(aliases.length > 0 ? [`\tServerAlias ${aliases.join(' ')}`] : []),
    `\tDocumentRoot ${spec.root}`,
    `\tAADefaultHatName ${spec.name}`,
    '',
    `\t<Directory ${spec.root}>`,
    '\t\tOptions SymLinksIfOwnerMatch',
    '\t\tAllowOverride None',
    '\t\tRequire all granted',
    '\t</Directory>',
  ];
  if (paths.socket) {
    lines.push('', '\t<FilesMatch "\\.php$">', `\t\tSetHandler "proxy:unix:${paths.socket}|fcgi://${spec.name}"`, '\t</FilesMatch>');
  }
  lines.push(`\tErrorLog \${APACHE_LOG_DIR}/${spec.name}-error.log`, `\tCustomLog \${APACHE_LOG_DIR}/${spec.name}-access.log combined`, '</VirtualHost>', '');
  return withHeader('#', `site ${spec.name} (apache vhost)`, lines.join('\n'));
}

export function poolText(spec: SiteSpec, paths: SitePaths): string {
  const body = [
    `; Site ${spec.name}: every worker changes to the hat ${spec.name} (${paths.fpmHat}).`,
    `[${spec.name}]`,
    `user = ${spec.user ?? 'www-data'}`,
    `listen = ${paths.socket}`,
    'listen.owner = www-data',
    'listen.group = www-data',
    'listen.mode = 0660',
    'pm = ondemand',
    'pm.max_children = 5',
    'pm.process_idle_timeout = 10s',
    `chdir = ${spec.root}`,
    `apparmor_hat = ${spec.name}`,
    `php_admin_value[session.save_path] = ${paths.sessions}`,
    `php_admin_value[upload_tmp_dir] = ${paths.temp}`,
    `php_admin_value[sys_temp_dir] = ${paths.temp}`,
    `php_admin_value[open_basedir] = ${spec.root}/:${paths.sessions}/:${paths.temp}/`,
    '',
  ].join('\n');
  return withHeader(';', `site ${spec.name} (php-fpm pool)`, body);
}

/** A file hatter wants to write at `path`: refused when it is someone else's, or hand-edited without --force. */
function planWrite(host: HostFiles, path: string, content: string, spec: SiteSpec, diagnostics: Diagnostic[]): FilePlan | undefined {
  const previous = host.read(path);
  if (previous === undefined) {
    if (host.kind(path) !== undefined || host.link(path) !== undefined) {
      diagnostics.push(siteDiagnostic('host/exists', `${path} exists and is not a regular file`, undefined, path));
      return undefined;
    }
    return { path, action: 'write', content };
  }
  if (previous === content) return undefined; // already as hatter would write it
  const who = authorship(previous);
  if (who.by === 'hatter' && who.what.startsWith(`site ${spec.name} `)) return { path, action: 'write', content, previous };
  if (!spec.force) {
    const why = who.by === 'other' ? 'was not written by hatter' : who.by === 'hand-edited' ? 'was edited by hand since hatter wrote it' : `belongs to another ${who.what}`;
    diagnostics.push(siteDiagnostic(who.by === 'hand-edited' ? 'host/hand-edited' : 'host/exists', `${path} ${why}; not overwriting it`, 'review it, then use --force (a backup is kept) or choose another name', path));
    return undefined;
  }
  return { path, action: 'write', content, previous, handEdited: true };
}

export interface SiteContext {
  readonly apache?: ApacheConfig;
  readonly fpm?: FpmConfig;
  readonly diagnostics: Diagnostic[];
}

const APACHE_ENV: Readonly<Record<string, string>> = { APACHE_RUN_DIR: '/var/run/apache2', APACHE_LOCK_DIR: '/var/lock/apache2', APACHE_LOG_DIR: '/var/log/apache2', APACHE_RUN_USER: 'www-data', APACHE_RUN_GROUP: 'www-data', APACHE_PID_FILE: '/var/run/apache2/apache2.pid' };

/** The host's Apache configuration (Debian's envvars defaults for ${APACHE_*}), if there is one. */
export function readHostApache(host: HostFiles, layout: DebianLayout = DEBIAN_LAYOUT): { apache?: ApacheConfig; diagnostics: Diagnostic[] } {
  const file = posix.join(layout.apacheDir, 'apache2.conf');
  if (host.kind(file) !== 'file') return { diagnostics: [] };
  const read = readApacheConfig(file, { fs: hostWebFileSystem(host), env: APACHE_ENV, serverRoot: layout.apacheDir });
  return { apache: read.config, diagnostics: [...read.diagnostics] };
}

/** The FPM configuration of one PHP version, if there is one. */
export function readHostFpm(host: HostFiles, phpVersion: string, layout: DebianLayout = DEBIAN_LAYOUT): { fpm?: FpmConfig; diagnostics: Diagnostic[] } {
  const file = posix.join(layout.phpDir, phpVersion, 'fpm', 'php-fpm.conf');
  if (host.kind(file) !== 'file') return { diagnostics: [] };
  const read = readFpmConfig(file, { fs: hostWebFileSystem(host), env: {} });
  return { fpm: read.config, diagnostics: [...read.diagnostics] };
}

/** The host's current Apache and PHP-FPM configuration (for collisions and the tenant model). */
export function readSiteContext(host: HostFiles, phpVersion: string | undefined, layout: DebianLayout = DEBIAN_LAYOUT): SiteContext {
  const apache = readHostApache(host, layout);
  const fpm = phpVersion !== undefined ? readHostFpm(host, phpVersion, layout) : { diagnostics: [] };
  return { ...(apache.apache ? { apache: apache.apache } : {}), ...(fpm.fpm ? { fpm: fpm.fpm } : {}), diagnostics: [...apache.diagnostics, ...fpm.diagnostics] };
}

/** The other sites of the host (tenant model of main, from Apache and PHP-FPM), without `name`. */
export function otherTenants(context: SiteContext, name: string): Tenant[] {
  const models = [];
  if (context.apache) models.push(tenantsFromApache(context.apache));
  if (context.fpm) models.push(tenantsFromFpm(context.fpm, DEBIAN_LAYOUT.fpmProfile));
  return mergeTenantModels(models).tenants.filter((t) => !t.hats.includes(name));
}

/**
 * Does one of the new hat's patterns reach another site's area? Exact AARE intersection, not string
 * prefixes. A quick first check of the rules hatter writes; the CLI then runs `hatter isolate`'s
 * analysis on the whole planned policy, abstractions included (src/cli/site-isolation.ts).
 */
export function patternReach(patterns: readonly string[], tenants: readonly Tenant[], hatFile: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const tenant of tenants) {
    for (const area of tenant.areas) {
      for (const areaPattern of areaPatterns(area)) {
        for (const pattern of patterns) {
          const answer = patternsOverlap(pattern, areaPattern);
          if (answer.ok && answer.overlap) {
            out.push(siteDiagnostic('host/reaches-other-site', `the new hat's rule ${pattern} reaches ${formatWitness(answer.witness!)} of site ${tenant.name} (${area.path})`, 'give the site a root that does not contain or overlap another site\'s', hatFile));
            break;
          }
        }
      }
    }
  }
  return dedupe(out);
}

function dedupe(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => (seen.has(d.message) ? false : (seen.add(d.message), true)));
}

/** Plan `hatter site add` in Debian's layout. Nothing is decided by the file system except through `host`. */
export function planSiteAdd(spec: SiteSpec, host: HostFiles, layout: DebianLayout = DEBIAN_LAYOUT): SitePlan & { patterns: string[] } {
  const diagnostics: Diagnostic[] = [];
  if (!SITE_NAME.test(spec.name) || RESERVED_NAMES.includes(spec.name)) {
    diagnostics.push(siteDiagnostic('host/invalid-name', `'${spec.name}' is not a valid site name: it becomes a hat, a file and a pool name`, 'use letters, digits, and . _ - (not first), at most 64 characters; not DEFAULT_URI, HANDLING_UNTRUSTED_INPUT or www'));
    return { files: [], diagnostics, patterns: [] };
  }
  diagnostics.push(...checkSpecText(spec));
  if (!posix.isAbsolute(spec.root)) diagnostics.push(siteDiagnostic('host/relative-root', `--root ${spec.root} must be an absolute path (the path on the deployed system)`));
  else if (diagnostics.length === 0 && host.kind(spec.root) !== 'directory') diagnostics.push(siteDiagnostic('host/missing-root', `the site's root ${spec.root} is not a directory`, 'create it first (the path is the deployed one; with --prefix it is looked up under the prefix)'));
  const root = posix.normalize(spec.root).replace(/(.)\/$/, '$1');
  if (root === '/') diagnostics.push(siteDiagnostic('host/root-is-slash', 'the site\'s root cannot be /'));
  spec = { ...spec, root };
  if (spec.allowPhpWrites.length > 0 && !spec.php) diagnostics.push(siteDiagnostic('host/php-writes-without-php', '--allow-php-writes needs --php'));
  writableDirs(spec, diagnostics);

  let phpVersion: string | undefined;
  if (spec.php) {
    const installed = installedPhpVersions(host, layout);
    if (spec.phpVersion !== undefined) {
      if (installed.includes(spec.phpVersion)) phpVersion = spec.phpVersion;
      else diagnostics.push(siteDiagnostic('host/php-not-installed', `PHP ${spec.phpVersion} has no FPM configuration (${posix.join(layout.phpDir, spec.phpVersion, 'fpm', 'php-fpm.conf')})`, installed.length > 0 ? `installed: ${installed.join(', ')}` : 'install php-fpm'));
    } else if (installed.length === 1) phpVersion = installed[0];
    else if (installed.length === 0) diagnostics.push(siteDiagnostic('host/php-not-installed', `no PHP-FPM is installed (${layout.phpDir}/VERSION/fpm/php-fpm.conf)`, 'install php-fpm, or leave out --php'));
    else diagnostics.push(siteDiagnostic('host/php-version-needed', `several PHP versions are installed (${installed.join(', ')})`, 'choose one with --php-version'));
  }
  if (host.kind(posix.join(layout.apparmorDir, layout.apacheProfileFile)) !== 'file') {
    diagnostics.push(siteDiagnostic('host/no-apache-profile', `Apache's profile ${posix.join(layout.apparmorDir, layout.apacheProfileFile)} is missing`, 'install apparmor-profiles (it ships usr.sbin.apache2 with include <apache2.d>)'));
  }
  if (spec.php && host.kind(posix.join(layout.apparmorDir, layout.fpmProfileFile)) !== 'file') {
    diagnostics.push(siteDiagnostic('host/no-fpm-profile', `PHP-FPM's profile ${posix.join(layout.apparmorDir, layout.fpmProfileFile)} is missing`, 'install php-fpm (it ships /etc/apparmor.d/php-fpm)'));
  }
  if (diagnostics.length > 0) return { files: [], diagnostics, patterns: [] };

  const paths = sitePaths(spec, phpVersion, layout);
  const context = readSiteContext(host, phpVersion, layout);
  if (!context.apache) {
    diagnostics.push(siteDiagnostic('host/no-apache', `${posix.join(layout.apacheDir, 'apache2.conf')} is missing`, 'install apache2'));
    return { files: [], diagnostics, patterns: [] };
  }
  const modules = new Set(context.apache.modules);
  if (!modules.has('apparmor_module') && !modules.has('mod_apparmor.c')) {
    diagnostics.push(siteDiagnostic('host/module-not-enabled', 'mod_apparmor is not enabled: Apache would refuse AADefaultHatName', 'install libapache2-mod-apparmor and run a2enmod apparmor'));
  }
  if (spec.php && !modules.has('proxy_fcgi_module')) {
    diagnostics.push(siteDiagnostic('host/module-not-enabled', 'mod_proxy_fcgi is not enabled: requests for .php could not reach the pool', 'run a2enmod proxy_fcgi'));
  }
  // Collisions: the same name (a hat, a pool) or a server name another vhost already answers to.
  for (const vhost of context.apache.vhosts) {
    const names = [vhost.serverName, ...vhost.serverAliases].filter((n): n is string => n !== undefined).map((n) => hostFromServerName(n).toLowerCase());
    const mine = vhost.location.file === paths.vhost || vhost.location.file === paths.vhostEnabled;
    for (const wanted of spec.serverNames) {
      if (!mine && names.includes(wanted.toLowerCase())) {
        diagnostics.push({ ...siteDiagnostic('host/server-name-taken', `server name ${wanted} is already served by the vhost at ${vhost.location.file}:${vhost.location.line}`, 'choose another --server-name, or remove that site first'), ...vhost.location });
      }
    }
    if (!mine && vhost.defaultHatName === spec.name) {
      diagnostics.push({ ...siteDiagnostic('host/name-taken', `the hat ${spec.name} is already the AADefaultHatName of the vhost at ${vhost.location.file}:${vhost.location.line}`), ...(vhost.defaultHatLocation ?? vhost.location) });
    }
  }
  if (context.fpm) {
    for (const pool of context.fpm.pools) {
      if (pool.name === spec.name && pool.location.file !== paths.pool) {
        diagnostics.push({ ...siteDiagnostic('host/name-taken', `a PHP-FPM pool named ${spec.name} already exists at ${pool.location.file}:${pool.location.line}`), ...pool.location });
      }
    }
  }

  const files: FilePlan[] = [];
  const apacheHat = apacheHatText(spec, paths, layout);
  const patterns = [...apacheHat.patterns];
  const write = (path: string, content: string): void => {
    const p = planWrite(host, path, content, spec, diagnostics);
    if (p) files.push(p);
  };
  write(paths.apacheHat, apacheHat.text);
  write(paths.vhost, vhostText(spec, paths));
  const link = host.link(paths.vhostEnabled);
  const linkTarget = `../sites-available/${spec.name}.conf`;
  if (link === undefined && host.kind(paths.vhostEnabled) !== undefined) {
    diagnostics.push(siteDiagnostic('host/exists', `${paths.vhostEnabled} exists and is not the link a2ensite makes`, undefined, paths.vhostEnabled));
  } else if (link !== linkTarget) {
    if (link !== undefined && !spec.force) diagnostics.push(siteDiagnostic('host/exists', `${paths.vhostEnabled} links to ${link}`, 'use --force to replace the link', paths.vhostEnabled));
    else files.push({ path: paths.vhostEnabled, action: 'symlink', target: linkTarget });
  }
  if (spec.php && paths.fpmHat && paths.pool && paths.sessions && paths.temp) {
    const fpmHat = fpmHatText(spec, paths, layout, fpmDirIsHatters(host, layout));
    patterns.push(...fpmHat.patterns.filter((p) => !patterns.includes(p)));
    write(paths.fpmHat, fpmHat.text);
    write(paths.pool, poolText(spec, paths));
    for (const dir of [paths.sessions, paths.temp]) {
      if (host.kind(dir) === undefined) files.push({ path: dir, action: 'mkdir', mode: 0o700, owner: spec.user ?? 'www-data' });
    }
  }
  // The site's own root against every other site's areas (the tenant model of the current host).
  diagnostics.push(...patternReach(patterns, otherTenants(context, spec.name), paths.apacheHat));
  return { files: diagnostics.some((d) => d.severity === 'error') ? [] : files, diagnostics, paths, patterns };
}

export interface SiteRecord {
  readonly name: string;
  /** The files of the site that exist, by role. */
  readonly apacheHat?: string;
  readonly fpmHat?: string;
  readonly vhost?: string;
  readonly enabled: boolean;
  readonly pool?: string;
  /** Server names of the vhost. */
  readonly serverNames: readonly string[];
  readonly root?: string;
  /** The vhost's AADefaultHatName and the pool's apparmor_hat, as configured. */
  readonly defaultHatName?: string;
  readonly apparmorHat?: string;
  /** Hat, vhost and pool name the same hat and each hat exists. */
  readonly agree: boolean;
  readonly problems: readonly string[];
  /** Written by hatter and unchanged since. */
  readonly managed: boolean;
}

/** Every site of the host: each vhost with an AADefaultHatName, each pool with apparmor_hat, each apache2.d hat. */
export function listSites(host: HostFiles, layout: DebianLayout = DEBIAN_LAYOUT): { sites: SiteRecord[]; diagnostics: Diagnostic[] } {
  const versions = installedPhpVersions(host, layout);
  const diagnostics: Diagnostic[] = [];
  const apacheContext = readHostApache(host, layout);
  diagnostics.push(...apacheContext.diagnostics);
  const pools = versions.flatMap((v) => {
    const c = readHostFpm(host, v, layout);
    diagnostics.push(...c.diagnostics);
    return c.fpm?.pools ?? [];
  });
  const apacheHats = new Set(host.list(posix.join(layout.apparmorDir, 'apache2.d')) ?? []);
  const fpmHats = new Set(host.list(posix.join(layout.apparmorDir, 'php-fpm.d')) ?? []);
  const names = new Set<string>();
  for (const v of apacheContext.apache?.vhosts ?? []) if (v.defaultHatName !== undefined) names.add(v.defaultHatName);
  for (const p of pools) if (p.apparmorHat !== undefined) names.add(p.apparmorHat);
  for (const h of apacheHats) if (authorship(host.read(posix.join(layout.apparmorDir, 'apache2.d', h)) ?? '').by !== 'other') names.add(h);
  const sites: SiteRecord[] = [];
  for (const name of [...names].sort()) {
    const vhost = apacheContext.apache?.vhosts.find((v) => v.defaultHatName === name);
    const pool = pools.find((p) => p.apparmorHat === name) ?? pools.find((p) => p.name === name);
    const problems: string[] = [];
    const apacheHatPath = apacheHats.has(name) ? posix.join(layout.apparmorDir, 'apache2.d', name) : undefined;
    const fpmHatPath = fpmHats.has(name) ? posix.join(layout.apparmorDir, 'php-fpm.d', name) : undefined;
    if (!vhost) problems.push(`no vhost has AADefaultHatName ${name}`);
    if (vhost && !apacheHatPath) problems.push(`the vhost's hat ${name} has no file in ${layout.apparmorDir}/apache2.d`);
    if (pool && !fpmHatPath) problems.push(`the pool's apparmor_hat ${pool.apparmorHat ?? '(none)'} has no file in ${layout.apparmorDir}/php-fpm.d (its workers exit with code 70)`);
    if (pool && pool.apparmorHat !== name) problems.push(`the pool ${pool.name} sets apparmor_hat ${pool.apparmorHat ?? '(none)'}, not ${name}`);
    if (fpmHatPath && !pool) problems.push(`the hat php-fpm//${name} has no pool`);
    if (vhost && pool && vhost.documentRoot !== undefined && pool.chdir !== undefined && posix.normalize(vhost.documentRoot).replace(/\/$/, '') !== posix.normalize(pool.chdir).replace(/\/$/, '')) {
      problems.push(`the vhost's DocumentRoot ${vhost.documentRoot} is not the pool's chdir ${pool.chdir}`);
    }
    const siteFiles = [apacheHatPath, fpmHatPath, vhost?.location.file, pool?.location.file].filter((f): f is string => f !== undefined);
    const managed = siteFiles.length > 0 && siteFiles.every((f) => authorship(host.read(f) ?? '').by === 'hatter');
    const enabledPath = vhost ? posix.join(layout.apacheDir, 'sites-enabled', posix.basename(vhost.location.file)) : undefined;
    sites.push({
      name,
      ...(apacheHatPath ? { apacheHat: apacheHatPath } : {}),
      ...(fpmHatPath ? { fpmHat: fpmHatPath } : {}),
      ...(vhost ? { vhost: vhost.location.file } : {}),
      enabled: vhost !== undefined && (enabledPath === undefined || host.kind(enabledPath) !== undefined || vhost.location.file.includes('/sites-enabled/')),
      ...(pool ? { pool: pool.location.file } : {}),
      serverNames: vhost ? [vhost.serverName, ...vhost.serverAliases].filter((n): n is string => n !== undefined) : [],
      ...(vhost?.documentRoot !== undefined ? { root: vhost.documentRoot } : pool?.chdir !== undefined ? { root: pool.chdir } : {}),
      ...(vhost?.defaultHatName !== undefined ? { defaultHatName: vhost.defaultHatName } : {}),
      ...(pool?.apparmorHat !== undefined ? { apparmorHat: pool.apparmorHat } : {}),
      agree: problems.length === 0,
      problems,
      managed,
    });
  }
  return { sites, diagnostics };
}

/** Plan `hatter site remove`: delete the files hatter wrote for the site (refused for hand edits without --force). */
export function planSiteRemove(name: string, host: HostFiles, options: { force?: boolean } = {}, layout: DebianLayout = DEBIAN_LAYOUT): SitePlan {
  const diagnostics: Diagnostic[] = [];
  if (!SITE_NAME.test(name)) return { files: [], diagnostics: [siteDiagnostic('host/invalid-name', `'${name}' is not a valid site name`)] };
  const files: FilePlan[] = [];
  const versions = installedPhpVersions(host, layout);
  const candidates = [
    posix.join(layout.apparmorDir, 'apache2.d', name),
    posix.join(layout.apacheDir, 'sites-available', `${name}.conf`),
    posix.join(layout.apparmorDir, 'php-fpm.d', name),
    ...versions.map((v) => posix.join(layout.phpDir, v, 'fpm', 'pool.d', `${name}.conf`)),
  ];
  let removesFpmDir = false;
  for (const path of candidates) {
    const text = host.read(path);
    if (text === undefined) continue;
    const who = authorship(text);
    if (who.by !== 'other' && who.what === `site ${name} (php-fpm hat${MADE_FPM_DIR})`) removesFpmDir = true;
    if (who.by === 'other' || !who.what.startsWith(`site ${name} `)) {
      diagnostics.push(siteDiagnostic('host/not-managed', `${path} was not written by hatter site add for ${name}; leaving it`, undefined, path));
      continue;
    }
    if (who.by === 'hand-edited' && !options.force) {
      diagnostics.push(siteDiagnostic('host/hand-edited', `${path} was edited by hand since hatter wrote it; not removing it`, 'use --force (a backup is kept)', path));
      continue;
    }
    // A file hatter replaced with --force comes back as it was.
    const backup = host.read(backupPathOf(path));
    if (backup !== undefined) files.push({ path, action: 'write', content: backup, previous: text }, { path: backupPathOf(path), action: 'delete', previous: backup });
    else files.push({ path, action: 'delete', previous: text, ...(who.by === 'hand-edited' ? { handEdited: true } : {}) });
  }
  if (files.length === 0 && diagnostics.length === 0) {
    return { files: [], diagnostics: [siteDiagnostic('host/no-such-site', `there is no site ${name} written by hatter`)] };
  }
  const enabled = posix.join(layout.apacheDir, 'sites-enabled', `${name}.conf`);
  if (host.link(enabled) === `../sites-available/${name}.conf`) files.unshift({ path: enabled, action: 'delete' });
  // Session and temp directories: removed only when empty (a site's data is never lost).
  for (const dir of [posix.join(layout.sessionsDir, name), posix.join(layout.phpTempDir, name)]) {
    if (host.kind(dir) === 'directory') files.push({ path: dir, action: 'rmdir' });
  }
  // php-fpm.d/ goes with the last site only when hatter made it (its hat's header says so).
  if (removesFpmDir) files.push({ path: posix.join(layout.apparmorDir, 'php-fpm.d'), action: 'rmdir' });
  if (diagnostics.some((d) => d.severity === 'error')) return { files: [], diagnostics };
  return { files, diagnostics };
}
