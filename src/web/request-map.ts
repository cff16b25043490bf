// Map a request to what mod_apparmor sees, the way httpd does: the virtual host (address, port, Host
// header), the decoded and normalised URI, the file path (Alias, DocumentRoot), and the per-directory
// sections merged in httpd's order. Pure over an ApacheConfig.
import { isIPv6 } from 'node:net';
import { posix } from 'node:path';
import { compileRegex, globComponentToRegExp, type AliasRule, type ApacheConfig, type ApacheSection, type ApacheServer } from './apache-config.js';
import type { HatVectorInput } from './hat-vector.js';

export interface RequestTarget {
  /** An absolute URL (`https://shop.example/cart?id=3`) or a request path (`/cart?id=3`). */
  readonly url: string;
  /** The Host header; default: the URL's host. Empty string: no Host header (HTTP/1.0). */
  readonly host?: string;
  /** The server address the connection arrived on; default: the URL's host when it is an IP address. */
  readonly localAddress?: string;
  /** The server port; default: the URL's port, else 443 for https and 80 otherwise. */
  readonly port?: number;
}

export interface MapOptions {
  /** The main server's name when the config sets no ServerName (httpd uses the machine's name). */
  readonly defaultServerName?: string;
  /** DocumentRoot when none is configured (Debian's built-in default). */
  readonly defaultDocumentRoot?: string;
  /**
   * Look at the file system like httpd's directory walk: it stops at the first path component that does
   * not exist (deeper <Directory> sections do not apply; the rest becomes PATH_INFO) and knows whether
   * the target is a directory. Without it every directory on the path is assumed to exist.
   */
  readonly stat?: (path: string) => 'file' | 'directory' | undefined;
}

export type UriResult = { readonly ok: true; readonly uri: string } | { readonly ok: false; readonly status: 400 | 404; readonly reason: string };

export interface VhostChoice {
  readonly server: ApacheServer;
  /** 'main' when no <VirtualHost> matches the address and port. */
  readonly matchedBy: 'ServerName' | 'ServerAlias' | 'default' | 'main';
  readonly reason: string;
}

export interface AppliedSection {
  readonly section: ApacheSection;
  readonly from: 'main' | 'vhost';
  /** The merge phase this section was applied in. */
  readonly phase: 'Directory' | 'DirectoryMatch' | 'Files' | 'Location';
}

export interface RequestMapping {
  readonly ok: true;
  readonly vhost: ApacheServer;
  readonly vhostChoice: VhostChoice;
  /** The configured ServerName of the vhost (inherited from the main server when it has none). */
  readonly serverName: string;
  readonly uri: string;
  /** The file name httpd's directory walk ends with (a trailing `/` for a directory). */
  readonly filePath: string;
  /** What the walk did not consume, when `stat` showed a missing component or a file with more path. */
  readonly pathInfo?: string;
  readonly alias?: AliasRule;
  /** Every section that matched, in merge order. */
  readonly sections: readonly AppliedSection[];
  /** The last merged section that sets AAHatName. */
  readonly hatSection?: AppliedSection;
  readonly vectorInput: HatVectorInput;
  readonly notes: readonly string[];
}

export type RequestMappingResult = RequestMapping | { readonly ok: false; readonly status: 400 | 404; readonly reason: string; readonly vhost?: ApacheServer; readonly serverName?: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const PLAIN_PATH = /^\/[!-$&-~]*$/;
const DOT_OR_DOUBLE_SLASH = /\/\/|\/\.\.?(?:\/|$)/;

/**
 * Decode and normalise a request path as httpd 2.4 does by default (MergeSlashes On, AllowEncodedSlashes
 * Off): unreserved %XX decoded first, dot segments removed (400 above the root), repeated slashes merged,
 * then the rest decoded (%2F or %00 → 404, a broken escape → 400). Query and fragment are dropped.
 */
export function normalizeUri(raw: string): UriResult {
  let path = raw;
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  // Most paths need nothing: printable ASCII without escapes, repeated slashes or dot segments.
  if (PLAIN_PATH.test(path) && !DOT_OR_DOUBLE_SLASH.test(path)) return { ok: true, uri: path };
  if (!path.startsWith('/')) return { ok: false, status: 400, reason: `request path '${truncate(path)}' does not start with '/'` };
  // 1. Decode unreserved characters only, and check every escape.
  let stage = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== '%') { stage += c; continue; }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, status: 400, reason: `bad percent-escape '%${truncate(hex)}' in the request path` };
    const ch = String.fromCharCode(parseInt(hex, 16));
    stage += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  // 2. Merge slashes and remove dot segments.
  const out: string[] = [];
  const segments = stage.split('/').slice(1);
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg === '' && !last) continue;
    if (seg === '.') { if (last) out.push(''); continue; }
    if (seg === '..') {
      if (out.length === 0 || (out.length === 1 && out[0] === '')) return { ok: false, status: 400, reason: 'the request path climbs above the document root (..)' };
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(seg);
  }
  const normalized = `/${out.join('/')}`;
  // 3. Decode the remaining escapes.
  const bytes: number[] = [];
  for (let i = 0; i < normalized.length; i++) {
    const c = normalized.charCodeAt(i);
    if (c === 37 /* % */) {
      const v = parseInt(normalized.slice(i + 1, i + 3), 16);
      if (v === 0x2f || v === 0) return { ok: false, status: 404, reason: `encoded ${v === 0 ? 'NUL' : 'slash'} (%${v === 0 ? '00' : '2F'}) in the request path (AllowEncodedSlashes Off)` };
      bytes.push(v);
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(normalized[i]!, 'utf8')) bytes.push(b);
  }
  const buf = Uint8Array.from(bytes);
  let uri: string;
  try {
    uri = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    uri = Buffer.from(buf).toString('latin1');
  }
  return { ok: true, uri };
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The effective ServerName of a server: its own, else the main server's, else the default. */
export function effectiveServerName(config: ApacheConfig, server: ApacheServer, options: MapOptions = {}): string {
  return server.serverName ?? config.main.serverName ?? options.defaultServerName ?? 'localhost';
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * The Host header (or an absolute URL's authority) as httpd's fix_hostname leaves it for vhost matching:
 * the port dropped, lower case, one trailing dot removed, an IPv6 literal without its brackets.
 * undefined where httpd answers 400 (`..`, `/` or `\` in a name, a bad IPv6 literal or port).
 * Idempotent, so callers may pass a host they already trimmed.
 */
export function normalizeHost(authority: string): string | undefined {
  // The common case (a lower-case name without port or trailing dot) costs one scan.
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(authority)) return authority;
  let host = authority;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0 || !/^(:\d*)?$/.test(host.slice(end + 1))) return undefined;
    host = host.slice(1, end);
    return isIpv6Literal(host) ? host.toLowerCase() : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    // A bare IPv6 address (no brackets) is what normalizeHost itself returns: keep it.
    if (host.indexOf(':', colon + 1) >= 0) return isIpv6Literal(host) ? host.toLowerCase() : undefined;
    if (!/^\d*$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (host.includes('..') || /[/\\]/.test(host)) return undefined;
  host = host.toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** apr_parse_addr_port accepts an IPv6 literal only when inet_pton does, and refuses a scope id. */
function isIpv6Literal(host: string): boolean {
  return isIPv6(host) && !host.includes('%');
}

/** ap_strcasecmp_match: `*` any run of characters (dots too), `?` one character; nothing else is special. */
function hostWildcard(pattern: string): RegExp {
  const body = pattern.toLowerCase().replace(/[.+^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** One virtual host's names as httpd's matches_aliases sees them. */
export interface VhostNames {
  /** The effective ServerName (lower case). */
  readonly serverName: string;
  readonly serverAliases: readonly string[];
}

export type NameMatch = { readonly index: number; readonly matchedBy: 'ServerName' } | { readonly index: number; readonly matchedBy: 'ServerAlias'; readonly alias: string };

/**
 * Name-based virtual host selection over one chain (the vhosts of an address and port, in file order):
 * the first vhost whose ServerName equals the host, or one of whose ServerAliases matches it (exact
 * names, then `*`/`?` wildcards: httpd's matches_aliases). Compiled once: a map for exact names and
 * the wildcard aliases in chain order, so a lookup costs one map probe plus the wildcards before it.
 */
export class VhostNameChain {
  private readonly exact = new Map<string, NameMatch>();
  private readonly wildcards: { readonly index: number; readonly alias: string; readonly regex: RegExp }[] = [];

  constructor(chain: readonly VhostNames[]) {
    chain.forEach((names, index) => {
      const serverName = names.serverName.toLowerCase();
      if (!this.exact.has(serverName)) this.exact.set(serverName, { index, matchedBy: 'ServerName' });
      for (const alias of names.serverAliases) {
        if (/[*?]/.test(alias)) this.wildcards.push({ index, alias, regex: hostWildcard(alias) });
        else if (!this.exact.has(alias.toLowerCase())) this.exact.set(alias.toLowerCase(), { index, matchedBy: 'ServerAlias', alias });
      }
    });
  }

  /** The first vhost in chain order whose names match `host` (already normalised), or undefined. */
  find(host: string): NameMatch | undefined {
    const exact = this.exact.get(host);
    for (const wildcard of this.wildcards) {
      if (exact !== undefined && wildcard.index >= exact.index) break;
      if (wildcard.regex.test(host)) return { index: wildcard.index, matchedBy: 'ServerAlias', alias: wildcard.alias };
    }
    return exact;
  }
}

/** Pick the virtual host as httpd does: IP-specific vhosts first, then wildcard ones, then the Host header. */
export function selectVirtualHost(config: ApacheConfig, conn: { host?: string; localAddress?: string; port: number }, options: MapOptions = {}): VhostChoice {
  const portMatches = (p: number | '*'): boolean => p === '*' || p === conn.port;
  const local = conn.localAddress?.replace(/^\[|\]$/g, '').toLowerCase();
  let chain: ApacheServer[] = [];
  let how = '';
  if (local !== undefined) {
    chain = config.vhosts.filter((v) => v.addresses.some((a) => a.host === local && portMatches(a.port)));
    how = `address ${local}:${conn.port}`;
  } else {
    // Unknown local address: prefer the wildcard vhosts, else the first address that has vhosts on this port.
    const firstIp = config.vhosts.flatMap((v) => v.addresses).find((a) => a.host !== '*' && a.host !== '_default_' && portMatches(a.port));
    chain = [];
    if (firstIp) {
      const wildcard = config.vhosts.some((v) => v.addresses.some((a) => (a.host === '*' || a.host === '_default_') && portMatches(a.port)));
      if (!wildcard) {
        chain = config.vhosts.filter((v) => v.addresses.some((a) => a.host === firstIp.host && portMatches(a.port)));
        how = `address ${firstIp.host}:${conn.port} (assumed: the only vhost address for this port; pass the local address to be exact)`;
      }
    }
  }
  if (chain.length === 0) {
    chain = config.vhosts.filter((v) => v.addresses.some((a) => (a.host === '*' || a.host === '_default_') && portMatches(a.port)));
    how = `*:${conn.port}`;
  }
  if (chain.length === 0) {
    return { server: config.main, matchedBy: 'main', reason: `no <VirtualHost> matches port ${conn.port}${local ? ` on ${local}` : ''}: the main server answers` };
  }
  const host = normalizeHost(conn.host ?? '') ?? '';
  if (host !== '') {
    const names = new VhostNameChain(chain.map((v) => ({ serverName: effectiveServerName(config, v, options), serverAliases: v.serverAliases })));
    const found = names.find(host);
    if (found) {
      const v = chain[found.index]!;
      return found.matchedBy === 'ServerName'
        ? { server: v, matchedBy: 'ServerName', reason: `Host '${host}' matches the ServerName of the vhost at ${v.location.file}:${v.location.line} (among the vhosts for ${how})` }
        : { server: v, matchedBy: 'ServerAlias', reason: `Host '${host}' matches ServerAlias '${found.alias}' of the vhost at ${v.location.file}:${v.location.line} (among the vhosts for ${how})` };
    }
  }
  const first = chain[0]!;
  return { server: first, matchedBy: 'default', reason: `${host === '' ? 'no Host header' : `Host '${host}' matches no ServerName or ServerAlias`}: the first vhost for ${how} (${first.location.file}:${first.location.line}) is the default` };
}

/** mod_alias: does the alias path match this URI (at a segment boundary)? Returns the matched length. */
function aliasPrefixLength(alias: string, uri: string): number | undefined {
  const a = alias.replace(/\/{2,}/g, '/');
  if (a.endsWith('/')) return uri.startsWith(a) ? a.length : undefined;
  if (uri === a || uri.startsWith(`${a}/`)) return a.length;
  return undefined;
}

function substituteGroups(template: string, match: RegExpExecArray): string {
  return template.replace(/\$(\d)|\\(.)/g, (_w, d: string | undefined, esc: string | undefined) => (d !== undefined ? match[Number(d)] ?? '' : esc!));
}

/** URI → file path: the server's aliases (vhost first, then main server's, first match wins), else DocumentRoot. */
export function mapUriToFile(config: Pick<ApacheConfig, 'main'>, server: ApacheServer, uri: string, options: MapOptions = {}): { filePath: string; alias?: AliasRule; root: string } {
  const aliases = server.isMain ? config.main.aliases : [...server.aliases, ...config.main.aliases];
  for (const alias of aliases) {
    if (alias.kind === 'AliasMatch' || alias.kind === 'ScriptAliasMatch') {
      const re = compileRegex(alias.from);
      const m = re?.exec(uri);
      if (m) {
        const filePath = posix.normalize(substituteGroups(alias.to, m));
        return { filePath, alias, root: posix.dirname(filePath) };
      }
      continue;
    }
    const len = aliasPrefixLength(alias.from, uri);
    if (len === undefined) continue;
    const rest = uri.slice(len);
    // mod_alias concatenates: `Alias /static/ /srv/static` maps /static/a.js to /srv/statica.js.
    return { filePath: posix.normalize(alias.to + rest), alias, root: alias.to };
  }
  const root = server.documentRoot ?? config.main.documentRoot ?? options.defaultDocumentRoot ?? '/var/www/html';
  return { filePath: posix.normalize(root + uri), root };
}

/** httpd's directory walk over the real file system: stop at a missing component or at a file. */
export function directoryWalk(filePath: string, stat: (path: string) => 'file' | 'directory' | undefined): { filePath: string; pathInfo?: string } {
  const parts = filePath.split('/').filter(Boolean);
  let current = '';
  for (let i = 0; i < parts.length; i++) {
    current += `/${parts[i]}`;
    const kind = stat(current);
    const rest = parts.slice(i + 1).join('/');
    const restPath = rest === '' ? (filePath.endsWith('/') && kind !== 'directory' ? '/' : '') : `/${rest}${filePath.endsWith('/') ? '/' : ''}`;
    if (kind === undefined || kind === 'file') return restPath ? { filePath: current, pathInfo: restPath } : { filePath: current };
    if (i === parts.length - 1) return { filePath: `${current}/` };
  }
  return { filePath: '/' };
}

function componentCount(path: string): number {
  return path.split('/').filter(Boolean).length;
}

/** One section's test, compiled once (the server routes every request through these). */
type SectionTest = (subject: string) => boolean;

const NEVER: SectionTest = () => false;

/** A non-regex <Directory> (wildcards per component) covers a directory chain given as its components. */
function directoryTest(pattern: string): (dirs: readonly string[]) => boolean {
  const parts = pattern.split('/').filter(Boolean).map((p) => (/[*?[]/.test(p) ? globComponentToRegExp(p) : p));
  return (dirs) => parts.length <= dirs.length && parts.every((p, i) => (typeof p === 'string' ? p === dirs[i] : p.test(dirs[i]!)));
}

function filesTest(section: ApacheSection): SectionTest {
  if (section.isRegex) return regexTest(section.pattern);
  if (!/[*?[]/.test(section.pattern)) return (base) => base === section.pattern;
  const re = globComponentToRegExp(section.pattern);
  return (base) => re.test(base);
}

function regexTest(pattern: string): SectionTest {
  const re = compileRegex(pattern);
  return re ? (subject) => re.test(subject) : NEVER;
}

/**
 * httpd's location_walk for one <Location>/<LocationMatch>: a regex searches the URI; a path with
 * wildcards is apr_fnmatch with APR_FNM_PATHNAME over the whole URI (`*` never crosses a '/'); a plain
 * path is a prefix that ends at a '/' unless it ends with one itself. Slashes in the path are merged.
 */
export function locationTest(section: Pick<ApacheSection, 'pattern' | 'isRegex'>): SectionTest {
  if (section.isRegex) return regexTest(section.pattern);
  const p = section.pattern.replace(/\/{2,}/g, '/');
  if (/[*?[]/.test(p)) {
    const parts = p.split('/').map((part) => globComponentToRegExp(part));
    return (uri) => {
      const uriParts = uri.split('/');
      return uriParts.length === parts.length && parts.every((part, i) => part.test(uriParts[i]!));
    };
  }
  const open = p.endsWith('/');
  return (uri) => uri.startsWith(p) && (open || uri.length === p.length || uri.charCodeAt(p.length) === 47 /* / */);
}

interface PlannedSection {
  readonly section: ApacheSection;
  readonly from: 'main' | 'vhost';
}

/** What mergeSections needs of one server, sorted and compiled once per (main server, server). */
interface MergePlan {
  readonly main: ApacheServer;
  readonly directories: readonly (PlannedSection & { readonly test: (dirs: readonly string[]) => boolean })[];
  readonly directoryMatches: readonly (PlannedSection & { readonly test: SectionTest })[];
  readonly files: readonly (PlannedSection & { readonly test: SectionTest })[];
  readonly nestedFiles: ReadonlyMap<ApacheSection, readonly (PlannedSection & { readonly test: SectionTest })[]>;
  readonly locations: readonly (PlannedSection & { readonly test: SectionTest })[];
  /** False when no section looks at the file path (then the URI alone decides). */
  readonly needsFilePath: boolean;
}

const plans = new WeakMap<ApacheServer, MergePlan>();

function mergePlan(main: ApacheServer, server: ApacheServer): MergePlan {
  const cached = plans.get(server);
  if (cached && cached.main === main) return cached;
  const tagged = (s: ApacheServer, from: 'main' | 'vhost'): PlannedSection[] => s.sections.map((section) => ({ section, from }));
  const all = server.isMain ? tagged(main, 'main') : [...tagged(main, 'main'), ...tagged(server, 'vhost')];
  // Directory: shortest first (stable: main server's before the vhost's, then config order).
  const directories = all.filter((t) => t.section.kind === 'Directory')
    .map((t, index) => ({ ...t, index, components: componentCount(t.section.pattern), test: directoryTest(t.section.pattern) }))
    .sort((a, b) => a.components - b.components || a.index - b.index);
  const directoryMatches = all.filter((t) => t.section.kind === 'DirectoryMatch').map((t) => ({ ...t, test: regexTest(t.section.pattern) }));
  const files = all.filter((t) => t.section.kind === 'Files' || t.section.kind === 'FilesMatch').map((t) => ({ ...t, test: filesTest(t.section) }));
  const nestedFiles = new Map<ApacheSection, (PlannedSection & { test: SectionTest })[]>();
  for (const t of [...directories, ...directoryMatches]) {
    if (t.section.nested.length) nestedFiles.set(t.section, t.section.nested.map((section) => ({ section, from: t.from, test: filesTest(section) })));
  }
  const locations = all.filter((t) => t.section.kind === 'Location' || t.section.kind === 'LocationMatch').map((t) => ({ ...t, test: locationTest(t.section) }));
  const plan: MergePlan = { main, directories, directoryMatches, files, nestedFiles, locations, needsFilePath: directories.length + directoryMatches.length + files.length > 0 };
  plans.set(server, plan);
  return plan;
}

/**
 * The sections that apply to a request, in httpd's merge order: <Directory> shortest first, then
 * <DirectoryMatch>, then <Files>/<FilesMatch> (the server's, then those nested in the matched
 * directories), then <Location>/<LocationMatch> in file order, main server's first.
 */
export function mergeSections(config: Pick<ApacheConfig, 'main'>, server: ApacheServer, uri: string, filePath: string): AppliedSection[] {
  const plan = mergePlan(config.main, server);
  const out: AppliedSection[] = [];
  if (plan.needsFilePath) {
    const isDir = filePath.endsWith('/');
    const dirs = (isDir ? filePath : posix.dirname(filePath)).split('/').filter(Boolean);
    const matchedDirs: ApacheSection[] = [];
    for (const t of plan.directories) {
      if (t.test(dirs)) { out.push({ section: t.section, from: t.from, phase: 'Directory' }); matchedDirs.push(t.section); }
    }
    for (const t of plan.directoryMatches) {
      if (t.test(filePath)) { out.push({ section: t.section, from: t.from, phase: 'DirectoryMatch' }); matchedDirs.push(t.section); }
    }
    const base = isDir ? '' : posix.basename(filePath);
    for (const t of [...plan.files, ...matchedDirs.flatMap((d) => plan.nestedFiles.get(d) ?? [])]) {
      if (t.test(base)) out.push({ section: t.section, from: t.from, phase: 'Files' });
    }
  }
  for (const t of plan.locations) if (t.test(uri)) out.push({ section: t.section, from: t.from, phase: 'Location' });
  return out;
}

/**
 * The merged sections for a URI without looking at the file system (every directory on the path is
 * assumed to exist): what mapRequest does without `stat`, and what `hatter serve` routes with. The file
 * name is computed only when a <Directory> or <Files> section could look at it.
 */
export function sectionsForUri(config: Pick<ApacheConfig, 'main'>, server: ApacheServer, uri: string, options: MapOptions = {}): AppliedSection[] {
  const filePath = mergePlan(config.main, server).needsFilePath ? mapUriToFile(config, server, uri, options).filePath : uri;
  return mergeSections(config, server, uri, filePath);
}

/** The last merged section that sets AAHatName: mod_apparmor registers no merger, so it replaces the rest. */
export function hatSectionOf(sections: readonly AppliedSection[]): AppliedSection | undefined {
  for (let i = sections.length - 1; i >= 0; i--) if (sections[i]!.section.hatName !== undefined) return sections[i];
  return undefined;
}

function parseTarget(target: RequestTarget): { path: string; host?: string; port: number; scheme: string } | { error: string } {
  const url = target.url.trim();
  if (url.startsWith('/')) {
    return { path: url, ...(target.host !== undefined ? { host: target.host } : {}), port: target.port ?? 80, scheme: 'http' };
  }
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!m) return { error: `'${truncate(url)}' is neither an absolute http(s) URL nor a path starting with '/'` };
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!.replace(/^[^@]*@/, '');
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (!hp) return { error: `cannot read the host in '${truncate(url)}'` };
  const port = target.port ?? (hp[2] ? Number(hp[2]) : scheme === 'https' ? 443 : 80);
  const path = m[3] === '' ? '/' : m[3]!;
  if (!path.startsWith('/')) return { error: `'${truncate(url)}' has no path` };
  return { path, host: target.host ?? authority, port, scheme };
}

/** Everything mod_apparmor needs for one request, or the error httpd would answer with. */
export function mapRequest(config: ApacheConfig, target: RequestTarget, options: MapOptions = {}): RequestMappingResult {
  const parsed = parseTarget(target);
  if ('error' in parsed) return { ok: false, status: 400, reason: parsed.error };
  const host = normalizeHost(parsed.host ?? '');
  if (host === undefined) return { ok: false, status: 400, reason: `malformed Host '${truncate(parsed.host ?? '')}' (httpd's fix_hostname refuses it)` };
  const localAddress = target.localAddress ?? (isIpLiteral(host) ? host : undefined);
  const choice = selectVirtualHost(config, { ...(parsed.host !== undefined ? { host } : {}), ...(localAddress !== undefined ? { localAddress } : {}), port: parsed.port }, options);
  const serverName = effectiveServerName(config, choice.server, options);
  const normalized = normalizeUri(parsed.path);
  if (!normalized.ok) return { ok: false, status: normalized.status, reason: normalized.reason, vhost: choice.server, serverName };
  const uri = normalized.uri;
  const mappedFile = mapUriToFile(config, choice.server, uri, options);
  const alias = mappedFile.alias;
  const notes: string[] = [];
  let filePath = mappedFile.filePath;
  let pathInfo: string | undefined;
  if (options.stat && options.stat(mappedFile.root) !== 'directory') {
    notes.push(`${mappedFile.root} does not exist here: every directory on the path is assumed to exist`);
  } else if (options.stat) {
    const walked = directoryWalk(filePath, options.stat);
    if (walked.pathInfo) notes.push(`${walked.filePath} is ${options.stat(walked.filePath.replace(/(.)\/$/, '$1')) === 'file' ? 'a file' : 'missing'}: the directory walk stops there (PATH_INFO ${walked.pathInfo})`);
    filePath = walked.filePath;
    pathInfo = walked.pathInfo;
  }
  const sections = mergeSections(config, choice.server, uri, filePath);
  const hatSection = hatSectionOf(sections);
  if (config.listens.length > 0 && !config.listens.some((l) => l.port === parsed.port)) {
    notes.push(`no Listen directive for port ${parsed.port}: httpd would not receive this request`);
  }
  if (!choice.server.isMain && choice.server.defaultHatName === undefined && config.main.defaultHatName !== undefined) {
    notes.push(`the main server's AADefaultHatName '${config.main.defaultHatName}' is not inherited by virtual hosts`);
  }
  const vectorInput: HatVectorInput = {
    ...(hatSection?.section.hatName !== undefined ? { hatName: hatSection.section.hatName } : {}),
    ...(choice.server.defaultHatName !== undefined ? { defaultHatName: choice.server.defaultHatName } : {}),
    serverName,
    uri,
  };
  return {
    ok: true,
    vhost: choice.server,
    vhostChoice: choice,
    serverName,
    uri,
    filePath,
    ...(pathInfo ? { pathInfo } : {}),
    ...(alias ? { alias } : {}),
    sections,
    ...(hatSection ? { hatSection } : {}),
    vectorInput,
    notes,
  };
}
