// A hat's rules as Landlock grants. Landlock grants "this directory (or file) and everything beneath",
// with no globs, denies or owner conditions; every allow rule becomes a grant on the deepest literal
// directory (or file) covering it, and everything the grants allow beyond the hat is reported as widening.
import type { LandlockPathRule } from './launcher.js';
import { literalPattern, type PathMatcher, type WideningEntry, type WideningOracle } from './widening.js';
import type { HatFileRule, HatOtherRule, HatRules } from './hat-rules.js';
import type { SourceLocation } from '../policy/index.js';
import { grantedCapabilities, type GrantedCapabilities } from './capabilities.js';
import { grantedSockets, UNIX_SOCKETPAIR, type SocketGrant, type SocketPolicy } from './sockets.js';

export type RightClass = 'read' | 'write' | 'exec';
const CLASSES: readonly RightClass[] = ['read', 'write', 'exec'];

export type { WideningOracle } from './widening.js';

export interface TranslateOptions {
  readonly abi: number;
  /** Whether a path is a directory on this host (grants on directories cover everything beneath). */
  readonly isDirectory: (path: string) => boolean | undefined;
  /**
   * The real path (symlinks resolved) of an existing path. Grants go on real paths: that is what the
   * kernel checks, what AppArmor mediates, and the launcher refuses symlinks in rule paths.
   */
  readonly realpath?: (path: string) => string | undefined;
  /**
   * The entries of a directory, symlinks not followed: at most `max` (more means the walk stops), or
   * undefined when it cannot be read. Used to grant a glob exactly the existing paths it matches.
   */
  readonly list?: (dir: string, max: number) => readonly DirectoryEntry[] | undefined;
  readonly oracle?: WideningOracle;
  /** Grants the worker program needs beyond the hat (node, its libraries); widening only where beyond the hat. */
  readonly runtime?: readonly LandlockPathRule[];
  /** Capabilities and sockets the worker program needs beyond the hat. */
  readonly runtimeCapabilities?: readonly string[];
  readonly runtimeSockets?: readonly SocketGrant[];
  /**
   * Rules the configuration lets widen (landlock.allowWidening): `file:line` of the rule (the file may be
   * given by its trailing path, e.g. abstractions/base:172) or its path pattern as expanded. Any other
   * rule Landlock cannot keep exactly is narrowed.
   */
  readonly allowWidening?: readonly string[];
}

export interface DirectoryEntry {
  readonly name: string;
  readonly kind: 'dir' | 'file' | 'symlink' | 'other';
}

/** Bounds of the walk that expands a glob on the host: past them the rule is narrowed (not granted). */
export const EXPANSION_LIMITS = { entries: 10_000, depth: 32 } as const;

export interface HatTranslation {
  readonly paths: readonly LandlockPathRule[];
  readonly network?: { readonly bind: readonly number[]; readonly connect: readonly number[] };
  readonly scoped: boolean;
  readonly widening: readonly WideningEntry[];
  /** Hat rules granted less than they say (or nothing), because Landlock cannot express them exactly. */
  readonly narrowing: readonly WideningEntry[];
  /** Rights beneath the worker's own /proc/<pid> (from /proc/@{pid}/…, /proc/self/… rules), e.g. 'r'. */
  /**
   * Entries of the worker's own /proc/<pid> the launcher grants, as its -P arguments: `RIGHTS` for the
   * whole directory, `RIGHTS:/SUB` for one entry (`r:/maps`).
   */
  readonly ownProc?: readonly string[];
  /** For explain: which hat rules each grant came from. */
  readonly grants: readonly GrantOrigin[];
  /** What the launcher keeps (-C) and lets the worker create (-Y/-F) under every confining backend. */
  readonly capabilities: GrantedCapabilities;
  readonly sockets: SocketPolicy;
}

export interface GrantOrigin {
  readonly path: string;
  readonly rights: readonly RightClass[];
  readonly from: readonly { readonly pattern: string; readonly perms: string; readonly source: string; readonly exact: boolean }[];
}

const MAX_ALTERNATIONS = 256;

/** Expand `{a,b}` alternations (nested); undefined when there would be too many. */
export function expandAlternations(pattern: string): string[] | undefined {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (c === '{') { if (depth++ === 0) open = i; }
    else if (c === '}' && depth > 0 && --depth === 0) {
      const inner = pattern.slice(open + 1, i);
      const options: string[] = [];
      let level = 0;
      let start = 0;
      for (let j = 0; j < inner.length; j++) {
        if (inner[j] === '\\') { j++; continue; }
        if (inner[j] === '{') level++;
        else if (inner[j] === '}') level--;
        else if (inner[j] === ',' && level === 0) { options.push(inner.slice(start, j)); start = j + 1; }
      }
      options.push(inner.slice(start));
      const results: string[] = [];
      for (const option of options) {
        const rest = expandAlternations(pattern.slice(0, open) + option + pattern.slice(i + 1));
        if (!rest) return undefined;
        results.push(...rest);
        if (results.length > MAX_ALTERNATIONS) return undefined;
      }
      return [...new Set(results)];
    }
  }
  return [pattern];
}

/** The deepest literal path covering a pattern without alternations, and whether the grant is exact. */
export function coveringPath(pattern: string): { path: string; literal: boolean } {
  const special = pattern.search(/[*?[{\\]/);
  if (special < 0) {
    const path = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
    return { path: path || '/', literal: true };
  }
  const prefix = pattern.slice(0, special);
  const slash = prefix.lastIndexOf('/');
  const dir = slash <= 0 ? '/' : prefix.slice(0, slash);
  return { path: dir, literal: false };
}

export function rightsOf(perms: string): RightClass[] {
  const rights: RightClass[] = [];
  if (perms.includes('r')) rights.push('read');
  if (/[wal]/.test(perms)) rights.push('write');
  if (/x/.test(perms)) rights.push('exec');
  return rights;
}

/** What the launcher actually grants for a class: -w includes reading, -x includes reading. */
function launcherClasses(rights: Iterable<RightClass>): Set<RightClass> {
  const set = new Set(rights);
  if (set.has('write') || set.has('exec')) set.add('read');
  return set;
}

function where(source: SourceLocation): string {
  return `${source.file}:${source.line}`;
}

function beneath(path: string, under: string): boolean {
  return under === '/' ? path.startsWith('/') : path === under || path.startsWith(`${under}/`);
}

/** localeCompare's order (ECMA-402 defines it as this collator's) without looking the collator up per call. */
const collator = new Intl.Collator();

/** Every `under` other than `path` itself with beneath(path, under): the prefixes that end before a slash, and `/`. */
function ancestors(path: string): string[] {
  const out = path.startsWith('/') && path !== '/' ? ['/'] : [];
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** Could a deny pattern name something beneath (or above) the grant's path? Conservative: yes when unsure. */
function overlapsGrant(pattern: string, path: string): boolean {
  const options = expandAlternations(pattern);
  if (!options) return true;
  return options.some((option) => {
    const cover = coveringPath(option).path;
    return beneath(cover, path) || beneath(path, cover);
  });
}

function networkAllowsTcp(rules: readonly HatOtherRule[]): boolean {
  return rules.some((rule) => rule.kind === 'network' && !rule.deny && (rule.words.length === 0
    || rule.words.every((w) => /^(inet6?|stream|tcp)$/.test(w.replace(/,$/, ''))) && !rule.words.some((w) => /^(dgram|raw|udp)$/.test(w))));
}

/** /proc/self/…, /proc/thread-self/… or /proc/<glob>/… (@{pid}, [1-9]*, *): the worker's own /proc entry at most. */
/**
 * Where an own-/proc pattern lands beneath /proc/<pid>: its literal sub-path ('' for the whole
 * directory). Only the entries the hat names are granted, so `/proc/@{pid}/maps` does not open
 * `/proc/self/net` (the machine's sockets) as the whole directory would.
 */
export function ownProcEntry(pattern: string): { path: string; literal: boolean } {
  const rest = pattern.replace(/^\/proc\/[^/]+/, '');
  if (rest === '' || rest === '/') return { path: '', literal: true };
  const cover = coveringPath(rest);
  const path = cover.path === '/' ? '' : cover.path;
  // '..' cannot climb out through the launcher (it refuses it); a rule naming it grants nothing here.
  return path.split('/').includes('..') ? { path: '/nonexistent', literal: true } : { path, literal: cover.literal };
}

export function isOwnProcPattern(pattern: string): boolean {
  const match = /^\/proc\/([^/]+)(\/|$)/.exec(pattern);
  if (!match) return false;
  const component = match[1]!;
  // self, a pid glob (@{pid}, [1-9]*), or any glob over /proc's entries (the own pid is all it keeps)
  return component === 'self' || component === 'thread-self' || /[*?[]/.test(component);
}

/** Is this rule named in landlock.allowWidening? */
export function wideningAllowed(rule: HatFileRule, allowed: readonly string[] | undefined): boolean {
  if (!allowed?.length) return false;
  return allowed.some((entry) => {
    if (entry === rule.pattern) return true;
    const at = entry.lastIndexOf(':');
    if (at <= 0 || String(rule.source.line) !== entry.slice(at + 1)) return false;
    const file = entry.slice(0, at);
    return rule.source.file === file || rule.source.file.endsWith(`/${file}`);
  });
}

type Expansion =
  | { readonly ok: true; readonly files: string[]; readonly beneath: string[]; readonly directories: string[]; readonly symlinks: string[] }
  | { readonly ok: false; readonly why: string };

/**
 * The existing paths beneath `root` (a real directory) a pattern matches, symlinks not followed (the
 * walk sees real paths, which is what AppArmor and the launcher check). Bounded: past the limits the
 * answer is "too big", never a partial list.
 */
export function expandOnHost(matcher: PathMatcher, root: string, list: NonNullable<TranslateOptions['list']>, limits = EXPANSION_LIMITS): Expansion {
  const found = { files: [] as string[], beneath: [] as string[], directories: [] as string[], symlinks: [] as string[] };
  let visited = 0;
  let why: string | undefined;
  const visit = (dir: string, depth: number): boolean => {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    if (matcher.coversAll(prefix)) { found.beneath.push(dir); return true; }
    if (matcher.matches(prefix)) found.directories.push(dir);
    if (!matcher.reachesBeyond(prefix)) return true;
    if (depth >= limits.depth) { why = `deeper than ${limits.depth} directories`; return false; }
    const entries = list(dir, limits.entries - visited);
    if (!entries) return true; // unreadable: nothing granted there
    for (const entry of entries) {
      if (++visited > limits.entries) { why = `more than ${limits.entries} entries`; return false; }
      const path = `${prefix}${entry.name}`;
      if (entry.kind === 'dir') { if (!visit(path, depth + 1)) return false; }
      else if (entry.kind === 'symlink') { if (matcher.matches(path) || matcher.reachesBeyond(`${path}/`)) found.symlinks.push(path); }
      else if (matcher.matches(path)) found.files.push(path);
    }
    return true;
  };
  return visit(root, 0) ? { ok: true, ...found } : { ok: false, why: why! };
}

export function translateHat(rules: HatRules, options: TranslateOptions): HatTranslation {
  const { abi } = options;
  const widening: WideningEntry[] = [];
  const narrowing: WideningEntry[] = [];
  /** Beneath the worker's own /proc/<pid>: sub-path ('' for all of it) → rights. */
  const ownProc = new Map<string, Set<RightClass>>();
  const optedIn = new Set<HatFileRule>();
  const grants = new Map<string, { rights: Set<RightClass>; from: { rule: HatFileRule; pattern: string; exact: boolean }[] }>();

  const allows = rules.files.filter((rule) => !rule.deny);
  const symlinkTargetAllowed = (real: string, isDir: boolean, rights: readonly RightClass[]): boolean => {
    if (!options.oracle) return true; // cannot tell without the AARE engine: granted, reported below as widening
    // The target is inside the hat when the hat allows it (a file) or something beneath it (a directory);
    // what the grant adds beyond that is then ordinary widening, computed below.
    const subject = [isDir ? `${real === '/' ? '' : literalPattern(real)}/{,**}` : literalPattern(real)];
    return rights.every((right) => {
      const allowed = rules.files.filter((r) => !r.deny && rightsOf(r.perms).includes(right)).map((r) => r.pattern);
      const denied = rules.files.filter((r) => r.deny && rightsOf(r.perms).includes(right)).map((r) => r.pattern);
      return options.oracle!.overlaps(subject, allowed, denied) !== false;
    });
  };
  // Would a grant on `path` (and beneath, for a directory) give any of `rights` beyond what the hat
  // allows? The hat's unconditional allow rules count (owner and other processes' /proc rules are not
  // granted as written); deny rules are reported as widening of their own below. Unsure: yes.
  const unconditional = allows.filter((rule) => !rule.owner && !isOwnProcPattern(rule.pattern));
  // Many rules share a covering directory (`/` for every `/**/…`): one answer per grant and right.
  const wider = new Map<string, boolean>();
  const widerThanHat = (path: string, isDir: boolean, rights: readonly RightClass[]): boolean => {
    if (!options.oracle) return true;
    const granted = isDir ? `${path === '/' ? '' : literalPattern(path)}/**` : literalPattern(path);
    return rights.some((right) => {
      const key = `${right}\0${granted}`;
      let answer = wider.get(key);
      if (answer === undefined) {
        const allowed = unconditional.filter((rule) => rightsOf(rule.perms).includes(right)).map((rule) => rule.pattern);
        // A hat rule that is the grant itself (`/usr/lib/**` for `/usr/lib/**.so*`) needs no automaton.
        const beyond = allowed.includes(granted) ? { empty: true } : options.oracle!.beyond([granted], allowed, []);
        answer = !beyond || !beyond.empty;
        wider.set(key, answer);
      }
      return answer;
    });
  };
  for (const rule of allows) {
    const rights = rightsOf(rule.perms);
    if (rights.length === 0) continue; // m, k: not mediated by Landlock, nothing to grant
    const expansions = expandAlternations(rule.pattern);
    const patterns = expansions ?? [rule.pattern.slice(0, rule.pattern.indexOf('{'))];
    const allowed = wideningAllowed(rule, options.allowWidening);
    if (!expansions) {
      if (!allowed) {
        narrowing.push({ kind: 'glob', summary: `${rule.pattern} ${rule.perms}: too many alternatives to expand; not granted (granting beneath ${patterns[0]} would widen it; allow it with landlock.allowWidening)`, source: where(rule.source) });
        continue;
      }
      optedIn.add(rule);
      widening.push({ kind: 'glob', summary: `${rule.pattern}: too many alternatives to expand; granted beneath its literal prefix ${patterns[0]} (landlock.allowWidening)`, source: where(rule.source) });
    }
    for (const pattern of patterns) {
      if (isOwnProcPattern(pattern) && !allowed) {
        // Another process's /proc entry (environ, maps, cmdline) is exactly what a site must not read;
        // the launcher grants the worker's own /proc/<pid> instead, which /proc/self resolves to.
        const sub = ownProcEntry(pattern);
        if (!sub.literal) widening.push({ kind: 'glob', summary: `${pattern} ${rule.perms}: granted beneath the worker's own /proc/<pid>${sub.path} (Landlock has no globs)`, source: where(rule.source) });
        const entry = ownProc.get(sub.path) ?? new Set<RightClass>();
        for (const right of rights) entry.add(right);
        ownProc.set(sub.path, entry);
        continue;
      }
      if (rule.owner && !allowed) {
        narrowing.push({ kind: 'owner', summary: `owner ${pattern} ${rule.perms}: not granted (Landlock cannot check the file's owner; allow it with landlock.allowWidening to grant it for every uid)`, source: where(rule.source) });
        continue;
      }
      if (rule.owner) optedIn.add(rule);
      const written = expansions ? coveringPath(pattern) : coveringPath(`${pattern}*`);
      const cover = { ...written, path: options.realpath?.(written.path) ?? written.path };
      const isDir = options.isDirectory(cover.path);
      if (cover.path !== written.path && !symlinkTargetAllowed(cover.path, isDir === true, rights)) {
        // AppArmor mediates the resolved path too: a symlink out of what the hat allows grants nothing.
        widening.push({ kind: 'symlink', summary: `${written.path} is a symlink to ${cover.path}, which the hat does not allow: not granted (AppArmor checks the resolved path as well)`, source: where(rule.source) });
        continue;
      }
      const exact = cover.literal ? isDir !== true : pattern === `${cover.path === '/' ? '' : cover.path}/**`;
      const grant = (path: string, exactly: boolean) => {
        const entry = grants.get(path) ?? { rights: new Set<RightClass>(), from: [] };
        for (const right of rights) entry.rights.add(right);
        entry.from.push({ rule, pattern, exact: exactly });
        grants.set(path, entry);
      };
      if (exact || allowed || isDir === undefined || !widerThanHat(cover.path, isDir, rights)) {
        grant(cover.path, exact);
        continue;
      }
      // The covering directory grants more than the hat: grant exactly the existing paths the rule
      // matches instead (fail closed: paths created later are not covered), or nothing when that is
      // too big to tell.
      const matcher = options.oracle?.matcher?.(pattern);
      const expansion = matcher && options.list ? expandOnHost(matcher, cover.path, options.list) : { ok: false as const, why: 'the AARE engine cannot match it' };
      const optIn = `allow it with landlock.allowWidening to grant everything beneath ${cover.path}`;
      if (!expansion.ok) {
        narrowing.push({ kind: 'glob', summary: `${pattern} ${rule.perms}: not granted (Landlock would grant everything beneath ${cover.path}; matching it against the existing paths there found ${expansion.why}; ${optIn})`, grant: cover.path, source: where(rule.source) });
        continue;
      }
      for (const path of expansion.files) grant(path, true);
      for (const path of expansion.beneath) grant(path, true);
      const count = expansion.files.length + expansion.beneath.length;
      const left = [
        ...(expansion.directories.length ? [`${expansion.directories.length} matched director${expansion.directories.length === 1 ? 'y' : 'ies'} not granted (Landlock cannot grant a directory without everything beneath it: ${expansion.directories.slice(0, 3).join(', ')})`] : []),
        ...(expansion.symlinks.length ? [`${expansion.symlinks.length} symlink${expansion.symlinks.length === 1 ? '' : 's'} not followed (${expansion.symlinks.slice(0, 3).join(', ')})`] : []),
      ];
      const granted = count ? `granted only on the ${count} existing path${count === 1 ? '' : 's'} it matches beneath ${cover.path}, not on what is created later` : `not granted (no existing path beneath ${cover.path} can be granted exactly; nothing created later is covered)`;
      narrowing.push({ kind: 'glob', summary: `${pattern} ${rule.perms}: ${granted}${left.length ? `; ${left.join('; ')}` : ''} (${optIn})`, grant: cover.path, source: where(rule.source) });
    }
  }

  const runtimePaths = new Set<string>();
  for (const rule of options.runtime ?? []) {
    const path = options.realpath?.(rule.path) ?? rule.path;
    const entry = grants.get(path) ?? { rights: new Set<RightClass>(), from: [] };
    for (const right of CLASSES) if (rule[right]) entry.rights.add(right);
    grants.set(path, entry);
    runtimePaths.add(path);
  }

  // Grants fully implied by an ancestor's grant add nothing.
  const paths: LandlockPathRule[] = [];
  const origins: GrantOrigin[] = [];
  // Each grant's classes once, by path: the implied check below looks up every ancestor of every grant.
  const classesOf = new Map([...grants].map(([path, grant]) => [path, launcherClasses(grant.rights)]));
  for (const [path, grant] of [...grants].sort(([a], [b]) => collator.compare(a, b))) {
    const effective = launcherClasses(grant.rights);
    origins.push({ path, rights: [...grant.rights].sort(), from: grant.from.map((f) => ({ pattern: f.pattern, perms: f.rule.perms, source: where(f.rule.source), exact: f.exact })) });
    // The launcher skips missing paths (they grant nothing), so they are neither applied nor widening.
    if (options.isDirectory(path) === undefined) continue;
    const implied = ancestors(path).some((other) => {
      const classes = classesOf.get(other);
      return classes !== undefined && options.isDirectory(other) === true && [...effective].every((r) => classes.has(r));
    });
    if (!implied) paths.push({ path, read: effective.has('read'), write: effective.has('write'), exec: effective.has('exec') });
  }

  // What the grants allow beyond the hat, per right class and grant.
  const patternsFor = (right: RightClass, deny: boolean): string[] => rules.files.filter((rule) => rule.deny === deny && rightsOf(rule.perms).includes(right)).map((rule) => rule.pattern);
  for (const right of CLASSES) {
    const allowed = patternsFor(right, false);
    const denied = patternsFor(right, true);
    for (const grant of paths.filter((p) => p[right])) {
      const origin = grants.get(grant.path);
      const fromRules = origin?.from.filter((f) => rightsOf(f.rule.perms).includes(right)) ?? [];
      const isDir = options.isDirectory(grant.path);
      const literal = literalPattern(grant.path);
      // AppArmor names directories with a trailing slash: `dir/**` is the directory and everything beneath.
      const granted = isDir ? [`${grant.path === '/' ? '' : literal}/**`] : [literal];
      // An exact hat rule for this right (dir/** or the file itself) and no deny rule beneath: nothing to
      // compute. Otherwise ask the AARE engine for the exact difference.
      const exactRule = fromRules.some((f) => f.exact) && !rules.files.some((rule) => rule.deny && rightsOf(rule.perms).includes(right) && overlapsGrant(rule.pattern, grant.path));
      const exact = exactRule ? { empty: true, witnesses: [] } : options.oracle?.beyond(granted, allowed, denied);
      const runtimeOnly = fromRules.length === 0 && runtimePaths.has(grant.path);
      const because = runtimeOnly
        ? ' (runtime: needed by the worker program itself)'
        : fromRules.length === 0
        ? ` (comes with ${[...(origin?.rights ?? [])].filter((r) => r !== right).join('+')}: Landlock's write and execute grants include reading)`
        : ` for ${fromRules.slice(0, 3).map((f) => f.pattern).join(', ')}${fromRules.length > 3 ? ` and ${fromRules.length - 3} more` : ''}`;
      const source = fromRules[0] ? { source: where(fromRules[0].rule.source) } : {};
      if (exact) {
        if (!exact.empty) {
          widening.push({ kind: runtimeOnly ? 'runtime' : fromRules.length ? 'glob' : 'rights', summary: `${right} ${isDir ? 'beneath' : 'on'} ${grant.path}${because}: also grants e.g. ${exact.witnesses.join(', ')}`, grant: grant.path, witnesses: exact.witnesses, ...source });
        }
      } else if (fromRules.length === 0 || (!fromRules.some((f) => f.exact) && isDir !== false)) {
        // Without an exact answer: every grant that is not exactly one hat rule is reported.
        widening.push({ kind: runtimeOnly ? 'runtime' : fromRules.length ? 'glob' : 'rights', summary: `${right} ${isDir === false ? 'on' : 'beneath'} ${grant.path}${because}: ${isDir === false ? 'the whole file' : `everything beneath ${grant.path}`} gets ${right}`, grant: grant.path, ...source });
      }
    }
  }

  for (const rule of rules.files) {
    if (rule.deny) {
      const rights = rightsOf(rule.perms);
      const cover = coveringPath(expandAlternations(rule.pattern)?.[0] ?? rule.pattern);
      const hit = paths.find((p) => rights.some((r) => p[r]) && (beneath(cover.path, p.path) || beneath(p.path, cover.path)));
      if (hit) widening.push({ kind: 'deny', summary: `deny ${rule.pattern} ${rule.perms} cannot be kept: Landlock has no carve-outs inside the grant on ${hit.path}`, grant: hit.path, source: where(rule.source) });
    } else if (rule.owner && optedIn.has(rule)) {
      widening.push({ kind: 'owner', summary: `owner ${rule.pattern} ${rule.perms}: the owner condition is dropped (files of every uid match; landlock.allowWidening)`, source: where(rule.source) });
    } else if (/a/.test(rule.perms) && !/w/.test(rule.perms)) {
      widening.push({ kind: 'rights', summary: `${rule.pattern} a: append-only becomes full write`, source: where(rule.source) });
    }
  }

  let network: HatTranslation['network'];
  if (!networkAllowsTcp(rules.others)) {
    if (abi >= 4) network = { bind: [], connect: [] };
    else widening.push({ kind: 'network', summary: `TCP bind/connect to any port (Landlock ABI ${abi} < 4 has no network rules)` });
  }
  // socketpair(AF_UNIX) is always allowed: libuv makes every child-process pipe with it (Node's CGI
  // children), PHP-FPM its signal pipe; a connected pair reaches no other process.
  const sockets = grantedSockets(rules.others, [UNIX_SOCKETPAIR, ...(options.runtimeSockets ?? [])]);
  for (const summary of sockets.widened) widening.push({ kind: 'network', summary });
  if (abi < 9) widening.push({ kind: 'unix', summary: 'connect to any pathname unix socket (Landlock ABI < 9 does not mediate them)' });
  widening.push({ kind: 'metadata', summary: 'stat, chmod, chown and utimes on any path (Landlock has no metadata rights; use a per-site uid and 0700 roots)' });
  if (abi < 3) widening.push({ kind: 'rights', summary: `truncate on any file (Landlock ABI ${abi} < 3)` });
  if (abi < 5) widening.push({ kind: 'rights', summary: `ioctl on devices (Landlock ABI ${abi} < 5)` });
  const scoped = abi >= 6;
  if (!scoped) widening.push({ kind: 'signal', summary: `signals to other processes of the same uid and abstract unix sockets (Landlock ABI ${abi} < 6 has no scoping)` });
  for (const rule of rules.others) {
    if (rule.deny) continue;
    if (rule.kind === 'file-all') widening.push({ kind: 'rights', summary: 'a bare `file,` rule allows everything: granted read, write and execute beneath /', source: where(rule.source) });
  }
  if (rules.others.some((rule) => rule.kind === 'file-all' && !rule.deny)) {
    paths.splice(0, paths.length, { path: '/', read: true, write: true, exec: true });
  }

  const capabilities = grantedCapabilities(rules.others, options.runtimeCapabilities);
  const ownProcArgs = [...ownProc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sub, rights]) => {
    const letters = (['read', 'write', 'exec'] as const).filter((r) => rights.has(r)).map((r) => r[0]).join('');
    return sub ? `${letters}:${sub}` : letters;
  });
  for (const summary of sockets.narrowed) narrowing.push({ kind: 'network', summary });
  return { paths, ...(network ? { network } : {}), scoped, widening, narrowing, ...(ownProcArgs.length ? { ownProc: ownProcArgs } : {}), grants: origins, capabilities, sockets };
}
