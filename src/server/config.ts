// hatter.yaml: the server's configuration model and its validating loader. Pure apart from the text it is
// given: every problem is a Diagnostic with file:line:col, never a throw. Relative paths resolve against
// the configuration file's directory.
import { isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair, type YAMLMap } from 'yaml';
import type { Diagnostic } from '../policy/index.js';
import type { ApacheServer } from '../web/index.js';
import { HANDLER_TYPES, type HandlerConfig } from './handler.js';

export type BackendChoice = 'auto' | 'apparmor' | 'landlock' | 'none';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'apparmor', 'landlock', 'none'];

export type FrontMode = 'handoff' | 'strict';
export type HatOrderChoice = 'current' | '2.8.95';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface PoolSettings {
  /** Workers kept running even when idle. */
  readonly min: number;
  /** Upper bound on workers of one pool. */
  readonly max: number;
  /** A worker is recycled after this many requests (0 = never). */
  readonly maxRequests: number;
  /** Connections or requests waiting for a worker; beyond this, 503 with Retry-After. */
  readonly queue: number;
  /** Per-request timeout: 504 and the worker is replaced. */
  readonly requestTimeoutMs: number;
  /** Connections one worker serves at once in handoff mode (its concurrency). */
  readonly connectionsPerWorker: number;
  /** Connections one client address (IPv4, or IPv6 /64) holds in one pool at once; beyond: 429. */
  readonly maxConnectionsPerClient: number;
}

export interface FrontSettings {
  readonly mode: FrontMode;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  /** Slow-client limit: the whole request head must arrive within this time. */
  readonly headerTimeoutMs: number;
  /** An idle keep-alive connection is closed after this time. */
  readonly idleTimeoutMs: number;
  /** Connections the front holds at once (before hand-off, or given back idle); beyond: the oldest idle is shed, else 503. */
  readonly maxConnections: number;
  /** Connections one client address (IPv4, or IPv6 /64) has open in the front at once; beyond: 429. */
  readonly maxConnectionsPerClient: number;
  /** Workers answer bodiless GET and HEAD for PHP on the raw socket (raw-lane.ts) instead of node:http. */
  readonly fastLane: boolean;
}

export type LocationMatch =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'regex'; readonly pattern: string };

export interface LocationConfig {
  readonly match: LocationMatch;
  /** AAHatName for this location. */
  readonly hat?: string;
  readonly handler?: HandlerConfig;
}

export interface SiteConfig {
  readonly serverName: string;
  readonly aliases: readonly string[];
  readonly documentRoot: string;
  /** AADefaultHatName; without it the ServerName is the default hat (mod_apparmor). */
  readonly defaultHat?: string;
  /** The site's handler where no location sets one; default: static files from documentRoot. */
  readonly handler: HandlerConfig;
  /** In file order; the last matching location that sets a field wins (Apache's <Location> merging). */
  readonly locations: readonly LocationConfig[];
  /** The user (name or uid) the site's workers run as; honoured only when the supervisor runs as root. */
  readonly user?: string | number;
  /** The group (name or gid) the site's workers run as; honoured only when the supervisor runs as root. */
  readonly group?: string | number;
  /**
   * `serve --apache`: the <VirtualHost> (or main server) this site was read from and the main server
   * around it. Routing then merges their sections and aliases exactly as `hatter which-hat` does, and
   * `locations` is empty.
   */
  readonly apache?: { readonly main: ApacheServer; readonly vhost: ApacheServer };
}

export interface PolicyConfig {
  /** apparmor.d policy file with the parent profile and its hats; absent: hats are the configured names. */
  readonly file?: string;
  /** Parent profile name (the label's first part). */
  readonly profile: string;
}

export interface ServeConfig {
  /** Where the configuration came from (for messages). */
  readonly source: string;
  readonly configDir: string;
  readonly listen: readonly ListenAddress[];
  readonly admin: ListenAddress | null;
  readonly policy: PolicyConfig;
  /**
   * landlock.allowWidening: hat rules (`FILE:LINE`, the file by a trailing part of its path, or the
   * rule's path pattern) the Landlock backend may grant more widely than written; every other rule it
   * cannot keep exactly is narrowed.
   */
  readonly landlock?: { readonly allowWidening: readonly string[] };
  readonly backend: BackendChoice;
  readonly hatOrder: HatOrderChoice;
  readonly front: FrontSettings;
  readonly pool: PoolSettings;
  /** 'stdout', 'off', or an absolute file path (JSON lines). */
  readonly accessLog: string;
  /** SIGTERM: connections get this long to finish before workers are killed. */
  readonly drainTimeoutMs: number;
  /** The PHP-FPM masters hatter starts for `phpFpm: true` handlers. */
  readonly phpFpm: PhpFpmSettings;
  readonly sites: readonly SiteConfig[];
}

export interface PhpFpmSettings {
  /**
   * How long a master may take to listen on its socket before serve gives up (serve/php-fpm-failed).
   * A master that exits is reported at once; this only bounds one that neither listens nor exits.
   */
  readonly startTimeoutMs: number;
}

/** A master listens within a second on an idle host; an emulated or very busy one needs far longer. */
export const DEFAULT_PHP_FPM: PhpFpmSettings = { startTimeoutMs: 30_000 };
/** One hour: beyond that a master is hung, not slow. */
export const MAX_PHP_FPM_START_TIMEOUT_MS = 3_600_000;
export const DEFAULT_POOL: PoolSettings = { min: 1, max: 4, maxRequests: 0, queue: 256, requestTimeoutMs: 30_000, connectionsPerWorker: 256, maxConnectionsPerClient: 64 };
export const DEFAULT_FRONT: FrontSettings = {
  mode: 'handoff', maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 * 1024, headerTimeoutMs: 10_000, idleTimeoutMs: 60_000, fastLane: true,
  // Below the usual open-file limit of 1024, so the front refuses (or sheds) before accept() fails.
  maxConnections: 1000, maxConnectionsPerClient: 64,
};
export const DEFAULT_LISTEN: ListenAddress = { host: '127.0.0.1', port: 8080 };
export const DEFAULT_ADMIN: ListenAddress = { host: '127.0.0.1', port: 8081 };
export const DEFAULT_PROFILE = 'hatter';

/**
 * What the configuration names on this host, for the checks that need more than the text: directories
 * and files that must exist, accounts that must be known. Given to parseServeConfig by the loader
 * (config-environment.ts) so that a configuration that cannot serve is refused before anything starts.
 */
export interface ConfigEnvironment {
  /** What is at `path` (following symlinks): undefined when nothing is there (or it cannot be seen). */
  kindOf(path: string): 'directory' | 'file' | 'other' | undefined;
  /** Whether a user (group) name is known to the host's account database. */
  userExists(name: string): boolean;
  groupExists(name: string): boolean;
}

export interface LoadResult {
  readonly config?: ServeConfig;
  readonly diagnostics: readonly Diagnostic[];
}

/** `HOST:PORT`, `[v6]:PORT` or `PORT`. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const trimmed = text.trim();
  let host = '127.0.0.1';
  let portText = trimmed;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (v6) { host = v6[1]!; portText = v6[2]!; }
  else if (trimmed.includes(':')) {
    const at = trimmed.lastIndexOf(':');
    host = trimmed.slice(0, at);
    portText = trimmed.slice(at + 1);
  }
  if (!/^\d{1,5}$/.test(portText) || host === '') return undefined;
  const port = Number(portText);
  if (port > 65535) return undefined;
  return { host, port };
}

export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}

export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) { best = candidate; bestDistance = distance; }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const TOP_KEYS = ['listen', 'admin', 'policy', 'backend', 'hatOrder', 'front', 'pool', 'accessLog', 'drainTimeoutMs', 'phpFpm', 'landlock', 'sites'] as const;
const PHP_FPM_KEYS = ['startTimeoutMs'] as const;
const LANDLOCK_KEYS = ['allowWidening'] as const;
const POLICY_KEYS = ['file', 'profile'] as const;
const FRONT_KEYS = ['mode', 'maxHeaderBytes', 'maxBodyBytes', 'headerTimeoutMs', 'idleTimeoutMs', 'maxConnections', 'maxConnectionsPerClient', 'fastLane'] as const;
const POOL_KEYS = ['min', 'max', 'maxRequests', 'queue', 'requestTimeoutMs', 'connectionsPerWorker', 'maxConnectionsPerClient'] as const;
const SITE_KEYS = ['serverName', 'aliases', 'documentRoot', 'defaultHat', 'handler', 'locations', 'user', 'group'] as const;

/** A user or group: a name (as in /etc/passwd) or a number. */
function readAccount(r: Reader, node: YamlNode | null | undefined, what: string): string | number | undefined {
  if (isScalar(node) && typeof node.value === 'number') return r.integer(node, what, 0, 4_294_967_294);
  const name = r.string(node, what);
  if (name !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(name)) {
    r.at(node, 'serve-config/invalid-account', `${what} '${name}' is not a user or group name (or a number)`);
    return undefined;
  }
  return name;
}
const LOCATION_KEYS = ['prefix', 'regex', 'hat', 'handler'] as const;
const HANDLER_KEYS: Record<HandlerConfig['type'], readonly string[]> = {
  static: ['type', 'root', 'index'],
  node: ['type', 'module'],
  cgi: ['type', 'root', 'timeoutMs'],
  fastcgi: ['type', 'address', 'phpFpm', 'children', 'connections', 'root', 'index', 'timeoutMs'],
};

/** A hat name the kernel can take: non-empty, no NUL, no `//`, shorter than PATH_MAX. */
export function validHatName(name: string): boolean {
  return name.length > 0 && name.length < 4096 && !name.includes('\0') && !name.includes('//') && !/^\s|\s$/.test(name);
}

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  private readonly lines = new LineCounter();

  constructor(readonly file: string, readonly configDir: string, readonly lineCounter: LineCounter, readonly environment?: ConfigEnvironment) {
    this.lines = lineCounter;
  }

  /** A path that must be a directory (or a file) on this host: diagnosed at its value when it is not. */
  exists(node: YamlNode | null | undefined, path: string | undefined, what: string, kind: 'directory' | 'file'): void {
    if (path === undefined || !this.environment) return;
    const found = this.environment.kindOf(path);
    if (found === kind) return;
    const code = kind === 'directory' ? 'serve-config/missing-directory' : 'serve-config/missing-file';
    this.at(node, code, found === undefined ? `${what} '${path}' does not exist` : `${what} '${path}' is not a ${kind}`);
  }

  /** A user or group name that must be known to this host (numbers need not be). */
  account(node: YamlNode | null | undefined, value: string | number | undefined, what: string, database: 'user' | 'group'): void {
    if (typeof value !== 'string' || !this.environment) return;
    const known = database === 'user' ? this.environment.userExists(value) : this.environment.groupExists(value);
    if (!known) this.at(node, `serve-config/unknown-${database}`, `${what} '${value}' is not a ${database} on this host (${database === 'user' ? '/etc/passwd' : '/etc/group'})`);
  }

  at(node: YamlNode | Pair | null | undefined, code: string, message: string, hint?: string, severity: Diagnostic['severity'] = 'error'): void {
    const offset = offsetOf(node);
    const { line, col } = this.lines.linePos(offset);
    this.diagnostics.push({ file: this.file, line, col, offset, code, severity, message, ...(hint ? { hint } : {}) });
  }

  /** Report keys not in `known`, with a "did you mean" hint. */
  keys(map: YAMLMap, known: readonly string[], where: string): void {
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) { this.at(pair.key as YamlNode, 'serve-config/invalid-key', `${where}: keys must be plain names`); continue; }
      if (!known.includes(key)) {
        const near = nearestName(key, known);
        this.at(pair.key as YamlNode, 'serve-config/unknown-key', `${where}: unknown key '${key}'`, near ? `did you mean '${near}'?` : `known keys: ${known.join(', ')}`);
      }
    }
    const seen = new Set<string>();
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (seen.has(key)) this.at(pair.key as YamlNode, 'serve-config/duplicate-key', `${where}: '${key}' is set twice`);
      seen.add(key);
    }
  }

  string(node: YamlNode | null | undefined, what: string): string | undefined {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') && String(node.value) !== '') return String(node.value);
    this.at(node, 'serve-config/expected-string', `${what} must be a non-empty string`);
    return undefined;
  }

  integer(node: YamlNode | null | undefined, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value) && node.value >= min && node.value <= max) return node.value;
    this.at(node, 'serve-config/expected-integer', `${what} must be an integer from ${min} to ${max}`);
    return undefined;
  }

  boolean(node: YamlNode | null | undefined, what: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.at(node, 'serve-config/expected-boolean', `${what} must be true or false`);
    return undefined;
  }

  path(node: YamlNode | null | undefined, what: string): string | undefined {
    const text = this.string(node, what);
    if (text === undefined) return undefined;
    return isAbsolute(text) ? resolve(text) : resolve(this.configDir, text);
  }

  oneOf<T extends string>(node: YamlNode | null | undefined, what: string, choices: readonly T[]): T | undefined {
    if (isScalar(node) && typeof node.value === 'string' && (choices as readonly string[]).includes(node.value)) return node.value as T;
    const value = isScalar(node) ? String(node.value) : '';
    const near = value ? nearestName(value, choices) : undefined;
    this.at(node, 'serve-config/invalid-value', `${what} must be one of ${choices.join(', ')}`, near ? `did you mean '${near}'?` : undefined);
    return undefined;
  }

  map(node: YamlNode | null | undefined, what: string): YAMLMap | undefined {
    if (isMap(node)) return node as YAMLMap;
    this.at(node, 'serve-config/expected-map', `${what} must be a mapping`);
    return undefined;
  }
}

function offsetOf(node: YamlNode | Pair | null | undefined): number {
  if (!node) return 0;
  const range = (node as { range?: [number, number, number] }).range;
  if (range) return range[0];
  const key = (node as Pair).key as YamlNode | undefined;
  if (key && (key as { range?: [number, number, number] }).range) return (key as { range: [number, number, number] }).range[0];
  return 0;
}

function get(map: YAMLMap, key: string): YamlNode | undefined {
  for (const pair of map.items) if (isScalar(pair.key) && pair.key.value === key) return (pair.value ?? undefined) as YamlNode | undefined;
  return undefined;
}

function has(map: YAMLMap, key: string): boolean {
  return map.items.some((pair) => isScalar(pair.key) && pair.key.value === key);
}

function readHandler(r: Reader, node: YamlNode | undefined, where: string): HandlerConfig | undefined {
  const map = r.map(node, `${where}.handler`);
  if (!map) return undefined;
  const type = r.oneOf(get(map, 'type'), `${where}.handler.type`, HANDLER_TYPES);
  if (!type) return undefined;
  r.keys(map, HANDLER_KEYS[type], `${where}.handler (${type})`);
  const need = (key: string): YamlNode | undefined => {
    if (!has(map, key)) { r.at(map, 'serve-config/missing-key', `${where}.handler (${type}) needs '${key}'`); return undefined; }
    return get(map, key);
  };
  switch (type) {
    case 'static': {
      const root = r.path(need('root'), `${where}.handler.root`);
      r.exists(get(map, 'root'), root, `${where}.handler.root`, 'directory');
      let index: string[] | undefined;
      if (has(map, 'index')) index = readStringList(r, get(map, 'index'), `${where}.handler.index`);
      return root === undefined ? undefined : { type, root, ...(index ? { index } : {}) };
    }
    case 'node': {
      const module = r.path(need('module'), `${where}.handler.module`);
      r.exists(get(map, 'module'), module, `${where}.handler.module`, 'file');
      return module === undefined ? undefined : { type, module };
    }
    case 'cgi': {
      const root = r.path(need('root'), `${where}.handler.root`);
      r.exists(get(map, 'root'), root, `${where}.handler.root`, 'directory');
      const timeoutMs = has(map, 'timeoutMs') ? r.integer(get(map, 'timeoutMs'), `${where}.handler.timeoutMs`, 1) : undefined;
      return root === undefined ? undefined : { type, root, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
    }
    case 'fastcgi': {
      const root = r.path(need('root'), `${where}.handler.root`);
      let address: string | undefined;
      let phpFpm: boolean | undefined;
      if (has(map, 'address')) {
        address = r.string(get(map, 'address'), `${where}.handler.address`);
        if (address !== undefined && address.startsWith('unix:')) {
          const path = address.slice(5);
          address = `unix:${isAbsolute(path) ? path : resolve(r.configDir, path)}`;
        } else if (address !== undefined && !parseListenAddress(address)) {
          r.at(get(map, 'address'), 'serve-config/invalid-address', `${where}.handler.address must be unix:/path or host:port`);
        }
      }
      if (has(map, 'phpFpm')) phpFpm = r.boolean(get(map, 'phpFpm'), `${where}.handler.phpFpm`);
      if (address === undefined && phpFpm !== true) r.at(map, 'serve-config/missing-key', `${where}.handler (fastcgi) needs 'address' or 'phpFpm: true'`);
      const index = has(map, 'index') ? r.string(get(map, 'index'), `${where}.handler.index`) : undefined;
      const timeoutMs = has(map, 'timeoutMs') ? r.integer(get(map, 'timeoutMs'), `${where}.handler.timeoutMs`, 1) : undefined;
      const children = has(map, 'children') ? r.integer(get(map, 'children'), `${where}.handler.children`, 1, 1024) : undefined;
      if (children !== undefined && phpFpm !== true) r.at(get(map, 'children'), 'serve-config/invalid-value', `${where}.handler.children only applies with 'phpFpm: true'`);
      const connections = has(map, 'connections') ? r.integer(get(map, 'connections'), `${where}.handler.connections`, 1, 1024) : undefined;
      if (root === undefined) return undefined;
      return {
        type, root, ...(address !== undefined ? { address } : {}), ...(phpFpm !== undefined ? { phpFpm } : {}),
        ...(children !== undefined ? { children } : {}), ...(connections !== undefined ? { connections } : {}),
        ...(index !== undefined ? { index } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      };
    }
  }
}

function readStringList(r: Reader, node: YamlNode | undefined, what: string): string[] | undefined {
  if (isScalar(node)) { const one = r.string(node, what); return one === undefined ? undefined : [one]; }
  if (!isSeq(node)) { r.at(node, 'serve-config/expected-list', `${what} must be a list of strings`); return undefined; }
  const out: string[] = [];
  for (const item of node.items) { const value = r.string(item as YamlNode, `${what} entries`); if (value !== undefined) out.push(value); }
  return out;
}

function readHat(r: Reader, node: YamlNode | undefined, what: string): string | undefined {
  const name = r.string(node, what);
  if (name !== undefined && !validHatName(name)) { r.at(node, 'serve-config/invalid-hat', `${what} '${name}' is not a valid hat name (no '//', NUL or surrounding spaces)`); return undefined; }
  return name;
}

function readListen(r: Reader, node: YamlNode | undefined, what: string): ListenAddress | undefined {
  const text = r.string(node, what);
  if (text === undefined) return undefined;
  const address = parseListenAddress(text);
  if (!address) r.at(node, 'serve-config/invalid-address', `${what} '${text}' is not HOST:PORT`);
  return address;
}

const hostnamePattern = /^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/i;

function readSite(r: Reader, node: YamlNode, index: number): SiteConfig | undefined {
  const where = `sites[${index}]`;
  const map = r.map(node, where);
  if (!map) return undefined;
  r.keys(map, SITE_KEYS, where);
  if (!has(map, 'serverName')) { r.at(map, 'serve-config/missing-key', `${where} needs 'serverName'`); return undefined; }
  const serverName = r.string(get(map, 'serverName'), `${where}.serverName`);
  if (serverName !== undefined && !hostnamePattern.test(serverName)) r.at(get(map, 'serverName'), 'serve-config/invalid-server-name', `${where}.serverName '${serverName}' is not a host name`);
  const aliases = has(map, 'aliases') ? readStringList(r, get(map, 'aliases'), `${where}.aliases`) ?? [] : [];
  if (!has(map, 'documentRoot')) { r.at(map, 'serve-config/missing-key', `${where} needs 'documentRoot'`); return undefined; }
  const documentRoot = r.path(get(map, 'documentRoot'), `${where}.documentRoot`);
  r.exists(get(map, 'documentRoot'), documentRoot, `${where}.documentRoot`, 'directory');
  const defaultHat = has(map, 'defaultHat') ? readHat(r, get(map, 'defaultHat'), `${where}.defaultHat`) : undefined;
  let handler: HandlerConfig | undefined;
  if (has(map, 'handler')) handler = readHandler(r, get(map, 'handler'), where);
  const locations: LocationConfig[] = [];
  if (has(map, 'locations')) {
    const seq = get(map, 'locations');
    if (!isSeq(seq)) r.at(seq, 'serve-config/expected-list', `${where}.locations must be a list`);
    else seq.items.forEach((item, i) => {
      const location = readLocation(r, item as YamlNode, `${where}.locations[${i}]`);
      if (location) locations.push(location);
    });
  }
  const user = has(map, 'user') ? readAccount(r, get(map, 'user'), `${where}.user`) : undefined;
  const group = has(map, 'group') ? readAccount(r, get(map, 'group'), `${where}.group`) : undefined;
  r.account(get(map, 'user'), user, `${where}.user`, 'user');
  r.account(get(map, 'group'), group, `${where}.group`, 'group');
  if (serverName === undefined || documentRoot === undefined) return undefined;
  return {
    ...(user !== undefined ? { user } : {}),
    ...(group !== undefined ? { group } : {}),
    serverName: serverName.toLowerCase(),
    aliases: aliases.map((a) => a.toLowerCase()),
    documentRoot,
    ...(defaultHat !== undefined ? { defaultHat } : {}),
    handler: handler ?? { type: 'static', root: documentRoot },
    locations,
  };
}

function readLocation(r: Reader, node: YamlNode, where: string): LocationConfig | undefined {
  const map = r.map(node, where);
  if (!map) return undefined;
  r.keys(map, LOCATION_KEYS, where);
  let match: LocationMatch | undefined;
  if (has(map, 'prefix') && has(map, 'regex')) r.at(map, 'serve-config/conflicting-keys', `${where} sets both 'prefix' and 'regex'`);
  else if (has(map, 'prefix')) {
    const prefix = r.string(get(map, 'prefix'), `${where}.prefix`);
    if (prefix !== undefined && !prefix.startsWith('/')) r.at(get(map, 'prefix'), 'serve-config/invalid-prefix', `${where}.prefix must start with '/'`);
    else if (prefix !== undefined) match = { kind: 'prefix', prefix };
  } else if (has(map, 'regex')) {
    const pattern = r.string(get(map, 'regex'), `${where}.regex`);
    if (pattern !== undefined) {
      try { new RegExp(pattern); match = { kind: 'regex', pattern }; }
      catch (error) { r.at(get(map, 'regex'), 'serve-config/invalid-regex', `${where}.regex does not compile: ${(error as Error).message}`); }
    }
  } else r.at(map, 'serve-config/missing-key', `${where} needs 'prefix' or 'regex'`);
  const hat = has(map, 'hat') ? readHat(r, get(map, 'hat'), `${where}.hat`) : undefined;
  const handler = has(map, 'handler') ? readHandler(r, get(map, 'handler'), where) : undefined;
  if (!match) return undefined;
  return { match, ...(hat !== undefined ? { hat } : {}), ...(handler ? { handler } : {}) };
}

/**
 * Parse and validate hatter.yaml text. `file` is used in diagnostics and to resolve relative paths.
 * With an `environment`, paths and accounts the configuration names are checked on this host too.
 */
export function parseServeConfig(text: string, file: string, environment?: ConfigEnvironment): LoadResult {
  const configDir = resolve(file, '..');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const r = new Reader(file, configDir, lineCounter, environment);
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    r.diagnostics.push({ file, line, col, offset: error.pos[0], code: 'serve-config/yaml-syntax', severity: 'error', message: error.message.split('\n')[0]! });
  }
  if (doc.errors.length) return { diagnostics: r.diagnostics };
  const root = r.map(doc.contents as YamlNode, 'the configuration');
  if (!root) return { diagnostics: r.diagnostics };
  r.keys(root, TOP_KEYS, 'hatter.yaml');

  let listen: ListenAddress[] = [DEFAULT_LISTEN];
  if (has(root, 'listen')) {
    const node = get(root, 'listen');
    const items = isSeq(node) ? node.items as YamlNode[] : [node];
    listen = items.map((item) => readListen(r, item, 'listen')).filter((a): a is ListenAddress => a !== undefined);
    if (listen.length === 0 && isSeq(node)) r.at(node, 'serve-config/no-listen', 'listen needs at least one address');
  }
  let admin: ListenAddress | null = DEFAULT_ADMIN;
  if (has(root, 'admin')) {
    const node = get(root, 'admin');
    if (isScalar(node) && (node.value === null || node.value === false || node.value === 'off')) admin = null;
    else admin = readListen(r, node, 'admin') ?? null;
  }
  let policy: PolicyConfig = { profile: DEFAULT_PROFILE };
  if (has(root, 'policy')) {
    const map = r.map(get(root, 'policy'), 'policy');
    if (map) {
      r.keys(map, POLICY_KEYS, 'policy');
      const file = has(map, 'file') ? r.path(get(map, 'file'), 'policy.file') : undefined;
      const profile = has(map, 'profile') ? r.string(get(map, 'profile'), 'policy.profile') : undefined;
      policy = { profile: profile ?? DEFAULT_PROFILE, ...(file ? { file } : {}) };
    }
  }
  const backend = has(root, 'backend') ? r.oneOf(get(root, 'backend'), 'backend', BACKEND_CHOICES) ?? 'auto' : 'auto';
  const hatOrder = has(root, 'hatOrder') ? r.oneOf<HatOrderChoice>(get(root, 'hatOrder'), 'hatOrder', ['current', '2.8.95']) ?? 'current' : 'current';

  const front: { -readonly [K in keyof FrontSettings]: FrontSettings[K] } = { ...DEFAULT_FRONT };
  if (has(root, 'front')) {
    const map = r.map(get(root, 'front'), 'front');
    if (map) {
      r.keys(map, FRONT_KEYS, 'front');
      if (has(map, 'mode')) front.mode = r.oneOf<FrontMode>(get(map, 'mode'), 'front.mode', ['handoff', 'strict']) ?? front.mode;
      if (has(map, 'maxHeaderBytes')) front.maxHeaderBytes = r.integer(get(map, 'maxHeaderBytes'), 'front.maxHeaderBytes', 256, 1024 * 1024) ?? front.maxHeaderBytes;
      if (has(map, 'maxBodyBytes')) front.maxBodyBytes = r.integer(get(map, 'maxBodyBytes'), 'front.maxBodyBytes', 0) ?? front.maxBodyBytes;
      if (has(map, 'headerTimeoutMs')) front.headerTimeoutMs = r.integer(get(map, 'headerTimeoutMs'), 'front.headerTimeoutMs', 1) ?? front.headerTimeoutMs;
      if (has(map, 'idleTimeoutMs')) front.idleTimeoutMs = r.integer(get(map, 'idleTimeoutMs'), 'front.idleTimeoutMs', 1) ?? front.idleTimeoutMs;
      if (has(map, 'maxConnections')) front.maxConnections = r.integer(get(map, 'maxConnections'), 'front.maxConnections', 1) ?? front.maxConnections;
      if (has(map, 'maxConnectionsPerClient')) front.maxConnectionsPerClient = r.integer(get(map, 'maxConnectionsPerClient'), 'front.maxConnectionsPerClient', 1) ?? front.maxConnectionsPerClient;
      if (has(map, 'fastLane')) front.fastLane = r.boolean(get(map, 'fastLane'), 'front.fastLane') ?? front.fastLane;
    }
  }
  const pool: { -readonly [K in keyof PoolSettings]: PoolSettings[K] } = { ...DEFAULT_POOL };
  if (has(root, 'pool')) {
    const map = r.map(get(root, 'pool'), 'pool');
    if (map) {
      r.keys(map, POOL_KEYS, 'pool');
      if (has(map, 'min')) pool.min = r.integer(get(map, 'min'), 'pool.min', 0, 1024) ?? pool.min;
      if (has(map, 'max')) pool.max = r.integer(get(map, 'max'), 'pool.max', 1, 1024) ?? pool.max;
      if (has(map, 'maxRequests')) pool.maxRequests = r.integer(get(map, 'maxRequests'), 'pool.maxRequests', 0) ?? pool.maxRequests;
      if (has(map, 'queue')) pool.queue = r.integer(get(map, 'queue'), 'pool.queue', 0) ?? pool.queue;
      if (has(map, 'requestTimeoutMs')) pool.requestTimeoutMs = r.integer(get(map, 'requestTimeoutMs'), 'pool.requestTimeoutMs', 1) ?? pool.requestTimeoutMs;
      if (has(map, 'connectionsPerWorker')) pool.connectionsPerWorker = r.integer(get(map, 'connectionsPerWorker'), 'pool.connectionsPerWorker', 1) ?? pool.connectionsPerWorker;
      if (has(map, 'maxConnectionsPerClient')) pool.maxConnectionsPerClient = r.integer(get(map, 'maxConnectionsPerClient'), 'pool.maxConnectionsPerClient', 1) ?? pool.maxConnectionsPerClient;
      if (pool.min > pool.max) r.at(map, 'serve-config/pool-bounds', `pool.min (${pool.min}) is larger than pool.max (${pool.max})`);
    }
  }
  let accessLog = 'stdout';
  if (has(root, 'accessLog')) {
    const node = get(root, 'accessLog');
    if (isScalar(node) && (node.value === false || node.value === 'off')) accessLog = 'off';
    else if (isScalar(node) && node.value === 'stdout') accessLog = 'stdout';
    else accessLog = r.path(node, 'accessLog') ?? 'stdout';
  }
  const allowWidening: string[] = [];
  if (has(root, 'landlock')) {
    const map = r.map(get(root, 'landlock'), 'landlock');
    if (map) {
      r.keys(map, LANDLOCK_KEYS, 'landlock');
      const seq = get(map, 'allowWidening');
      if (seq !== undefined && seq !== null && !isSeq(seq)) r.at(seq as YamlNode, 'serve-config/allow-widening', 'landlock.allowWidening must be a list of rules (FILE:LINE or a path pattern)');
      else if (seq) {
        for (const item of seq.items as YamlNode[]) {
          const text = r.string(item, 'landlock.allowWidening[]');
          if (text === undefined) continue;
          if (!/^\S+:\d+$/.test(text) && !text.startsWith('/')) r.at(item, 'serve-config/allow-widening', `'${text}' names no rule: use FILE:LINE (e.g. abstractions/base:172) or the rule's path pattern (starting with /)`);
          else allowWidening.push(text);
        }
      }
    }
  }
  const drainTimeoutMs = has(root, 'drainTimeoutMs') ? r.integer(get(root, 'drainTimeoutMs'), 'drainTimeoutMs', 0) ?? 10_000 : 10_000;
  const phpFpm: { -readonly [K in keyof PhpFpmSettings]: PhpFpmSettings[K] } = { ...DEFAULT_PHP_FPM };
  if (has(root, 'phpFpm')) {
    const map = r.map(get(root, 'phpFpm'), 'phpFpm');
    if (map) {
      r.keys(map, PHP_FPM_KEYS, 'phpFpm');
      if (has(map, 'startTimeoutMs')) phpFpm.startTimeoutMs = r.integer(get(map, 'startTimeoutMs'), 'phpFpm.startTimeoutMs', 1, MAX_PHP_FPM_START_TIMEOUT_MS) ?? phpFpm.startTimeoutMs;
    }
  }

  const sites: SiteConfig[] = [];
  if (!has(root, 'sites')) r.at(root, 'serve-config/no-sites', 'the configuration needs a non-empty `sites` list');
  else {
    const seq = get(root, 'sites');
    if (!isSeq(seq) || seq.items.length === 0) r.at(seq, 'serve-config/no-sites', '`sites` must be a non-empty list');
    else seq.items.forEach((item, i) => { const site = readSite(r, item as YamlNode, i); if (site) sites.push(site); });
  }
  const names = new Map<string, number>();
  if (isSeq(get(root, 'sites'))) {
    const seq = get(root, 'sites') as unknown as { items: YamlNode[] };
    sites.forEach((site, i) => {
      for (const name of [site.serverName, ...site.aliases]) {
        if (names.has(name) && names.get(name) !== i) r.at(seq.items[i], 'serve-config/duplicate-server-name', `server name '${name}' is used by sites[${names.get(name)}] and sites[${i}]`);
        names.set(name, i);
      }
    });
  }
  if (r.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: r.diagnostics };
  return {
    config: { source: file, configDir, listen, admin, policy, landlock: { allowWidening }, backend, hatOrder, front, pool, accessLog, drainTimeoutMs, phpFpm, sites },
    diagnostics: r.diagnostics,
  };
}
