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
  return mergeTenantModels([{ tenants, shared: [...SHARED_HATS], diagnostics: [] }]);
}
