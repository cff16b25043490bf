// Resolved policy → per-profile decision structures. File rules of a profile (plus the implicit rules
// the compiler adds) become one rule-set DFA whose accepting states carry the matching rule ids, so a
// file decision is one pass over the path plus per-bit resolution over the few rules that matched.
// Other classes keep their rule lists with pre-compiled label/path conditions.
import { compilePattern, compileRuleSet, empty, isExact, matches, type Automaton } from '../aare/index.js';
import { deserializeAutomaton, serializeAutomaton } from '../aare/index.js';
import type { BlobStore } from '../cache/index.js';
import type { Diagnostic } from '../diagnostic/index.js';
import type {
  ExecMode, ResolvedGenericRule, ResolvedPolicy, ResolvedProfile, ResolvedRule, ResolvedRulePrefix as RulePrefix, RuleRef,
} from '../resolve/index.js';
import type { ProfileModeName } from './types.js';

export const FILE_BITS = ['r', 'w', 'a', 'l', 'k', 'm', 'x'] as const;
export type FileBit = (typeof FILE_BITS)[number];

export type GenericClass = ResolvedGenericRule['class'];
export type MediatedClass = Exclude<GenericClass, 'all'>;

/** Every access bit of each class, after normalizing aliases (see normalizeAccess). */
export const CLASS_ACCESS: Readonly<Record<MediatedClass, readonly string[]>> = {
  network: ['create', 'bind', 'listen', 'accept', 'connect', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt', 'send', 'receive'],
  unix: ['create', 'bind', 'listen', 'accept', 'connect', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt', 'send', 'receive'],
  dbus: ['send', 'receive', 'bind', 'eavesdrop'],
  signal: ['send', 'receive'],
  ptrace: ['read', 'readby', 'trace', 'tracedby'],
  mount: ['mount'],
  remount: ['remount'],
  umount: ['umount'],
  pivot_root: ['pivot_root'],
  userns: ['create'],
  io_uring: ['sqpoll', 'override_creds'],
  mqueue: ['read', 'write', 'create', 'open', 'delete', 'getattr', 'setattr'],
};

const ALIASES: Readonly<Partial<Record<MediatedClass, Readonly<Record<string, readonly string[]>>>>> = {
  network: { r: ['receive'], w: ['send'], rw: ['send', 'receive'] },
  unix: { r: ['receive'], w: ['send'], rw: ['send', 'receive'] },
  dbus: { r: ['receive'], read: ['receive'], w: ['send'], write: ['send'], rw: ['send', 'receive'] },
  signal: { r: ['receive'], read: ['receive'], w: ['send'], write: ['send'], rw: ['send', 'receive'] },
  ptrace: { r: ['read'], w: ['trace'], rw: ['read', 'trace'] },
  mqueue: { r: ['read'], w: ['write'], rw: ['read', 'write'] },
};

/** Map access words to the class's canonical bits (`r` → `receive` for signals …); unknown words stay. */
export function normalizeAccess(cls: MediatedClass, words: readonly string[]): string[] {
  const out = new Set<string>();
  for (const word of words) {
    const lower = word.toLowerCase();
    for (const bit of ALIASES[cls]?.[lower] ?? [lower]) out.add(bit);
  }
  return [...out];
}

/** One rule as the evaluator sees it, whatever its class. */
export interface EvalRule {
  readonly prefix: RulePrefix;
  readonly source: RuleRef;
  /** True for rules the compiler adds (hat and change_profile support rules). */
  readonly implicit?: boolean;
}

export interface FileEntry extends EvalRule {
  readonly pattern: string;
  readonly bits: ReadonlySet<FileBit>;
  readonly exec?: ExecMode;
  readonly execTarget?: string;
  /** No `*`, `**`, `?` or `[^…]`: exact allows win the exec bit over globs (policy-semantics §5). */
  readonly exact: boolean;
}

/**
 * File rules that differ only in their pattern and source (same prefix, bits, exec mode and target,
 * exactness) decide every bit the same way wherever they match, so the file DFA gives them one id:
 * accepting states then carry a few group ids instead of many rule ids, and the DFA has far fewer
 * distinct states. Which members matched a given path is only needed to explain a decision, and is
 * found then (decide.ts).
 */
export interface FileGroup {
  /** The first member: what every member decides. */
  readonly rule: FileEntry;
  /** Indexes into `files`, ascending. */
  readonly members: readonly number[];
}

function effectKey(rule: FileEntry): string {
  const { audit, decision, owner, priority } = rule.prefix;
  const exec = rule.exec ? `${rule.exec.transition}/${rule.exec.fallback ?? ''}/${rule.exec.safe}/${rule.exec.text}` : '';
  return `${audit}|${decision}|${owner}|${priority}|${[...rule.bits].sort().join('')}|${exec}|${rule.execTarget ?? '\0'}|${rule.exact}`;
}

function groupFiles(files: readonly FileEntry[]): FileGroup[] {
  const byKey = new Map<string, { rule: FileEntry; members: number[] }>();
  files.forEach((rule, index) => {
    const key = effectKey(rule);
    const group = byKey.get(key);
    if (group) group.members.push(index); else byKey.set(key, { rule, members: [index] });
  });
  return [...byKey.values()];
}

export interface LinkEntry extends EvalRule {
  readonly link: Automaton;
  readonly target: Automaton;
  readonly subset: boolean;
  readonly linkPattern: string;
  readonly targetPattern: string;
}

export interface CapabilityEntry extends EvalRule {
  /** Empty = every capability. */
  readonly names: ReadonlySet<string>;
}

export interface GenericEntry extends EvalRule {
  readonly class: MediatedClass;
  /** Canonical bits; all bits of the class when the rule named none. */
  readonly bits: ReadonlySet<string>;
  readonly words: readonly string[];
  readonly conditions: Readonly<Record<string, readonly string[]>>;
  readonly target?: string;
}

export interface ChangeProfileEntry extends EvalRule {
  readonly exec?: Automaton;
  readonly execPattern?: string;
  readonly target: Automaton;
  readonly targetPattern: string;
  readonly safety?: 'safe' | 'unsafe';
}

export interface RlimitEntry extends EvalRule {
  readonly resource: string;
  readonly value: string;
  /** The value in base units (bytes, seconds, count), or `Infinity`; undefined when unparsable. */
  readonly normalized?: number;
}

export interface CompiledProfile {
  readonly label: string;
  readonly kind: ResolvedProfile['kind'];
  readonly mode: ProfileModeName;
  readonly flags: readonly string[];
  /** Profile flag `audit`: log everything, quiet nothing. */
  readonly auditAll: boolean;
  readonly files: readonly FileEntry[];
  /** File rules with identical effect, grouped: the DFA tells groups apart, not rules (see groupFiles). */
  readonly fileGroups: readonly FileGroup[];
  /** Rule-set DFA over the files' patterns; ids index `fileGroups`. */
  readonly fileAutomaton: Automaton;
  readonly links: readonly LinkEntry[];
  readonly capabilities: readonly CapabilityEntry[];
  readonly generic: readonly GenericEntry[];
  readonly changeProfile: readonly ChangeProfileEntry[];
  readonly rlimits: readonly RlimitEntry[];
  readonly attachment?: string;
  readonly hats: readonly string[];
  readonly children: readonly string[];
}

export interface CompiledPolicy {
  /** By full hierarchical label (`apache2`, `apache2//DEFAULT_URI`). */
  readonly profiles: ReadonlyMap<string, CompiledProfile>;
}

const implicitSource = (profile: ResolvedProfile, what: string): RuleRef => ({
  ...profile.source, includeChain: [], file: `<implicit: ${what}>`,
});

// apparmor_parser writes its implicit hat rules with owner-only permission bits (new_entry(…, AA_MAY_WRITE)
// sets the user half only: `-QT --dump=rule-exprs` shows 0x2, where `w` is 0x…2|other): a task whose /proc
// entries belong to root (Apache's workers after setuid are not dumpable) is DENIED its own attr/current.
const implicitAllow: RulePrefix = { audit: false, decision: 'allow', owner: 'owner', priority: 0 };

function implicitFileRules(profile: ResolvedProfile): FileEntry[] {
  const hasHats = profile.kind === 'hat' || profile.children.some((c) => c.kind === 'hat');
  const hasChangeProfile = profile.rules.some((r) => r.class === 'change_profile');
  const rules: FileEntry[] = [];
  const add = (pattern: string, bits: FileBit[], what: string) => rules.push({
    pattern, bits: expandBits(new Set(bits)), prefix: implicitAllow, source: implicitSource(profile, what), implicit: true, exact: false,
  });
  // parser/profile.cc profile_add_hat_rules (policy-semantics.md §7).
  if (hasHats || hasChangeProfile) {
    add('/proc/*/attr/apparmor/', ['r'], 'read own label directory');
    add('/sys/module/apparmor/parameters/enabled', ['r'], 'is AppArmor enabled');
  }
  if (hasHats) add('/proc/[0-9]*/attr/{apparmor/,}current', ['w'], 'change_hat');
  if (hasChangeProfile) add('/proc/*/attr/{apparmor/,}{current,exec}', ['w'], 'change_profile');
  return rules;
}

function expandBits(permissions: ReadonlySet<string>): Set<FileBit> {
  const bits = new Set<FileBit>();
  for (const p of permissions) if ((FILE_BITS as readonly string[]).includes(p)) bits.add(p as FileBit);
  if (bits.has('w')) bits.add('a'); // `w` implies append (policy-language §5)
  return bits;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };
const TIME_UNITS: Record<string, number> = {
  '': 1, us: 1e-6, ms: 1e-3, s: 1, sec: 1, seconds: 1, min: 60, minute: 60, minutes: 60, h: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400, week: 604800, weeks: 604800,
};

/** rlimit values in base units so `1024KB` and `1MB` compare equal. */
export function normalizeRlimit(resource: string, value: string): number | undefined {
  if (value === 'infinity') return Infinity;
  const match = /^(-?\d+)\s*([a-zA-Z]*)$/.exec(value.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  if (['cpu', 'rttime'].includes(resource)) return TIME_UNITS[unit] === undefined ? undefined : n * TIME_UNITS[unit]!;
  if (['fsize', 'data', 'stack', 'core', 'rss', 'as', 'memlock', 'msgqueue'].includes(resource)) {
    return SIZE_UNITS[unit] === undefined ? undefined : n * SIZE_UNITS[unit]!;
  }
  return unit === '' ? n : undefined;
}

/** Labels and other non-path fields use the glob_null flavour of AARE. */
export class PatternCache {
  private readonly cache = new Map<string, Automaton | null>();
  constructor(private readonly diagnostics: Diagnostic[]) {}

  get(pattern: string, kind: 'path' | 'glob_null', source?: RuleRef): Automaton | undefined {
    const key = `${kind}\0${pattern}`;
    if (!this.cache.has(key)) {
      const result = compilePattern(pattern, { kind, ...(source ? { origin: source } : {}) });
      if (!result.ok) this.diagnostics.push(...result.diagnostics);
      this.cache.set(key, result.ok ? result.automaton : null);
    }
    return this.cache.get(key) ?? undefined;
  }
}

function allRuleExpansion(rule: ResolvedGenericRule): ResolvedRule[] {
  const base = { prefix: rule.prefix, source: rule.source };
  const out: ResolvedRule[] = [
    { class: 'file', ...base, pattern: '/{**,}', permissions: new Set(['r', 'w', 'l', 'k', 'm', 'x'] as const), exec: { transition: 'inherit', safe: false, text: 'ix' } },
    { class: 'capability', ...base, names: [] },
    { class: 'change_profile', ...base, target: '**' },
  ];
  for (const cls of Object.keys(CLASS_ACCESS) as MediatedClass[]) out.push({ class: cls, ...base, access: [], words: [], conditions: {} });
  return out;
}

/**
 * File automata shared between compilePolicy calls: a profile whose file rules (patterns and
 * effects, group by group) are identical to one compiled before reuses its DFA. Two versions of a
 * tree, or the two sides of `hatter diff`, then compile only what changed. With a store (the on-disk
 * cache, docs/cache.md) the DFAs also outlive the process.
 */
export interface CompileCache {
  readonly fileAutomata: Map<string, Automaton>;
  readonly store?: BlobStore;
  /** Automata read from the store or compiled with it, by shape (see internAutomaton). */
  readonly byShape: Map<string, Automaton[]>;
}

export function createCompileCache(options: { store?: BlobStore } = {}): CompileCache {
  return { fileAutomata: new Map(), byShape: new Map(), ...(options.store ? { store: options.store } : {}) };
}

/**
 * One object per distinct automaton read from the store: `diffPolicies` skips profiles whose file
 * DFAs are the same object (with the same group effects), and DFAs decoded separately (by two cached
 * loads, or one cached load and one compile) must still be found the same.
 */
function internAutomaton(cache: CompileCache, automaton: Automaton): Automaton {
  // Shape first: automata of different profiles almost always differ in it, and comparing the few
  // candidates of one shape (stopping at the first difference) costs less than hashing every table.
  const key = `${automaton.universe}/${automaton.stateCount}/${automaton.classCount}/${automaton.start}/${automaton.acceptSets.length}`;
  const candidates = cache.byShape.get(key);
  const known = candidates?.find((other) => sameAutomaton(other, automaton));
  if (known) return known;
  if (candidates) candidates.push(automaton); else cache.byShape.set(key, [automaton]);
  return automaton;
}

function sameAutomaton(a: Automaton, b: Automaton): boolean {
  if (a === b) return true;
  if (a.universe !== b.universe || a.stateCount !== b.stateCount || a.classCount !== b.classCount || a.start !== b.start) return false;
  if (a.acceptSets.length !== b.acceptSets.length) return false;
  for (let i = 0; i < 256; i++) if (a.classOf[i] !== b.classOf[i]) return false;
  for (let i = 0; i < a.transitions.length; i++) if (a.transitions[i] !== b.transitions[i]) return false;
  for (let i = 0; i < a.acceptIndex.length; i++) if (a.acceptIndex[i] !== b.acceptIndex[i]) return false;
  return a.acceptSets.every((set, i) => { const other = b.acceptSets[i]!; return set.length === other.length && set.every((id, j) => id === other[j]); });
}

/**
 * The store's key for a file DFA: the grouped rules it is compiled from and how (the compiler's own
 * version is the store's business: cli/cache-store.ts keys every entry by the code that made it).
 */
function storeKey(rulesKey: string): string {
  return `file-dfa\0path\0${rulesKey}`;
}

/** What makes two profiles' file DFAs and group effects identical. */
function fileRulesKey(files: readonly FileEntry[], groups: readonly FileGroup[]): string {
  return JSON.stringify(groups.map((g) => [effectKey(g.rule), ...g.members.map((m) => files[m]!.pattern)]));
}

/** Same groups with the same effects in the same order (then the same DFA decides the same way). */
export function sameFileGroups(a: readonly FileGroup[], b: readonly FileGroup[]): boolean {
  return a.length === b.length && a.every((g, i) => effectKey(g.rule) === effectKey(b[i]!.rule));
}

function compileProfile(profile: ResolvedProfile, patterns: PatternCache, diagnostics: Diagnostic[], cache?: CompileCache): CompiledProfile {
  const files: FileEntry[] = [];
  const links: LinkEntry[] = [];
  const capabilities: CapabilityEntry[] = [];
  const generic: GenericEntry[] = [];
  const changeProfile: ChangeProfileEntry[] = [];
  const rlimits: RlimitEntry[] = [];
  const rules = profile.rules.flatMap((r) => (r.class === 'all' ? allRuleExpansion(r) : [r]));
  for (const rule of rules) {
    const base = { prefix: rule.prefix, source: rule.source };
    switch (rule.class) {
      case 'file': {
        const bits = expandBits(rule.permissions);
        // Bare `file,` is `/{**,}` with rwlkm and ix (policy-semantics §8).
        const bareFile = rule.pattern === '/{**,}' && !rule.exec && rule.prefix.decision !== 'deny' && bits.has('r') && bits.has('k');
        const exec = bareFile ? { transition: 'inherit' as const, safe: false, text: 'ix' } : rule.exec;
        if (bareFile) bits.add('x');
        files.push({
          ...base, pattern: rule.pattern, bits, ...(exec ? { exec } : {}),
          ...(rule.execTarget !== undefined ? { execTarget: rule.execTarget } : {}),
          exact: isExact(rule.pattern) === true,
        });
        // A bare `l` in a file rule is `link subset PATH -> /**` (policy-semantics §9).
        if (bits.has('l')) {
          const link = patterns.get(rule.pattern, 'path', rule.source);
          const target = patterns.get('/**', 'path');
          if (link && target) links.push({ ...base, link, target, subset: true, linkPattern: rule.pattern, targetPattern: '/**' });
        }
        break;
      }
      case 'link': {
        const link = patterns.get(rule.pattern, 'path', rule.source);
        const target = patterns.get(rule.target, 'path', rule.source);
        if (link && target) links.push({ ...base, link, target, subset: rule.subset, linkPattern: rule.pattern, targetPattern: rule.target });
        break;
      }
      case 'capability':
        capabilities.push({ ...base, names: new Set(rule.names.map((n) => n.toLowerCase())) });
        break;
      case 'change_profile': {
        const target = patterns.get(rule.target, 'glob_null', rule.source);
        const exec = rule.execCondition !== undefined ? patterns.get(rule.execCondition, 'path', rule.source) : undefined;
        if (target && (rule.execCondition === undefined || exec)) {
          changeProfile.push({
            ...base, target, targetPattern: rule.target,
            ...(exec ? { exec, execPattern: rule.execCondition } : {}), ...(rule.safety ? { safety: rule.safety } : {}),
          });
        }
        break;
      }
      case 'rlimit': {
        const normalized = normalizeRlimit(rule.resource, rule.value);
        rlimits.push({ ...base, resource: rule.resource, value: rule.value, ...(normalized !== undefined ? { normalized } : {}) });
        break;
      }
      case 'all':
        break; // expanded above
      default: {
        const cls = rule.class as MediatedClass;
        const bits = rule.access.length ? normalizeAccess(cls, rule.access) : [...CLASS_ACCESS[cls]];
        // `network unix …` is the unix rule (policy-language §5).
        const asClass: MediatedClass = cls === 'network' && rule.words[0] === 'unix' ? 'unix' : cls;
        // `mount "" -> X` is `mount detached -> X` (policy-language §5).
        const words = (asClass !== cls ? rule.words.slice(1) : rule.words).map((w) => (cls === 'mount' && w === '' ? 'detached' : w));
        generic.push({
          ...base, class: asClass, bits: new Set(bits), words,
          conditions: rule.conditions, ...(rule.target !== undefined ? { target: rule.target } : {}),
        });
      }
    }
  }
  files.push(...implicitFileRules(profile));
  const fileGroups = groupFiles(files);
  const key = cache ? fileRulesKey(files, fileGroups) : undefined;
  let fileAutomaton = key !== undefined ? cache!.fileAutomata.get(key) : undefined;
  if (!fileAutomaton && key !== undefined && cache!.store) {
    const bytes = cache!.store.get(storeKey(key));
    const stored = bytes && deserializeAutomaton(bytes);
    if (stored) {
      fileAutomaton = internAutomaton(cache!, stored);
      cache!.fileAutomata.set(key, fileAutomaton);
    }
  }
  if (!fileAutomaton) {
    const compiled = compileRuleSet(fileGroups.flatMap((group, id) => group.members.map((m) => ({ pattern: files[m]!.pattern, id }))), { kind: 'path' });
    if (!compiled.ok) diagnostics.push(...compiled.diagnostics);
    // A profile whose patterns blow the state cap still gets an (empty) automaton; the diagnostic says why.
    fileAutomaton = compiled.ok ? compiled.automaton : empty('path');
    if (compiled.ok && key !== undefined) {
      fileAutomaton = internAutomaton(cache!, fileAutomaton);
      cache!.fileAutomata.set(key, fileAutomaton);
      cache!.store?.set(storeKey(key), serializeAutomaton(fileAutomaton));
    }
  }
  const flags = profile.flags;
  return {
    label: profile.name,
    kind: profile.kind,
    mode: profile.mode,
    flags,
    auditAll: flags.includes('audit'),
    files,
    fileGroups,
    fileAutomaton,
    links,
    capabilities,
    generic,
    changeProfile,
    rlimits,
    ...(profile.attachment !== undefined ? { attachment: profile.attachment } : {}),
    hats: profile.children.filter((c) => c.kind === 'hat').map((c) => c.name),
    children: profile.children.filter((c) => c.kind !== 'hat').map((c) => c.name),
  };
}

/** Compile every profile, hat and child of a resolved policy. Never throws. */
export function compilePolicy(policy: ResolvedPolicy, options: { cache?: CompileCache } = {}): { compiled: CompiledPolicy; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const patterns = new PatternCache(diagnostics);
  const profiles = new Map<string, CompiledProfile>();
  const visit = (profile: ResolvedProfile) => {
    profiles.set(profile.name, compileProfile(profile, patterns, diagnostics, options.cache));
    for (const child of profile.children) visit(child);
  };
  for (const profile of policy.profiles) visit(profile);
  return { compiled: { profiles }, diagnostics };
}

/** Does a label/path pattern automaton match this text? */
export function patternMatches(automaton: Automaton | undefined, text: string): boolean {
  return automaton !== undefined && matches(automaton, text);
}

/**
 * A compiled policy that came from the store, with its file DFAs shared through `cache` (see
 * internAutomaton). Only for policies that compiled without errors.
 */
export function shareFileAutomata(compiled: CompiledPolicy, cache: CompileCache): CompiledPolicy {
  const profiles = new Map<string, CompiledProfile>();
  for (const [label, profile] of compiled.profiles) {
    const shared = internAutomaton(cache, profile.fileAutomaton);
    profiles.set(label, shared === profile.fileAutomaton ? profile : { ...profile, fileAutomaton: shared });
  }
  return { profiles };
}
