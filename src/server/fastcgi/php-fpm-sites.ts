// `phpFpm: true` in a fastcgi handler: hatter runs the site's PHP-FPM master itself. These two pieces
// are what the supervisor needs: start one master per site that asks for one, and give every such
// handler the address of its site's master before the configuration reaches the workers.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { HandlerConfig } from '../handler.js';
import type { ServeConfig, SiteConfig } from '../config.js';
import { startPhpFpm, type PhpFpmMaster, type PhpFpmOptions } from './php-fpm.js';

/** A fastcgi handler whose PHP-FPM master hatter starts itself (`phpFpm: true`, no address). */
export function wantsPhpFpm(handler: HandlerConfig | undefined): boolean {
  return handler?.type === 'fastcgi' && handler.phpFpm === true && handler.address === undefined;
}

/**
 * Where each such site's PHP runs: the route of its first `phpFpm: true` location (a prefix location's
 * own route; a regex location or the site's default handler: the route of `/`). One master per site,
 * so a site whose PHP locations route to different hats gets the first one (and a warning from serve).
 */
export function phpFpmRoutes(config: ServeConfig, route: (siteIndex: number, uri: string) => { label: string; hat: string | null }): Map<string, { label: string; hat: string | null; others: string[] }> {
  const routes = new Map<string, { label: string; hat: string | null; others: string[] }>();
  config.sites.forEach((site, index) => {
    const found: { label: string; hat: string | null }[] = [];
    for (const location of site.locations) {
      if (!wantsPhpFpm(location.handler)) continue;
      found.push(route(index, location.match.kind === 'prefix' ? location.match.prefix : '/'));
    }
    if (wantsPhpFpm(site.handler)) found.push(route(index, '/'));
    const first = found[0];
    if (first) routes.set(site.serverName, { ...first, others: [...new Set(found.map((r) => r.label))].filter((l) => l !== first.label) });
  });
  return routes;
}

/**
 * PHP-FPM children for a site when its configuration does not say: enough to keep every core busy
 * while some children wait on I/O (two per core), rounded up to a multiple of the pool's largest
 * worker count, so that every worker gets the same share of kept connections.
 */
export function fpmChildrenFor(poolMax: number, cores = availableParallelism()): number {
  const max = Math.max(1, poolMax);
  return max * Math.max(1, Math.ceil((2 * Math.max(1, cores)) / max));
}

/**
 * FastCGI connections one worker keeps to a master with `children` children, when the pool may grow
 * to `poolMax` workers: together they never hold more connections than there are children, so a
 * kept connection never pins a child another worker waits for. Undefined when there are fewer
 * children than workers: then each request gets its own connection (FPM's listen queue orders them).
 */
export function fpmConnectionsPerWorker(children: number, poolMax: number): number | undefined {
  const share = Math.floor(children / Math.max(1, poolMax));
  return share >= 1 ? share : undefined;
}

/** The `children` a site's phpFpm handlers ask for (the largest), or the default for the pool size. */
export function siteFpmChildren(site: SiteConfig, poolMax: number): number {
  const asked = [site.handler, ...site.locations.map((location) => location.handler)]
    .flatMap((handler) => (handler && wantsPhpFpm(handler) && handler.type === 'fastcgi' && handler.children !== undefined ? [handler.children] : []));
  return asked.length ? Math.max(...asked) : fpmChildrenFor(poolMax);
}

function siteNeedsPhpFpm(site: SiteConfig): boolean {
  return wantsPhpFpm(site.handler) || site.locations.some((location) => wantsPhpFpm(location.handler));
}

/** Server names of the sites with at least one `phpFpm: true` handler that has no address. */
export function sitesNeedingPhpFpm(config: ServeConfig): string[] {
  return config.sites.filter(siteNeedsPhpFpm).map((site) => site.serverName);
}

/**
 * The configuration with each such handler pointed at its site's master (pure; others unchanged), and
 * its `connections` set to the worker's share of that master's `children` (unless configured).
 */
export function withPhpFpmAddresses(config: ServeConfig, addresses: ReadonlyMap<string, string>, children: ReadonlyMap<string, number> = new Map()): ServeConfig {
  const fill = (handler: HandlerConfig, site: SiteConfig): HandlerConfig => {
    if (!wantsPhpFpm(handler) || handler.type !== 'fastcgi') return handler;
    const address = addresses.get(site.serverName);
    if (address === undefined) return handler;
    const count = children.get(site.serverName);
    const connections = handler.connections ?? (count === undefined ? undefined : fpmConnectionsPerWorker(count, config.pool.max));
    return { ...handler, address, ...(connections !== undefined ? { connections } : {}) };
  };
  return {
    ...config,
    sites: config.sites.map((site) => ({
      ...site,
      handler: fill(site.handler, site),
      locations: site.locations.map((location) => (location.handler ? { ...location, handler: fill(location.handler, site) } : location)),
    })),
  };
}

export interface PhpFpmSites {
  readonly masters: ReadonlyMap<string, PhpFpmMaster>;
  /** Server name → 'unix:/…/php-fpm.sock'. */
  readonly addresses: ReadonlyMap<string, string>;
  /** Server name → the number of children its master keeps. */
  readonly children: ReadonlyMap<string, number>;
  stop(): Promise<void>;
}

/**
 * Start one master per site that needs one, each in `runRoot/<site>/`. If one fails to start, the
 * ones already running are stopped and the error (PhpFpmError, with FPM's log) is thrown.
 */
export async function startPhpFpmSites(
  config: ServeConfig, runRoot: string,
  perSite: (serverName: string, runDir: string) => Partial<PhpFpmOptions> | Promise<Partial<PhpFpmOptions>> = () => ({}),
): Promise<PhpFpmSites> {
  const masters = new Map<string, PhpFpmMaster>();
  const children = new Map<string, number>();
  const stop = async () => {
    await Promise.allSettled([...masters.values()].map((master) => master.stop()));
  };
  try {
    for (const site of config.sites.filter(siteNeedsPhpFpm)) {
      const serverName = site.serverName;
      const directory = serverName.replace(/[^A-Za-z0-9._-]/g, '_');
      const runDir = join(runRoot, directory);
      const workers = siteFpmChildren(site, config.pool.max);
      const master = await startPhpFpm({
        siteName: serverName, runDir, workers, processManager: 'static', readyTimeoutMs: config.phpFpm.startTimeoutMs, ...await perSite(serverName, runDir),
      });
      masters.set(serverName, master);
      children.set(serverName, workers);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { masters, addresses: new Map([...masters].map(([name, master]) => [name, master.address])), children, stop };
}
