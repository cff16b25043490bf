// hatter.yaml sites as tenants (web/tenants.ts has the model and the other sources): each site's
// document root and handler roots are its areas; its default hat (AADefaultHatName or ServerName) and
// its locations' hats are its hats.
import { posix } from 'node:path';
import { mergeTenantModels, type Tenant, type TenantArea, type TenantModel, SHARED_HATS } from '../web/index.js';
import type { HandlerConfig } from './handler.js';
import type { ServeConfig } from './config.js';

function handlerArea(handler: HandlerConfig): TenantArea | undefined {
  switch (handler.type) {
    case 'static': case 'cgi': case 'fastcgi': return { path: handler.root, kind: 'handler-root' };
    // A node handler's module lives in the site's application directory: that directory is the site's.
    case 'node': return { path: posix.dirname(handler.module), kind: 'handler-root' };
  }
}

/** The deepest directory that holds every given path (`/` at worst). */
function commonAncestor(paths: readonly string[]): string {
  const parts = paths.map((p) => p.split('/').filter(Boolean));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length) && parts.every((p) => p[i] === parts[0]![i]); i++) common.push(parts[0]![i]!);
  return `/${common.join('/')}`;
}

/**
 * A site whose roots share a directory of their own (`alice/public`, `alice/app`, `alice/cgi-bin` →
 * `alice/`) owns that directory too: the files next to the roots (configuration, secrets such as
 * wp-config.php one level above the document root) are the site's. Only when that directory is not `/`,
 * holds no other site's root and lies in none: otherwise the roots alone are the area.
 */
function withSiteHomes(tenants: Tenant[]): Tenant[] {
  return tenants.map((tenant) => {
    if (tenant.areas.length < 2) return tenant;
    const home = commonAncestor(tenant.areas.map((a) => a.path));
    if (home === '/' || tenant.areas.some((a) => a.path === home)) return tenant;
    const inside = (outer: string, inner: string) => inner === outer || inner.startsWith(`${outer}/`);
    const clash = tenants.some((other) => other !== tenant && other.areas.some((a) => inside(home, a.path) || inside(a.path, home)));
    return clash ? tenant : { ...tenant, areas: [...tenant.areas, { path: home, kind: 'site-home' }] };
  });
}

/** One tenant per site of a serve configuration (paths as the configuration resolved them: absolute). */
export function tenantsFromServeConfig(config: ServeConfig): TenantModel {
  const tenants: Tenant[] = config.sites.map((site) => {
    const hats = new Set<string>([site.defaultHat ?? site.serverName]);
    for (const l of site.locations) if (l.hat) hats.add(l.hat);
    const areas: TenantArea[] = [{ path: site.documentRoot, kind: 'documentRoot' }];
    for (const handler of [site.handler, ...site.locations.map((l) => l.handler)]) {
      const a = handler && handlerArea(handler);
      if (a && !areas.some((x) => x.path === a.path)) areas.push(a);
    }
    return {
      name: site.serverName, hats: [...hats], profile: config.policy.profile, areas, source: 'config',
      ...(site.user !== undefined ? { user: site.user } : {}),
    };
  });
  // Through mergeTenantModels so the same checks (nested or shared areas, shared hats) apply to every source.
  return mergeTenantModels([{ tenants: withSiteHomes(tenants), shared: [...SHARED_HATS], diagnostics: [] }]);
}
