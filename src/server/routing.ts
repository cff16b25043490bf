// From (Host, path) to (site, location, handler, hat). Pure, and the same code runs in the front (to pick
// the pool) and in every worker (to notice a keep-alive request that belongs to another hat). The
// mapping itself is web's request map, the one `hatter which-hat` uses.
import {
  compileRegex, hatSectionOf, hatVector, locationTest, normalizeHost, sectionsForUri, normalizeUri, VhostNameChain,
  type ApacheConfig, type ApacheSection, type ApacheServer,
} from '../web/index.js';
import type { SourceLocation } from '../policy/index.js';
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
  return locationTest({ pattern: prefix, isRegex: false })(uri);
}

/** One site as web's request map sees it: the virtual host, the main server around it, and the handlers. */
interface SiteModel {
  readonly main: ApacheServer;
  readonly vhost: ApacheServer;
  /** The hatter.yaml location behind each <Location> section of the vhost (handlers live there). */
  readonly locations: ReadonlyMap<ApacheSection, LocationConfig>;
}

const SERVE_CONFIG: SourceLocation = { file: 'hatter.yaml', line: 1, col: 1 };

/** A main server with nothing in it: hatter.yaml sites have no server-wide sections or aliases. */
const EMPTY_MAIN: ApacheServer = Object.freeze({ isMain: true, addresses: [], serverAliases: [], aliases: [], sections: [], location: SERVE_CONFIG });

/**
 * A hatter.yaml site as a `<VirtualHost *:*>`: its locations become <Location> (prefix, with Apache's
 * wildcards) and <LocationMatch> (regex) sections in file order. A wildcard serverName (`*.example`) is
 * also an alias, so it matches the names it covers as it always has.
 */
function siteModel(site: SiteConfig): SiteModel {
  if (site.apache) return { main: site.apache.main, vhost: site.apache.vhost, locations: new Map() };
  const locations = new Map<ApacheSection, LocationConfig>();
  const sections = site.locations.map((location, order): ApacheSection => {
    const section: ApacheSection = location.match.kind === 'regex'
      ? { kind: 'LocationMatch', pattern: location.match.pattern, isRegex: true, nested: [], location: SERVE_CONFIG, order, ...(location.hat !== undefined ? { hatName: location.hat } : {}) }
      : { kind: 'Location', pattern: location.match.prefix, isRegex: false, nested: [], location: SERVE_CONFIG, order, ...(location.hat !== undefined ? { hatName: location.hat } : {}) };
    locations.set(section, location);
    return section;
  });
  const vhost: ApacheServer = {
    isMain: false,
    addresses: [{ host: '*', port: '*' }],
    serverName: site.serverName,
    serverAliases: /[*?]/.test(site.serverName) ? [site.serverName, ...site.aliases] : site.aliases,
    documentRoot: site.documentRoot,
    ...(site.defaultHat !== undefined ? { defaultHatName: site.defaultHat } : {}),
    aliases: [],
    sections,
    location: SERVE_CONFIG,
  };
  return { main: EMPTY_MAIN, vhost, locations };
}

/**
 * The request map of a configuration as web's ApacheConfig, so that `mapRequest` and `hatter which-hat`
 * answer for it exactly as the Router does (every site a `<VirtualHost *:*>`, in order).
 */
export function requestMapConfig(config: Pick<ServeConfig, 'sites'>): ApacheConfig {
  const models = config.sites.map(siteModel);
  const main = models.find((m) => m.main !== EMPTY_MAIN)?.main ?? EMPTY_MAIN;
  return {
    file: main.location.file, serverRoot: '/', main, vhosts: models.map((m) => m.vhost),
    listens: [], modules: [], defines: {}, files: [], deprecatedDirectives: [],
  };
}

/** The path a handler's location covers: its prefix, the literal start of a wildcard path, a regex's anchored match. */
function locationPrefixOf(location: LocationConfig, uri: string): string {
  if (location.match.kind === 'regex') {
    const m = compileRegex(location.match.pattern)?.exec(uri);
    return m && m.index === 0 ? m[0] : '/';
  }
  const prefix = location.match.prefix;
  if (!/[*?[]/.test(prefix)) return prefix;
  const literal: string[] = [];
  for (const part of prefix.split('/')) { if (/[*?[]/.test(part)) break; literal.push(part); }
  return `${literal.join('/')}/`;
}

const ROUTE_CACHE_LIMIT = 4096;
const HOST_CACHE_LIMIT = 1024;

/**
 * The server's request map: (Host, path) to site, merged sections, hat vector and pool. A projection of
 * web's request map (the same vhost selection, URI normalisation, section merging and vector as
 * `hatter which-hat`), with the per-request work cached: one map probe for a Host seen before and one
 * for a (site, path) seen before.
 */
export class Router {
  private readonly models: SiteModel[];
  private readonly names: VhostNameChain;
  private readonly hostCache = new Map<string, number | undefined>();
  private readonly cache = new Map<string, Route>();

  constructor(readonly config: Pick<ServeConfig, 'sites' | 'policy' | 'hatOrder'>, private readonly chooseHat: HatChooser) {
    this.models = config.sites.map(siteModel);
    this.names = new VhostNameChain(this.models.map((m) => ({ serverName: m.vhost.serverName ?? m.main.serverName ?? '', serverAliases: m.vhost.serverAliases })));
  }

  /**
   * The site for a Host header (any form: port, trailing dot, upper case, IPv6 literal); undefined when
   * httpd would refuse it as malformed. Unknown hosts go to the first site, like Apache's default vhost.
   */
  siteIndexFor(host: string): number | undefined {
    if (this.hostCache.has(host)) return this.hostCache.get(host);
    const name = normalizeHost(host);
    const index = name === undefined ? undefined : name === '' ? 0 : this.names.find(name)?.index ?? 0;
    if (this.hostCache.size >= HOST_CACHE_LIMIT) this.hostCache.clear();
    this.hostCache.set(host, index);
    return index;
  }

  /** As siteIndexFor, with a malformed host going to the first site. */
  siteFor(host: string): number {
    return this.siteIndexFor(host) ?? 0;
  }

  /** undefined: the Host is malformed or the path cannot be normalized (the front answers 400). */
  route(host: string, rawPath: string): Route | undefined {
    const siteIndex = this.siteIndexFor(host);
    if (siteIndex === undefined) return undefined;
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
    const model = this.models[siteIndex]!;
    const sections = sectionsForUri(model, model.vhost, uri);
    const hatName = hatSectionOf(sections)?.section.hatName;
    // The last merged location that sets a handler wins, as for the hat.
    let handler = site.handler;
    let locationPrefix = '/';
    for (const applied of sections) {
      const location = model.locations.get(applied.section);
      if (location?.handler) { handler = location.handler; locationPrefix = locationPrefixOf(location, uri); }
    }
    const candidates = hatVector({
      ...(hatName !== undefined ? { hatName } : {}),
      ...(model.vhost.defaultHatName !== undefined ? { defaultHatName: model.vhost.defaultHatName } : {}),
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
    if (site.apache) {
      const sections = site.apache.vhost.isMain ? site.apache.main.sections : [...site.apache.main.sections, ...site.apache.vhost.sections];
      for (const section of sections.flatMap((s) => [s, ...s.nested])) if (section.hatName !== undefined) hats.add(section.hatName);
    }
  }
  return hats;
}
