// What a pool's workers need from the kernel beyond the hat's own file rules, derived from the
// configuration: TCP ports of FastCGI servers its handlers talk to (Landlock denies every TCP connect
// the hat does not name once it restricts TCP at all).
import type { ServeConfig } from './config.js';
import { parseListenAddress } from './config.js';
import type { HandlerConfig } from './handler.js';
import { hatChooser, type PolicyHats } from './policy-hats.js';
import { Router } from './routing.js';

/** The port of a `host:port` FastCGI address; undefined for `unix:` sockets and other handlers. */
export function fastcgiTcpPort(handler: HandlerConfig | undefined): number | undefined {
  if (!handler || handler.type !== 'fastcgi' || handler.address === undefined || handler.address.startsWith('unix:')) return undefined;
  return parseListenAddress(handler.address)?.port;
}

/**
 * For each pool label, the FastCGI TCP ports its workers may connect to. A prefix location's handler
 * runs in the hat its prefix routes to; a regex location (or the site's default handler) can match
 * many paths, so its port goes to every hat the site's known paths route to.
 */
export function fastcgiConnectPorts(config: Pick<ServeConfig, 'sites' | 'policy' | 'hatOrder'>, hats: PolicyHats): Map<string, number[]> {
  const router = new Router(config, hatChooser(hats));
  const ports = new Map<string, Set<number>>();
  const add = (label: string, port: number): void => {
    let set = ports.get(label);
    if (!set) ports.set(label, (set = new Set()));
    set.add(port);
  };
  config.sites.forEach((site, index) => {
    const siteLabels = new Set<string>([router.routeUri(index, '/').label]);
    for (const location of site.locations) {
      if (location.match.kind === 'prefix') siteLabels.add(router.routeUri(index, location.match.prefix).label);
    }
    const defaultPort = fastcgiTcpPort(site.handler);
    if (defaultPort !== undefined) for (const label of siteLabels) add(label, defaultPort);
    for (const location of site.locations) {
      const port = fastcgiTcpPort(location.handler);
      if (port === undefined) continue;
      if (location.match.kind === 'prefix') add(router.routeUri(index, location.match.prefix).label, port);
      else for (const label of siteLabels) add(label, port);
    }
  });
  return new Map([...ports].map(([label, set]) => [label, [...set].sort((a, b) => a - b)]));
}

/** The labels a site's handlers run under: its `/` and every prefix location's route. */
function siteLabels(router: Router, site: ServeConfig['sites'][number], index: number): Set<string> {
  const labels = new Set<string>([router.routeUri(index, '/').label]);
  for (const location of site.locations) if (location.match.kind === 'prefix') labels.add(router.routeUri(index, location.match.prefix).label);
  return labels;
}

export interface PoolAccount {
  readonly user?: string | number;
  readonly group?: string | number;
  /** Sites that asked for it (for messages). */
  readonly sites: readonly string[];
  /** Set when sites sharing this pool ask for different accounts: the pool must not start. */
  readonly conflict?: string;
}

/** For each pool label, the `user:`/`group:` its sites ask for (sites sharing a hat must agree). */
export function poolAccounts(config: Pick<ServeConfig, 'sites' | 'policy' | 'hatOrder'>, hats: PolicyHats): Map<string, PoolAccount> {
  const router = new Router(config, hatChooser(hats));
  const accounts = new Map<string, PoolAccount>();
  config.sites.forEach((site, index) => {
    if (site.user === undefined && site.group === undefined) return;
    for (const label of siteLabels(router, site, index)) {
      const known = accounts.get(label);
      if (!known) {
        accounts.set(label, { ...(site.user !== undefined ? { user: site.user } : {}), ...(site.group !== undefined ? { group: site.group } : {}), sites: [site.serverName] });
      } else if (known.user !== site.user || known.group !== site.group) {
        accounts.set(label, { ...known, sites: [...known.sites, site.serverName], conflict: `sites ${[...known.sites, site.serverName].join(', ')} share ${label} but ask for different user/group` });
      }
    }
  });
  return accounts;
}

/** A user or group name (or number) to its id, from the text of /etc/passwd or /etc/group. */
export function resolveAccountId(value: string | number, databaseText: string): { id: number; primaryGid?: number } | undefined {
  for (const line of databaseText.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3) continue;
    const id = Number(fields[2]);
    if (!Number.isInteger(id)) continue;
    if (typeof value === 'number' ? id === value : fields[0] === value) {
      const primary = Number(fields[3]);
      return { id, ...(fields.length >= 4 && Number.isInteger(primary) ? { primaryGid: primary } : {}) };
    }
  }
  return typeof value === 'number' ? { id: value } : undefined;
}
