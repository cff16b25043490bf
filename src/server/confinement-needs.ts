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
