// decide(): what the kernel would do with one request, and which rules decided it
// (policy-semantics.md §2–§10). Per permission bit: among the rules that match and name the bit, only
// those with the highest key (4 × priority + offset; deny 3, exact allow of an exec bit 2, allow 1,
// prompt 0) count; deny denies, allows union, prompt asks. Then the profile mode decides unmatched bits.
import { canonicalizePath, compilePattern, compileRuleSet, lookup, matches } from '../aare/index.js';
import { CAPABILITIES } from '../vocabulary.js';
import type { ExecMode, RuleRef } from '../resolve/index.js';
import {
  CLASS_ACCESS, FILE_BITS, normalizeAccess, patternMatches, PatternCache,
  type CompiledPolicy, type CompiledProfile, type EvalRule, type FileBit, type FileEntry, type FileGroup, type GenericEntry, type MediatedClass,
} from './compile.js';
import type { AccessRequest, BitDecision, Decision, ExecDecision } from './types.js';

/** The rules that decide one bit, before the profile mode is applied. */
export interface BitResolution {
  readonly outcome: 'allow' | 'deny' | 'prompt' | 'unmatched';
  readonly key: number;
  readonly audit: boolean;
  readonly winners: readonly EvalRule[];
  readonly implied?: boolean;
}

const UNMATCHED: BitResolution = { outcome: 'unmatched', key: -Infinity, audit: false, winners: [] };

function keyOf(rule: EvalRule, execBit: boolean, exact: boolean): number {
  const offset = rule.prefix.decision === 'deny' ? 3 : rule.prefix.decision === 'prompt' ? 0 : execBit && exact ? 2 : 1;
  return 4 * rule.prefix.priority + offset;
}

/** Per-bit resolution over candidate rules (each already known to match the object). */
export function resolveBit<T extends EvalRule>(candidates: readonly T[], has: (rule: T) => boolean, keyFor: (rule: T) => number): BitResolution {
  let best = -Infinity;
  let winners: T[] = [];
  for (const rule of candidates) {
    if (!has(rule)) continue;
    const key = keyFor(rule);
    if (key > best) { best = key; winners = [rule]; } else if (key === best) winners.push(rule);
  }
  if (winners.length === 0) return UNMATCHED;
  const decision = winners[0]!.prefix.decision;
  // Allows union their audit flags; a plain deny stores quiet bits, so one plain deny among the
  // winning denies silences the denial (policy-semantics §4).
  const audit = decision === 'deny' ? winners.every((r) => r.prefix.audit) : winners.some((r) => r.prefix.audit);
  return { outcome: decision, key: best, audit, winners };
}

function appliesToHalf(rule: EvalRule, owner: boolean): boolean {
  return rule.prefix.owner === 'any' || (rule.prefix.owner === 'owner') === owner;
}

/**
 * What the file rules matching `path` decide, for the owner or other half: one representative per
 * matching group of identical-effect rules (enough for verdicts, not for explanations).
 */
export function matchingFileRules(profile: CompiledProfile, path: string, owner: boolean): FileEntry[] {
  const ids = lookup(profile.fileAutomaton, path);
  const out: FileEntry[] = [];
  for (const id of ids) {
    const rule = profile.fileGroups[id]!.rule;
    if (appliesToHalf(rule, owner)) out.push(rule);
  }
  return out;
}

/** Per group with several members: a rule-set DFA over the members' patterns (ids index `members`). */
const memberAutomata = new WeakMap<FileGroup, (path: string) => readonly number[]>();

function memberMatcher(profile: CompiledProfile, group: FileGroup): (path: string) => readonly number[] {
  let matcher = memberAutomata.get(group);
  if (!matcher) {
    const compiled = compileRuleSet(group.members.map((m, id) => ({ pattern: profile.files[m]!.pattern, id })), { kind: 'path' });
    if (compiled.ok) {
      const automaton = compiled.automaton;
      matcher = (path) => lookup(automaton, path);
    } else {
      // Past the state cap together: match the members one by one.
      const singles = group.members.map((m) => compilePattern(profile.files[m]!.pattern, { kind: 'path' }));
      matcher = (path) => singles.flatMap((c, id) => (c.ok && matches(c.automaton, path) ? [id] : []));
    }
    memberAutomata.set(group, matcher);
  }
  return matcher;
}

/** The individual rules behind group representatives that match `path`, in policy order. */
function membersMatching(profile: CompiledProfile, representatives: readonly EvalRule[], path: string): FileEntry[] {
  const indexes: number[] = [];
  for (const rep of representatives) {
    const group = profile.fileGroups[groupIndexOf(profile).get(rep as FileEntry)!]!;
    if (group.members.length === 1) { indexes.push(group.members[0]!); continue; }
    for (const id of memberMatcher(profile, group)(path)) indexes.push(group.members[id]!);
  }
  return indexes.sort((a, b) => a - b).map((i) => profile.files[i]!);
}

const groupIndexes = new WeakMap<CompiledProfile, Map<FileEntry, number>>();
function groupIndexOf(profile: CompiledProfile): Map<FileEntry, number> {
  let index = groupIndexes.get(profile);
  if (!index) { index = new Map(profile.fileGroups.map((g, i) => [g.rule, i])); groupIndexes.set(profile, index); }
  return index;
}

/** All seven file bits for a set of matching rules (one half), with implied `m` from an allowed `ix`. */
export function resolveFileBits(rules: readonly FileEntry[]): Record<FileBit, BitResolution> {
  const result = {} as Record<FileBit, BitResolution>;
  for (const bit of FILE_BITS) {
    result[bit] = resolveBit(rules, (r) => r.bits.has(bit), (r) => keyOf(r, bit === 'x', r.exact));
  }
  const x = result.x;
  if (x.outcome === 'allow' && x.winners.some((r) => (r as FileEntry).exec?.transition === 'inherit') && result.m.key < x.key && result.m.outcome !== 'allow') {
    // An allowed ix adds m unless a higher-key rule decides m (hfa.cc add_implied_ix_mmap).
    result.m = { outcome: 'allow', key: x.key, audit: x.audit, winners: x.winners, implied: true };
  }
  return result;
}

/** The exec transition chosen by the winning allow rules of the x bit. */
export function execOf(x: BitResolution): { mode: ExecMode; target?: string; conflict: boolean } | undefined {
  if (x.outcome !== 'allow') return undefined;
  const first = x.winners[0] as FileEntry;
  if (!first.exec) return undefined;
  const conflict = x.winners.some((r) => {
    const e = (r as FileEntry).exec;
    return !e || e.transition !== first.exec!.transition || e.fallback !== first.exec!.fallback || e.safe !== first.exec!.safe
      || ((r as FileEntry).execTarget ?? '') !== (first.execTarget ?? '');
  });
  return { mode: first.exec, ...(first.execTarget !== undefined ? { target: first.execTarget } : {}), conflict };
}

export function finishBit(profile: CompiledProfile, bit: string, resolution: BitResolution): BitDecision {
  const rules = resolution.winners.map((r) => r.source);
  const base = { bit, outcome: resolution.outcome, rules, ...(resolution.implied ? { implied: true } : {}) };
  switch (resolution.outcome) {
    case 'allow':
      return { ...base, allowed: true, log: resolution.audit || profile.auditAll ? 'audit' : 'none' };
    case 'deny':
      // Plain deny is quiet; `audit deny` (or the audit flag) logs. Complain mode keeps explicit denies.
      return { ...base, allowed: false, log: resolution.audit || profile.auditAll ? (profile.mode === 'kill' ? 'killed' : 'denied') : 'quiet' };
    case 'prompt':
      return { ...base, allowed: false, log: 'none' };
    case 'unmatched':
      switch (profile.mode) {
        case 'complain': return { ...base, allowed: true, log: 'allowed-complain' };
        case 'unconfined': case 'default_allow': return { ...base, allowed: true, log: profile.auditAll ? 'audit' : 'none' };
        case 'kill': return { ...base, allowed: false, log: 'killed' };
        default: return { ...base, allowed: false, log: 'denied' };
      }
  }
}

function assemble(profile: CompiledProfile, request: AccessRequest, bits: BitDecision[], exec?: ExecDecision): Decision {
  const notes: string[] = [];
  if (bits.some((b) => b.outcome === 'unmatched' && b.allowed && profile.mode === 'complain')) notes.push('complain mode: permitted and logged as ALLOWED');
  if (bits.some((b) => b.outcome === 'prompt')) notes.push('prompt: the kernel asks a userspace agent; denied if nobody answers');
  if (bits.some((b) => b.log === 'killed')) notes.push('kill mode: the task is killed');
  const uniq = (refs: RuleRef[]) => [...new Map(refs.map((r) => [`${r.file}:${r.offset}`, r])).values()];
  return {
    label: profile.label,
    class: request.class,
    mode: profile.mode,
    allowed: bits.length > 0 && bits.every((b) => b.allowed),
    bits,
    ...(exec ? { exec } : {}),
    grantedBy: uniq(bits.filter((b) => b.outcome === 'allow').flatMap((b) => [...b.rules])),
    deniedBy: uniq(bits.filter((b) => b.outcome === 'deny').flatMap((b) => [...b.rules])),
    noRuleMatched: bits.some((b) => b.outcome === 'unmatched'),
    notes,
  };
}

export class UnknownRequestError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

function parseFilePermissions(text: string): FileBit[] {
  const bits: FileBit[] = [];
  for (const ch of text) {
    if (!(FILE_BITS as readonly string[]).includes(ch)) {
      throw new UnknownRequestError(`'${ch}' is not a file permission (use r w a l k m x)`, 'query/unknown-permission');
    }
    if (!bits.includes(ch as FileBit)) bits.push(ch as FileBit);
  }
  if (bits.length === 0) throw new UnknownRequestError('no permission requested', 'query/unknown-permission');
  return bits;
}

function buildFileDecision(profile: CompiledProfile, request: AccessRequest, bits: readonly FileBit[], resolved: Record<FileBit, BitResolution>): Decision {
  const decisions = bits.map((bit) => finishBit(profile, bit, resolved[bit]));
  let exec: ExecDecision | undefined;
  if (bits.includes('x')) {
    const chosen = execOf(resolved.x);
    if (chosen) exec = { mode: chosen.mode, ...(chosen.target !== undefined ? { target: chosen.target } : {}), rules: resolved.x.winners.map((r) => r.source) };
  }
  return assemble(profile, request, decisions, exec);
}

/** The same resolutions with each winning group replaced by its members that match `path`. */
function explainResolutions(profile: CompiledProfile, resolved: Record<FileBit, BitResolution>, path: string): Record<FileBit, BitResolution> {
  const out = { ...resolved };
  for (const bit of FILE_BITS) {
    const resolution = resolved[bit];
    if (resolution.winners.length) out[bit] = { ...resolution, winners: membersMatching(profile, resolution.winners, path) };
  }
  return out;
}

/**
 * A file decision whose verdict is shared by every path reaching the same DFA state, but whose
 * explanation (which rules of the winning groups matched) depends on the path: found on first read.
 * Serializes (JSON.stringify) as the plain Decision.
 */
class LazyFileDecision implements Decision {
  readonly label: string;
  readonly class = 'file' as const;
  readonly mode: Decision['mode'];
  readonly allowed: boolean;
  readonly noRuleMatched: boolean;
  readonly notes: readonly string[];
  #explained: Decision | undefined;
  readonly #explain: () => Decision;

  constructor(template: Decision, explain: () => Decision) {
    this.label = template.label;
    this.mode = template.mode;
    this.allowed = template.allowed;
    this.noRuleMatched = template.noRuleMatched;
    this.notes = template.notes;
    this.#explain = explain;
  }

  #full(): Decision { return (this.#explained ??= this.#explain()); }
  get bits(): readonly BitDecision[] { return this.#full().bits; }
  get exec(): ExecDecision | undefined { return this.#full().exec; }
  get grantedBy(): readonly RuleRef[] { return this.#full().grantedBy; }
  get deniedBy(): readonly RuleRef[] { return this.#full().deniedBy; }
  toJSON(): Decision { return this.#full(); }
}

/** What the file cache holds per (DFA accepting set, half, permissions). */
interface FileSlot {
  /** Set when every winning group has one member: the decision is the same for every path here. */
  readonly shared: Decision | undefined;
  readonly template: Decision;
  readonly bits: readonly FileBit[];
  readonly resolved: Record<FileBit, BitResolution>;
  /** Explain at once (conflicting exec modes: the transition depends on the path). */
  readonly eager: boolean;
}

/**
 * File verdicts depend only on the set of rule groups the path matches (one DFA accepting set), the
 * half and the bits asked for, so they are computed once per (accepting set, half, bits) and shared.
 * A decision is then one DFA pass plus two map lookups, without allocation when the explanation is
 * path-independent (and one small object when it is not).
 */
const fileDecisionCache = new WeakMap<CompiledProfile, Map<readonly number[], Map<string, FileSlot>>>();

function decideFile(profile: CompiledProfile, request: Extract<AccessRequest, { class: 'file' }>): Decision {
  const raw = request.path;
  const path = raw.charCodeAt(0) !== 47 || raw.includes('//') ? canonicalizePath(raw, { directory: raw.endsWith('/') }) : raw;
  const ids = lookup(profile.fileAutomaton, path);
  let byState = fileDecisionCache.get(profile);
  if (byState === undefined) { byState = new Map(); fileDecisionCache.set(profile, byState); }
  let byRequest = byState.get(ids);
  if (byRequest === undefined) { byRequest = new Map(); byState.set(ids, byRequest); }
  const owner = request.owner === true;
  const key = owner ? `o${request.permissions}` : request.permissions;
  let slot = byRequest.get(key);
  if (slot === undefined) {
    slot = fileSlot(profile, request, ids, owner);
    byRequest.set(key, slot);
  }
  if (slot.shared !== undefined) return slot.shared;
  const { bits, resolved } = slot;
  const explain = () => buildFileDecision(profile, request, bits, explainResolutions(profile, resolved, path));
  return slot.eager ? explain() : new LazyFileDecision(slot.template, explain);
}

function fileSlot(profile: CompiledProfile, request: AccessRequest, ids: readonly number[], owner: boolean): FileSlot {
  const bits = parseFilePermissions((request as Extract<AccessRequest, { class: 'file' }>).permissions);
  const rules: FileEntry[] = [];
  for (const id of ids) {
    const rule = profile.fileGroups[id]!.rule;
    if (appliesToHalf(rule, owner)) rules.push(rule);
  }
  const resolved = resolveFileBits(rules);
  const template = buildFileDecision(profile, request, bits, resolved);
  const groups = groupIndexOf(profile);
  const shared = bits.every((bit) => resolved[bit].winners.every((w) => profile.fileGroups[groups.get(w as FileEntry)!]!.members.length === 1));
  // Conflicting exec modes: the transition reported is the first matching rule's, so it depends on the path.
  const eager = !shared && bits.includes('x') && execOf(resolved.x)?.conflict === true;
  return { shared: shared ? template : undefined, template, bits, resolved, eager };
}

/** Permissions a profile grants on a path (allowed bits + exec), for link subset checks. */
function grantedOn(profile: CompiledProfile, path: string, owner: boolean): { bits: Set<FileBit>; exec?: string } {
  const resolved = resolveFileBits(matchingFileRules(profile, path, owner));
  const bits = new Set<FileBit>();
  for (const bit of FILE_BITS) if (finishBit(profile, bit, resolved[bit]).allowed && resolved[bit].outcome === 'allow') bits.add(bit);
  const exec = execOf(resolved.x);
  return { bits, ...(exec ? { exec: `${exec.mode.transition}/${exec.mode.fallback ?? ''}/${exec.mode.safe}/${exec.target ?? ''}` } : {}) };
}

function decideLink(profile: CompiledProfile, request: Extract<AccessRequest, { class: 'link' }>): Decision {
  const owner = request.owner ?? false;
  const link = canonicalizePath(request.path);
  const target = canonicalizePath(request.target);
  const candidates = profile.links.filter((l) => appliesToHalf(l, owner) && patternMatches(l.link, link) && patternMatches(l.target, target));
  let resolution = resolveBit(candidates, () => true, (r) => keyOf(r, false, false));
  // subset: what the profile grants on the link name must be a subset of what it grants on the target.
  if (resolution.outcome === 'allow' && resolution.winners.every((w) => (w as (typeof candidates)[number]).subset)) {
    const onLink = grantedOn(profile, link, owner);
    const onTarget = grantedOn(profile, target, owner);
    onLink.bits.delete('l');
    const missing = [...onLink.bits].filter((b) => !onTarget.bits.has(b));
    if (missing.length || (onLink.exec !== undefined && onLink.exec !== onTarget.exec)) {
      resolution = { outcome: 'unmatched', key: -Infinity, audit: false, winners: [] };
    }
  }
  return assemble(profile, request, [finishBit(profile, 'l', resolution)]);
}

function decideCapability(profile: CompiledProfile, request: Extract<AccessRequest, { class: 'capability' }>): Decision {
  const name = request.name.toLowerCase().replace(/^cap_/, '');
  if (!CAPABILITIES.includes(name)) {
    const near = CAPABILITIES.find((c) => c.startsWith(name.slice(0, 4)));
    throw new UnknownRequestError(`'${request.name}' is not a capability${near ? ` (did you mean '${near}'?)` : ''}; names are capabilities(7) names without CAP_, e.g. dac_override`, 'query/unknown-permission');
  }
  const candidates = profile.capabilities.filter((c) => c.names.size === 0 || c.names.has(name));
  return assemble(profile, request, [finishBit(profile, name, resolveBit(candidates, () => true, (r) => keyOf(r, false, false)))]);
}

function decideChangeProfile(profile: CompiledProfile, request: Extract<AccessRequest, { class: 'change_profile' }>): Decision {
  // Safe is the default; an unsafe change needs a rule that says `unsafe`.
  const candidates = profile.changeProfile.filter((c) => patternMatches(c.target, request.target)
    && (c.exec === undefined || (request.exec !== undefined && patternMatches(c.exec, request.exec)))
    && (!request.unsafe || c.safety === 'unsafe'));
  return assemble(profile, request, [finishBit(profile, 'change_profile', resolveBit(candidates, () => true, (r) => keyOf(r, false, false)))]);
}

export const MOUNT_CLASSES = new Set(['mount', 'remount', 'umount', 'pivot_root']);
const NETWORK_TYPES = new Set(['stream', 'dgram', 'seqpacket', 'rdm', 'raw', 'packet']);
const NETWORK_PROTOCOLS = new Set(['tcp', 'udp', 'icmp']);
/** Condition keys whose values are label AAREs (glob_null) or paths. */
const LABEL_KEYS = new Set(['peer', 'label', 'peer.label']);
const PATH_KEYS = new Set(['addr', 'peer.addr', 'path', 'name', 'peer.name', 'interface', 'member', 'bus']);

function conditionMatches(patterns: PatternCache, key: string, values: readonly string[], actual: string | undefined): boolean {
  if (actual === undefined) return false;
  if (key === 'set') return values.some((v) => v.toLowerCase() === actual.toLowerCase());
  if (key === 'options' || key === 'fstype' || key === 'vfstype') {
    const wanted = actual.split(',').map((s) => s.trim()).filter(Boolean);
    return wanted.every((w) => values.some((v) => v === w || patternMatches(patterns.get(v, 'glob_null'), w)));
  }
  if (LABEL_KEYS.has(key) || PATH_KEYS.has(key)) return values.some((v) => patternMatches(patterns.get(v, 'glob_null'), actual));
  return values.some((v) => v === actual);
}

/** Request field for a rule condition key (`peer.label` → `peer_label`, `set` → `signal`). */
function fieldFor(key: string, fields: Readonly<Record<string, string>>): string | undefined {
  if (key === 'set') return fields.signal;
  if (key === 'peer' || key === 'peer.label') return fields.peer ?? fields.peer_label;
  return fields[key.replace('.', '_')] ?? fields[key];
}

function genericMatches(patterns: PatternCache, rule: GenericEntry, fields: Readonly<Record<string, string>>): boolean {
  for (const word of rule.words) {
    if (rule.class === 'network' || rule.class === 'unix') {
      if (NETWORK_TYPES.has(word)) { if (fields.type !== word) return false; continue; }
      if (NETWORK_PROTOCOLS.has(word)) { if (fields.protocol !== word) return false; continue; }
      if (rule.class === 'network') { if (fields.family !== word) return false; continue; }
    }
    if (rule.class === 'mqueue') { if (!patternMatches(patterns.get(word, 'glob_null'), fields.name ?? '')) return false; continue; }
    if (MOUNT_CLASSES.has(rule.class)) {
      // mount SOURCE -> MOUNTPOINT; remount/umount MOUNTPOINT; pivot_root NEWROOT -> PROFILE.
      const field = rule.class === 'mount' ? fields.source : fields.mountpoint;
      if (!patternMatches(patterns.get(word, 'glob_null'), field ?? '')) return false;
      continue;
    }
  }
  if (rule.target !== undefined) {
    const field = rule.class === 'pivot_root' ? fields.profile : fields.mountpoint;
    if (!patternMatches(patterns.get(rule.target, 'glob_null'), field ?? '')) return false;
  }
  for (const [key, values] of Object.entries(rule.conditions)) {
    if (!conditionMatches(patterns, key, values, fieldFor(key, fields))) return false;
  }
  return true;
}

const decidePatterns = new PatternCache([]);

function decideGeneric(profile: CompiledProfile, request: Extract<AccessRequest, { access: readonly string[] }>): Decision {
  const cls = request.class as MediatedClass;
  const known = CLASS_ACCESS[cls];
  const wanted = normalizeAccess(cls, request.access.length ? request.access : [known[0]!]);
  for (const bit of wanted) {
    if (!known.includes(bit)) throw new UnknownRequestError(`'${bit}' is not a ${cls} access (use ${known.join(', ')})`, 'query/unknown-access');
  }
  const candidates = profile.generic.filter((r) => r.class === cls && genericMatches(decidePatterns, r, request.fields));
  const bits = wanted.map((bit) => finishBit(profile, bit, resolveBit(candidates, (r) => r.bits.has(bit), (r) => keyOf(r, false, false))));
  return assemble(profile, request, bits);
}

/**
 * Decide one request for one profile, hat or child (`label` = full hierarchical name).
 * Throws UnknownRequestError for requests that name unknown labels, classes or permissions.
 */
export function decide(policy: CompiledPolicy, label: string, request: AccessRequest): Decision {
  const profile = policy.profiles.get(label);
  if (!profile) {
    const known = [...policy.profiles.keys()];
    // Same name in another case, a hat given without its parent, or a path-named profile by its basename.
    const near = known.find((k) => k.toLowerCase() === label.toLowerCase()) ?? known.find((k) => k.endsWith(`//${label}`))
      ?? known.find((k) => !k.includes('//') && k.endsWith(`/${label}`));
    throw new UnknownRequestError(`no profile or hat named '${label}'${near ? ` (did you mean '${near}'?)` : known.length ? ` (known: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''})` : ''}`, 'query/unknown-profile');
  }
  switch (request.class) {
    case 'file': return decideFile(profile, request);
    case 'link': return decideLink(profile, request);
    case 'capability': return decideCapability(profile, request);
    case 'change_profile': return decideChangeProfile(profile, request);
    default:
      if (!(request.class in CLASS_ACCESS)) throw new UnknownRequestError(`unknown class '${String(request.class)}'`, 'query/unknown-class');
      return decideGeneric(profile, request);
  }
}
