// The tenant model: which hats belong to which customer, and which parts of the file system are that
// customer's own. `hatter learn` (tenant-safe proposals), `hatter isolate` (reach and flows) and
// `hatter lint` (cross-site rules) all ask the same question, "does this set of paths reach into another
// tenant's area?", so they share this one model. Sources: Apache vhosts, PHP-FPM pools, `--tenant`
// flags here; hatter.yaml sites in server/tenants.ts (the serve configuration lives there).
import { posix } from 'node:path';
import type { Diagnostic, SourceLocation } from '../policy/diagnostic/index.js';
import { literalPattern } from '../policy/aare/index.js';
import type { ApacheConfig, ApacheServer } from './apache-config.js';
import type { FpmConfig } from './fpm-config.js';
import type { WebFileSystem } from './file-system.js';

/** Why a directory belongs to a tenant. */
export type AreaKind = 'documentRoot' | 'directory' | 'alias' | 'handler-root' | 'site-home' | 'chdir' | 'flag';

/** One private area: a directory (with everything below it) or a single file. */
export interface TenantArea {
  /** Absolute, normalized, without a trailing slash (except `/`). */
  readonly path: string;
  readonly kind: AreaKind;
  /** Where the configuration names it (absent for `--tenant` flags). */
  readonly origin?: SourceLocation;
}

export type TenantSource = 'config' | 'apache' | 'fpm' | 'flag';

export interface Tenant {
  /** The site's name: ServerName, pool name, or the hats of a `--tenant` flag joined with `+`. */
  readonly name: string;
  /** Hat base names (`myblog`, not `php-fpm//myblog`) whose code runs on this tenant's behalf. */
  readonly hats: readonly string[];
  /** The parent profile of those hats, when the source says. */
  readonly profile?: string;
  readonly areas: readonly TenantArea[];
  /** The user (name or uid) the tenant's code runs as, when configured: `owner` separates tenants only when their users differ. */
  readonly user?: string | number;
  readonly source: TenantSource;
}

/** Hats shared by every request of a server: they are part of the system, not of a tenant (reported separately). */
export const SHARED_HATS: readonly string[] = ['HANDLING_UNTRUSTED_INPUT', 'DEFAULT_URI'];

export interface TenantModel {
  readonly tenants: readonly Tenant[];
  /** Hats that belong to no tenant (SHARED_HATS that the sources mention, plus the parent profile's own name when known). */
  readonly shared: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

const FLAG_ORIGIN: SourceLocation = { file: '<--tenant>', line: 1, col: 1 };

function normalizeArea(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function area(path: string, kind: AreaKind, origin?: SourceLocation): TenantArea {
  return origin ? { path: normalizeArea(path), kind, origin } : { path: normalizeArea(path), kind };
}

function diag(at: SourceLocation | undefined, code: string, severity: Diagnostic['severity'], message: string, hint?: string): Diagnostic {
  const where = at ?? FLAG_ORIGIN;
  return { file: where.file, line: where.line, col: where.col, code, severity, message, ...(hint ? { hint } : {}) };
}

/**
 * The AARE patterns that match an area: the directory itself and everything below it (`DIR{,/**}`),
 * metacharacters in the path escaped. Use them with the policy's AARE algebra (intersection, witnesses),
 * never with string prefixes: `/srv/www/*` reaches `/srv/www/bob` although no string prefix says so.
 */
export function areaPatterns(a: Pick<TenantArea, 'path'>): string[] {
  const literal = literalPattern(a.path);
  return a.path === '/' ? ['/**'] : [literal, `${literal}/**`];
}

/** Is `path` inside the area (the directory itself or below it)? For concrete paths only (witnesses, events). */
export function areaContains(a: Pick<TenantArea, 'path'>, path: string): boolean {
  if (a.path === '/') return path.startsWith('/');
  return path === a.path || path.startsWith(`${a.path}/`);
}

/** The tenant whose area contains a concrete path (the innermost area when areas nest), if any. */
export function tenantOfPath(tenants: readonly Tenant[], path: string): Tenant | undefined {
  let best: { tenant: Tenant; length: number } | undefined;
  for (const tenant of tenants) {
    for (const a of tenant.areas) {
      if (areaContains(a, path) && (!best || a.path.length > best.length)) best = { tenant, length: a.path.length };
    }
  }
  return best?.tenant;
}

/** The tenant a hat belongs to, if any. */
export function tenantOfHat(tenants: readonly Tenant[], hat: string): Tenant | undefined {
  return tenants.find((t) => t.hats.includes(hat));
}

/**
 * `--tenant HAT=DIR[,DIR...]` flags. Hats given the same set of directories form one tenant (a site with
 * several hats); a flag without `=` or with a relative directory is an error.
 */
export function tenantsFromFlags(specs: readonly string[]): TenantModel {
  const diagnostics: Diagnostic[] = [];
  const byAreas = new Map<string, { hats: string[]; areas: TenantArea[] }>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const hat = eq > 0 ? spec.slice(0, eq).trim() : '';
    const dirs = eq > 0 ? spec.slice(eq + 1).split(',').map((d) => d.trim()).filter((d) => d !== '') : [];
    if (hat === '' || dirs.length === 0) {
      diagnostics.push(diag(undefined, 'tenant/bad-flag', 'error', `--tenant '${spec}' is not HAT=DIR[,DIR...]`, 'example: --tenant alice=/srv/www/alice'));
      continue;
    }
    const relative = dirs.filter((d) => !d.startsWith('/'));
    if (relative.length > 0) {
      diagnostics.push(diag(undefined, 'tenant/relative-area', 'error', `--tenant ${hat}: '${relative[0]}' is not an absolute path`));
      continue;
    }
    const areas = [...new Set(dirs.map(normalizeArea))].sort().map((p) => area(p, 'flag'));
    const key = areas.map((a) => a.path).join('\0');
    const entry = byAreas.get(key) ?? { hats: [], areas };
    if (!entry.hats.includes(hat)) entry.hats.push(hat);
    byAreas.set(key, entry);
  }
  const tenants = [...byAreas.values()].map((e): Tenant => ({ name: e.hats.join('+'), hats: e.hats, areas: e.areas, source: 'flag' }));
  return finish(tenants, [], diagnostics);
}

/** The hats mod_apparmor may pick for requests to a vhost without knowing the URI: AADefaultHatName (or ServerName) and every AAHatName in its sections. */
function apacheHats(config: ApacheConfig, server: ApacheServer): string[] {
  const hats = new Set<string>();
  const name = server.defaultHatName ?? server.serverName ?? (server.isMain ? undefined : config.main.serverName);
  if (name) hats.add(name);
  const visit = (sections: ApacheServer['sections']): void => {
    for (const s of sections) {
      if (s.hatName) hats.add(s.hatName);
      visit(s.nested);
    }
  };
  visit(server.sections);
  return [...hats];
}

/**
 * One tenant per <VirtualHost> (and the main server when it has a DocumentRoot and no vhost covers it):
 * its DocumentRoot, non-regex <Directory> paths and Alias targets; hats from AADefaultHatName/ServerName
 * and AAHatName. `ServerName-URI` and `URI` hats depend on each request and are not enumerable here.
 */
export function tenantsFromApache(config: ApacheConfig): TenantModel {
  const diagnostics: Diagnostic[] = [];
  const tenants: Tenant[] = [];
  const servers = config.vhosts.length > 0 ? config.vhosts : [config.main];
  for (const server of servers) {
    const areas: TenantArea[] = [];
    if (server.documentRoot) areas.push(area(server.documentRoot, 'documentRoot', server.location));
    for (const s of server.sections) {
      if ((s.kind === 'Directory') && !s.isRegex && s.pattern.startsWith('/') && !/[*?[]/.test(s.pattern)) areas.push(area(s.pattern, 'directory', s.location));
    }
    for (const a of server.aliases) {
      if ((a.kind === 'Alias' || a.kind === 'ScriptAlias') && a.to.startsWith('/')) areas.push(area(a.to, 'alias', a.location));
    }
    const hats = apacheHats(config, server);
    const name = server.serverName ?? hats[0] ?? `vhost ${server.location.file}:${server.location.line}`;
    if (areas.length === 0) {
      diagnostics.push(diag(server.location, 'tenant/no-area', 'warning', `${name}: no DocumentRoot, Directory or Alias, so it has no private area`));
    }
    tenants.push({ name, hats, areas: dedupeAreas(areas), source: 'apache' });
  }
  return finish(tenants, [...SHARED_HATS], diagnostics);
}

/** One tenant per pool: its `chdir` (and `chroot`) as the area, `apparmor_hat` as its hat, `user` as its user. */
export function tenantsFromFpm(config: FpmConfig, profile?: string): TenantModel {
  const diagnostics: Diagnostic[] = [];
  const tenants: Tenant[] = [];
  for (const pool of config.pools) {
    const areas: TenantArea[] = [];
    if (pool.chroot?.startsWith('/')) areas.push(area(pool.chroot, 'chdir', pool.location));
    if (pool.chdir?.startsWith('/')) areas.push(area(pool.chroot ? posix.join(pool.chroot, pool.chdir) : pool.chdir, 'chdir', pool.location));
    if (!pool.apparmorHat) {
      diagnostics.push(diag(pool.location, 'tenant/no-hat', 'warning', `pool [${pool.name}] sets no apparmor_hat: its workers share the master's profile`));
    }
    if (areas.length === 0) {
      diagnostics.push(diag(pool.location, 'tenant/no-area', 'warning', `pool [${pool.name}] sets no chdir, so it has no private area`, 'set chdir = /srv/www/SITE in the pool'));
    }
    tenants.push({
      name: pool.name, hats: pool.apparmorHat ? [pool.apparmorHat] : [], areas: dedupeAreas(areas), source: 'fpm',
      ...(profile ? { profile } : {}), ...(pool.user !== undefined ? { user: pool.user } : {}),
    });
  }
  return finish(tenants, [], diagnostics);
}

function dedupeAreas(areas: readonly TenantArea[]): TenantArea[] {
  const seen = new Set<string>();
  return areas.filter((a) => (seen.has(a.path) ? false : (seen.add(a.path), true)));
}

/**
 * Several sources (e.g. --apache and --fpm for the same host) into one model. Tenants that share a hat
 * are merged (a vhost and the pool that serves its PHP are one customer); everything else stays apart.
 */
export function mergeTenantModels(models: readonly TenantModel[]): TenantModel {
  const merged: { name: string; hats: Set<string>; areas: TenantArea[]; profile?: string; user?: string | number; source: TenantSource }[] = [];
  for (const t of models.flatMap((m) => m.tenants)) {
    const into = merged.find((m) => t.hats.some((h) => m.hats.has(h)));
    if (into) {
      for (const h of t.hats) into.hats.add(h);
      into.areas = dedupeAreas([...into.areas, ...t.areas]);
      if (into.user === undefined && t.user !== undefined) into.user = t.user;
      if (into.profile === undefined && t.profile !== undefined) into.profile = t.profile;
    } else {
      merged.push({ name: t.name, hats: new Set(t.hats), areas: [...t.areas], source: t.source, ...(t.profile ? { profile: t.profile } : {}), ...(t.user !== undefined ? { user: t.user } : {}) });
    }
  }
  const tenants = merged.map((m): Tenant => ({
    name: m.name, hats: [...m.hats], areas: m.areas, source: m.source,
    ...(m.profile ? { profile: m.profile } : {}), ...(m.user !== undefined ? { user: m.user } : {}),
  }));
  const shared = [...new Set(models.flatMap((m) => m.shared))];
  return finish(tenants, shared, models.flatMap((m) => m.diagnostics));
}

/**
 * Checks every model gets: two tenants claiming the same hat, and one tenant's area inside another's
 * (reported, never silently merged: the inner site would otherwise count as part of the outer one).
 */
function finish(tenants: Tenant[], shared: string[], diagnostics: Diagnostic[]): TenantModel {
  const out = [...diagnostics];
  const hatOwner = new Map<string, string>();
  for (const t of tenants) {
    for (const h of t.hats) {
      const other = hatOwner.get(h);
      if (other !== undefined && other !== t.name) out.push(diag(undefined, 'tenant/shared-hat', 'warning', `hat ${h} belongs to both ${other} and ${t.name}: its rules count for both`));
      else hatOwner.set(h, t.name);
    }
  }
  for (const a of tenants) {
    for (const b of tenants) {
      if (a === b) continue;
      for (const inner of a.areas) {
        const outer = b.areas.find((o) => o.path !== inner.path && areaContains(o, inner.path));
        if (outer) {
          out.push(diag(inner.origin, 'tenant/nested-area', 'warning', `${a.name}'s area ${inner.path} lies inside ${b.name}'s area ${outer.path}`, 'paths there are attributed to the innermost area; give each site its own directory'));
        }
        const same = b.areas.find((o) => o.path === inner.path);
        if (same && a.name < b.name) {
          out.push(diag(inner.origin, 'tenant/same-area', 'error', `${a.name} and ${b.name} both claim ${inner.path} as their own`, 'hats that share a directory are one tenant: give them the same --tenant directories, or separate the sites'));
        }
      }
    }
  }
  return { tenants, shared, diagnostics: out };
}

/** Report areas that do not exist on the file system (a typo makes a tenant look isolated while it is not checked at all). */
export function checkTenantAreas(model: TenantModel, fs: WebFileSystem): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const t of model.tenants) {
    for (const a of t.areas) {
      if (fs.stat(a.path) === undefined) out.push(diag(a.origin, 'tenant/missing-area', 'error', `${t.name}: area ${a.path} does not exist`));
    }
  }
  return out;
}
