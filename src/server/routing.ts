// From (Host, path) to (site, location, handler, hat). Pure, and the same code runs in the front (to pick
// the pool) and in every worker (to notice a keep-alive request that belongs to another hat).
import { hatVector, normalizeUri } from '../web/index.js';
import type { HandlerConfig } from './handler.js';
import type { LocationConfig, ServeConfig, SiteConfig } from './config.js';

/**
 * Chooses the hat for a candidate vector: the first name that exists as a hat of the parent profile,
 * or null for the parent profile itself (mod_apparmor's fail-open).
 */
export type HatChooser = (candidates: readonly string[]) => string | null;

/** A chooser over a fixed set of hat names (what the policy's parent profile defines). */
export function chooserFromHats(hats: ReadonlySet<string>): HatChooser {
  return (candidates) => {
    for (const name of candidates) if (hats.has(name)) return name;
    return null;
  };
}

export interface Route {
  readonly siteIndex: number;
  readonly site: SiteConfig;
  /** The decoded, normalized path used for matching and the hat vector. */
  readonly uri: string;
  readonly handler: HandlerConfig;
  /** The location that supplied the handler ('/' for the site default). */
  readonly locationPrefix: string;
  /** mod_apparmor's candidate vector, in order. */
  readonly candidates: readonly string[];
  /** The hat chosen, or null for the parent profile. */
  readonly hat: string | null;
  /** The pool that serves it: `profile//hat`, or `profile`. */
  readonly label: string;
}

/**
 * `r->uri` as Apache computes it (web's normalizeUri: decoded, dot-segments removed, slashes merged).
 * undefined for a path no site can serve (bad escape, encoded NUL or slash, climbing above the root).
 */
export function normalizeUriPath(path: string): string | undefined {
  if (path === '*') return '*';
  const result = normalizeUri(path);
  return result.ok ? result.uri : undefined;
}

/** Apache's <Location> prefix test: on a path-segment boundary unless the prefix ends in '/'. */
export function prefixMatches(prefix: string, uri: string): boolean {
  if (!uri.startsWith(prefix)) return false;
  return uri.length === prefix.length || prefix.endsWith('/') || uri.charCodeAt(prefix.length) === 47;
}

interface CompiledLocation {
  readonly config: LocationConfig;
  readonly regex?: RegExp;
}

const ROUTE_CACHE_LIMIT = 4096;

export class Router {
  private readonly siteByName = new Map<string, number>();
  private readonly wildcards: { suffix: string; index: number }[] = [];
  private readonly locations: CompiledLocation[][];
  private readonly cache = new Map<string, Route>();

  constructor(readonly config: Pick<ServeConfig, 'sites' | 'policy' | 'hatOrder'>, private readonly chooseHat: HatChooser) {
    config.sites.forEach((site, index) => {
      for (const name of [site.serverName, ...site.aliases]) {
        if (name.startsWith('*.')) this.wildcards.push({ suffix: name.slice(1), index });
        else if (!this.siteByName.has(name)) this.siteByName.set(name, index);
      }
    });
    this.locations = config.sites.map((site) => site.locations.map((config) => (
      config.match.kind === 'regex' ? { config, regex: new RegExp(config.match.pattern) } : { config }
    )));
  }

  /** Host (lower-case, no port) to site index; unknown hosts go to the first site, like Apache's default vhost. */
  siteFor(host: string): number {
    const exact = this.siteByName.get(host);
    if (exact !== undefined) return exact;
    for (const { suffix, index } of this.wildcards) if (host.endsWith(suffix) && host.length > suffix.length) return index;
    return 0;
  }

  /** undefined: the path cannot be normalized (the front answers 400). */
  route(host: string, rawPath: string): Route | undefined {
    const siteIndex = this.siteFor(host);
    const key = `${siteIndex}\0${rawPath}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const uri = normalizeUriPath(rawPath);
    if (uri === undefined) return undefined;
    const route = this.routeUri(siteIndex, uri);
    if (this.cache.size >= ROUTE_CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, route);
    return route;
  }

  routeUri(siteIndex: number, uri: string): Route {
    const site = this.config.sites[siteIndex]!;
    let hatName: string | undefined;
    let handler = site.handler;
    let locationPrefix = '/';
    for (const location of this.locations[siteIndex]!) {
      let matched: string | undefined;
      if (location.regex) {
        const m = location.regex.exec(uri);
        if (m) matched = m.index === 0 ? m[0] : '/';
      } else if (location.config.match.kind === 'prefix' && prefixMatches(location.config.match.prefix, uri)) {
        matched = location.config.match.prefix;
      }
      if (matched === undefined) continue;
      // Apache merges <Location> sections in file order: the last one that sets a value wins.
      if (location.config.hat !== undefined) hatName = location.config.hat;
      if (location.config.handler) { handler = location.config.handler; locationPrefix = matched; }
    }
    const candidates = hatVector({
      ...(hatName !== undefined ? { hatName } : {}),
      ...(site.defaultHat !== undefined ? { defaultHatName: site.defaultHat } : {}),
      serverName: site.serverName,
      uri,
    }, this.config.hatOrder);
    const hat = this.chooseHat(candidates);
    const label = hat === null ? this.config.policy.profile : `${this.config.policy.profile}//${hat}`;
    return { siteIndex, site, uri, handler, locationPrefix, candidates, hat, label };
  }
}

/** The hat names a configuration mentions (used as the hat set when no policy file is configured). */
export function configuredHats(config: Pick<ServeConfig, 'sites'>): Set<string> {
  const hats = new Set<string>();
  for (const site of config.sites) {
    hats.add(site.defaultHat ?? site.serverName);
    for (const location of site.locations) if (location.hat !== undefined) hats.add(location.hat);
  }
  return hats;
}
