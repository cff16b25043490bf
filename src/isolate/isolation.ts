// isolation(): can the code of one tenant reach another tenant's files, directly or through something
// they share? Answered exactly on the compiled policy: every file question is a walk of the product of a
// hat's file DFA (whose accepting states carry the rule groups that decide() resolves) with one DFA of
// every tenant's areas (accepting states carry tenant ids), so each witness is a path decide() allows,
// and is checked with decide() before it is reported.
import {
  acceptingSets, compilePattern, compileRuleSet, isEmpty, matches, type Automaton,
} from '../policy/aare/index.js';
import {
  decide, execOf, finishBit, resolveFileBits,
  type CompiledPolicy, type CompiledProfile, type FileBit, type FileEntry,
} from '../policy/eval/index.js';
import type { Diagnostic } from '../policy/diagnostic/index.js';
import type { RuleRef } from '../policy/resolve/index.js';
import { areaContains, areaPatterns, type Tenant, type TenantModel } from '../web/index.js';
import { combinations, firstCommon, live, ProductTooLarge, taggedMeets, within, witnessText } from './search.js';

/** The kinds of direct access, each decided by one file permission (write/append by `a`, which `w` implies). */
export const ACCESS_KINDS = ['read', 'write', 'create', 'link', 'lock', 'map-exec', 'exec'] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];
const KIND_BIT: Readonly<Record<AccessKind, FileBit>> = { read: 'r', write: 'a', create: 'w', link: 'l', lock: 'k', 'map-exec': 'm', exec: 'x' };
/** One letter per kind for the matrix. */
export const KIND_MARK: Readonly<Record<FlowKind, string>> = {
  read: 'r', write: 'w', create: 'c', link: 'l', lock: 'k', 'map-exec': 'm', exec: 'x',
  'shared-path': 'S', transition: 'T', change_profile: 'P', signal: 's', ptrace: 't', unix: 'u',
};

export type IndirectKind = 'shared-path' | 'transition' | 'change_profile' | 'signal' | 'ptrace' | 'unix';
export type FlowKind = AccessKind | IndirectKind;
export const FLOW_KINDS: readonly FlowKind[] = [...ACCESS_KINDS, 'shared-path', 'transition', 'change_profile', 'signal', 'ptrace', 'unix'];

/** Where a granting rule is: file:line and the include chain that led there. */
export interface RuleSite {
  readonly file: string;
  readonly line: number;
  readonly includeChain: readonly string[];
}

export interface Flow {
  /** Tenant names. */
  readonly from: string;
  readonly to: string;
  readonly kind: FlowKind;
  /** The label whose permission makes the flow (A's hat, or for shared paths the writer). */
  readonly label: string;
  /** The shortest path (or label, for signal/ptrace/unix/change_profile) showing the flow. */
  readonly witness: string;
  /** The rules that grant it (the writer's, for shared paths). */
  readonly rules: readonly RuleSite[];
  /** True when only `owner` rules grant it: it holds only because A and B run as the same user (or their users are unknown). */
  readonly ownerOnly: boolean;
  /** Shared path: B's hat that reads or executes the witness. Transition: the chain of labels entered. */
  readonly reader?: string;
  readonly via?: readonly string[];
  /** For transitions: the access the entered label has on the witness. */
  readonly access?: AccessKind;
  /** For the Landlock view: the granted directory the witness lies beneath. */
  readonly grant?: string;
  readonly summary: string;
}

/** What a shared hat or the parent profile reaches of each tenant (reported apart from flows). */
export interface SharedReach {
  readonly label: string;
  readonly tenant: string;
  readonly kind: AccessKind;
  readonly witness: string;
  readonly rules: readonly RuleSite[];
}

/** One Landlock path grant as the translation enforces it: the path and everything beneath. */
export interface LandlockGrant {
  readonly path: string;
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

export interface AllowedFlow {
  readonly from: string;
  readonly to: string;
  /** A flow kind, or `*` for every kind. */
  readonly kind: FlowKind | '*';
}

export interface IsolationOptions {
  /** The parent profile of hats whose tenant names none (e.g. --tenant flags). */
  readonly profile?: string;
  /** Analyse what Landlock enforces instead: per hat label, the translated grants (computed by the caller). */
  readonly landlock?: ReadonlyMap<string, readonly LandlockGrant[]>;
  /** Deliberate flows: reported as accepted, not as flows. */
  readonly allow?: readonly AllowedFlow[];
  /** Paths that carry nothing from one process to another (default STATELESS_PATHS): never shared paths. */
  readonly statelessPaths?: readonly string[];
}

/**
 * Writable paths that keep no data another process could read back: character devices that discard or
 * generate, terminals, the logging daemon's sockets, and each process's own /proc/<pid> (the implicit
 * change_hat rule writes there).
 */
export const STATELESS_PATHS: readonly string[] = [
  '/dev/{null,zero,full,random,urandom,tty,ptmx,stdin,stdout,stderr}',
  '/dev/pts/**', '/dev/fd/**',
  // Sockets of the logging daemon: what is written goes to the journal, not back out through the path.
  '/dev/log', '/{,var/}run/systemd/journal/{socket,stdout,dev-log}', '/{,var/}run/systemd/notify',
  '/proc/[0-9]*/**', '/proc/self/**', '/proc/thread-self/**',
  // A task's security attributes: only the task itself may write them and they hold its label, not data.
  // apparmor_parser's implicit change_profile rule writes `/proc/*/attr/…`, where `*` is not only a pid.
  '/proc/*/{,task/*/}attr/**',
];

export interface IsolationResult {
  readonly view: 'apparmor' | 'landlock';
  readonly tenants: readonly { readonly name: string; readonly labels: readonly string[]; readonly areas: readonly string[]; readonly user?: string | number }[];
  readonly flows: readonly Flow[];
  readonly accepted: readonly Flow[];
  readonly shared: readonly SharedReach[];
  readonly diagnostics: readonly Diagnostic[];
}

const ORIGIN = { file: '<isolate>', line: 1, col: 1 };
function diag(code: string, severity: Diagnostic['severity'], message: string, hint?: string): Diagnostic {
  return { ...ORIGIN, code, severity, message, ...(hint ? { hint } : {}) };
}

export function ruleSite(rule: RuleRef): RuleSite {
  return { file: rule.file, line: rule.line, includeChain: rule.includeChain.map((c) => `${c.file}:${c.line}`) };
}

/** Users differ only when both are known and not equal: then `owner` rules do not cross between them. */
function usersDiffer(a: Tenant, b: Tenant): boolean {
  return a.user !== undefined && b.user !== undefined && String(a.user) !== String(b.user);
}

interface ResolvedTenant {
  readonly tenant: Tenant;
  readonly index: number;
  readonly labels: readonly string[];
}

/** The hats' full labels: `profile//hat`, or the one compiled label ending in `//hat`. */
function labelsOf(compiled: CompiledPolicy, tenant: Tenant, profile: string | undefined, diagnostics: Diagnostic[]): string[] {
  const labels: string[] = [];
  for (const hat of tenant.hats) {
    const parent = tenant.profile ?? profile;
    const candidates = parent !== undefined
      ? [`${parent}//${hat}`].filter((l) => compiled.profiles.has(l))
      : [...compiled.profiles.keys()].filter((l) => l === hat || l.endsWith(`//${hat}`));
    if (candidates.length === 0) {
      diagnostics.push(diag('isolate/missing-hat', 'error', `${tenant.name}: hat ${parent !== undefined ? `${parent}//${hat}` : hat} is not in the policy`, 'the configuration routes requests to it; add the hat or fix the name'));
    } else if (candidates.length > 1) {
      diagnostics.push(diag('isolate/ambiguous-hat', 'error', `${tenant.name}: hat ${hat} is in several profiles (${candidates.join(', ')})`, 'name the parent profile (--profile)'));
    } else labels.push(candidates[0]!);
  }
  return labels;
}

/** Per accept set of a profile's file DFA and half: which kinds the profile allows (bit i*2+half). */
function kindMasks(profile: CompiledProfile): Int32Array {
  const masks = new Int32Array(profile.fileAutomaton.acceptSets.length);
  profile.fileAutomaton.acceptSets.forEach((ids, index) => {
    let mask = 0;
    for (const [half, owner] of [[0, false], [1, true]] as const) {
      const rules: FileEntry[] = [];
      for (const id of ids) {
        const rule = profile.fileGroups[id]!.rule;
        if (rule.prefix.owner === 'any' || (rule.prefix.owner === 'owner') === owner) rules.push(rule);
      }
      const resolved = resolveFileBits(rules);
      ACCESS_KINDS.forEach((kind, k) => {
        const bit = KIND_BIT[kind];
        if (finishBit(profile, bit, resolved[bit]).allowed) mask |= 1 << (k * 2 + half);
      });
    }
    masks[index] = mask;
  });
  return masks;
}

const kindBit = (kind: AccessKind, owner: boolean): number => 1 << (ACCESS_KINDS.indexOf(kind) * 2 + (owner ? 1 : 0));
const WRITE_MASK = kindBit('write', false) | kindBit('write', true) | kindBit('create', false) | kindBit('create', true);
const READ_OTHER = kindBit('read', false) | kindBit('exec', false);
const READ_ANY = READ_OTHER | kindBit('read', true) | kindBit('exec', true);

/** One reach answer: label L may do `kind` on `witness` inside tenant `tenant` (half: other or owner only). */
interface Reach {
  readonly tenant: number;
  readonly kind: AccessKind;
  readonly witness: string;
  readonly ownerOnly: boolean;
}

class Analysis {
  readonly diagnostics: Diagnostic[] = [];
  private readonly masks = new Map<string, Int32Array>();
  private readonly reaches = new Map<string, Reach[]>();
  readonly areas: Automaton;

  /** Tenant areas and stateless paths together: what a shared path is not. */
  readonly notShared: Automaton;

  constructor(readonly compiled: CompiledPolicy, readonly tenants: readonly ResolvedTenant[], stateless: readonly string[]) {
    const entries = tenants.flatMap((t) => t.tenant.areas.flatMap((a) => areaPatterns(a).map((pattern) => ({ pattern, id: t.index }))));
    const set = compileRuleSet(entries, { kind: 'path' });
    if (!set.ok) throw new Error('tenant areas do not compile');
    this.areas = set.automaton;
    const excluded = compileRuleSet([...entries, ...stateless.map((pattern) => ({ pattern, id: tenants.length }))], { kind: 'path' });
    this.notShared = excluded.ok ? excluded.automaton : set.automaton;
  }

  profile(label: string): CompiledProfile { return this.compiled.profiles.get(label)!; }

  private readonly linkTargets = new Map<string, { tenant: number; target: string }[]>();

  /**
   * Every tenant a link target pattern reaches, with a witness per reached accept combination, in
   * shortest-first order. Depends only on the pattern: the common abstractions' link rules, in every
   * hat, are walked against the areas once instead of once per hat.
   */
  linkTargetsOf(pattern: string, target: Automaton): readonly { tenant: number; target: string }[] {
    let out = this.linkTargets.get(pattern);
    if (!out) {
      out = [];
      for (const combo of combinations(target, this.areas)) {
        const ids = this.areas.acceptSets[combo.right]!;
        if (combo.left === 0 || ids.length === 0) continue;
        const witness = witnessText(combo.witness);
        const tenant = innermost(this.tenants, ids, witness);
        if (tenant !== undefined) out.push({ tenant, target: witness });
      }
      this.linkTargets.set(pattern, out);
    }
    return out;
  }

  private readonly genericKeys = new Map<string, { full: number; others: number | undefined; literalPeers: ReadonlySet<string> }>();
  private readonly ruleSetIds = new Map<string, number>();
  private readonly genericAnswers = new Map<string, boolean>();

  /**
   * Whether a label allows a signal/ptrace/unix access, cached by what decides it: the profile's mode,
   * flags and rules of that class (without their source lines). 200 sites are 40,000 ordered pairs,
   * and every hat has `signal peer=@{profile_name}` (abstractions/base), a rule naming itself: when
   * every peer condition of the class is such a literal label and the peer asked about is none of them,
   * those rules cannot match, and the answer is the one for the hat's other rules, shared by all hats.
   */
  allowsGeneric(label: string, cls: 'signal' | 'ptrace' | 'unix', access: string, fields: Readonly<Record<string, string>>): boolean {
    let keys = this.genericKeys.get(`${label}\0${cls}`);
    if (keys === undefined) {
      const profile = this.profile(label);
      const head = [profile.mode, profile.flags, profile.auditAll];
      const text = (r: CompiledProfile['generic'][number]) => JSON.stringify([r.prefix, [...r.bits].sort(), r.words, r.conditions, r.target ?? null, r.implicit ?? false]);
      const rules = profile.generic.filter((r) => r.class === cls);
      const literalPeers = new Set<string>();
      let others: string[] | undefined = [];
      for (const rule of rules) {
        const peerKeys = Object.keys(rule.conditions).filter((k) => PEER_KEYS.has(k) || k.startsWith('peer'));
        if (peerKeys.length === 0) { others?.push(text(rule)); continue; }
        const values = peerKeys.flatMap((k) => rule.conditions[k]!);
        if (peerKeys.every((k) => k === 'peer' || k === 'peer.label') && values.every((v) => LITERAL_LABEL.test(v))) values.forEach((v) => literalPeers.add(v));
        else others = undefined; // a glob peer: no shortcut for this label
      }
      // The long rule texts become small numbers: they are part of every one of the pairs' cache keys.
      const intern = (key: string) => { let id = this.ruleSetIds.get(key); if (id === undefined) { id = this.ruleSetIds.size; this.ruleSetIds.set(key, id); } return id; };
      keys = { full: intern(JSON.stringify([...head, rules.map(text)])), others: others && intern(JSON.stringify([...head, others])), literalPeers };
      this.genericKeys.set(`${label}\0${cls}`, keys);
    }
    const peer = fields.peer ?? fields.peer_label;
    const shortcut = keys.others !== undefined && peer !== undefined && !keys.literalPeers.has(peer);
    // Built by hand (no objects): this runs for every ordered pair of hats.
    let key = `${shortcut ? `o${keys.others!}` : `f${keys.full}`}\0${cls}\0${access}`;
    for (const field in fields) if (!shortcut || (field !== 'peer' && field !== 'peer_label')) key += `\0${field}=${fields[field]!}`;
    let answer = this.genericAnswers.get(key);
    if (answer === undefined) {
      answer = decide(this.compiled, label, { class: cls, access: [access], fields }).allowed;
      this.genericAnswers.set(key, answer);
    }
    return answer;
  }

  private readonly insideAreas = new Map<string, boolean>();

  /**
   * What decides a label's file permissions outside the tenant areas: its mode and the file rules whose
   * pattern can match there (a rule matching only inside areas never decides a shared path).
   */
  outsideKey(label: string): string {
    const profile = this.profile(label);
    const rules: string[] = [];
    for (const rule of profile.files) {
      let inside = this.insideAreas.get(rule.pattern);
      if (inside === undefined) {
        const compiled = compilePattern(rule.pattern, { kind: 'path' });
        inside = compiled.ok && within(compiled.automaton, this.areas);
        this.insideAreas.set(rule.pattern, inside);
      }
      if (inside) continue;
      const { audit, decision, owner, priority } = rule.prefix;
      rules.push(`${decision}|${owner}|${priority}|${audit}|${[...rule.bits].sort().join('')}|${rule.exec?.text ?? ''}|${rule.execTarget ?? ''}|${rule.exact}|${rule.pattern}`);
    }
    return `${profile.mode}\0${profile.auditAll}\0${rules.sort().join('\n')}`;
  }

  masksOf(label: string): Int32Array {
    let masks = this.masks.get(label);
    if (!masks) { masks = kindMasks(this.profile(label)); this.masks.set(label, masks); }
    return masks;
  }

  /**
   * Everything a label may do inside tenant areas: per (tenant, kind), the shortest witness, other
   * half first (it holds whatever the users), else owner half. One product walk per label.
   */
  reachOf(label: string): Reach[] {
    const cached = this.reaches.get(label);
    if (cached) return cached;
    const profile = this.profile(label);
    const masks = this.masksOf(label);
    const best = new Map<string, Reach>();
    let combos: ReturnType<typeof combinations>;
    try {
      // Hat states that lead to no allowed access are not walked: for many sites most of the area
      // automaton (the other sites' roots) pairs only with such states of a hat.
      const useful = live(profile.fileAutomaton, (i) => masks[i]! !== 0);
      combos = combinations(profile.fileAutomaton, this.areas, (s) => s === 0, (s) => useful[s] === 0);
    } catch (error) {
      if (!(error instanceof ProductTooLarge)) throw error;
      this.diagnostics.push(diag('isolate/too-large', 'error', `${label}: ${error.message}; its reach is not analysed`));
      combos = [];
    }
    for (const combo of combos) {
      const tenantIds = this.areas.acceptSets[combo.right]!;
      if (tenantIds.length === 0) continue;
      const mask = masks[combo.left]!;
      if (mask === 0) continue;
      // Nested areas: a path belongs to the innermost tenant, found on the concrete witness.
      const path = witnessText(combo.witness);
      const owner = innermost(this.tenants, tenantIds, path);
      if (owner === undefined) continue;
      ACCESS_KINDS.forEach((kind, k) => {
        const other = (mask & (1 << (k * 2))) !== 0;
        const ownerHalf = (mask & (1 << (k * 2 + 1))) !== 0;
        if (!other && !ownerHalf) return;
        const key = `${owner}\0${kind}`;
        const known = best.get(key);
        // Discovery order is shortest first; an other-half witness beats an owner-only one.
        if (known && (known.ownerOnly === false || !other)) return;
        best.set(key, { tenant: owner, kind, witness: path, ownerOnly: !other });
      });
    }
    const out = [...best.values()];
    this.reaches.set(label, out);
    return out;
  }
}

function innermost(tenants: readonly ResolvedTenant[], ids: readonly number[], path: string): number | undefined {
  let bestId: number | undefined;
  let bestLength = -1;
  for (const id of ids) {
    for (const a of tenants[id]!.tenant.areas) {
      if (areaContains(a, path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path) && a.path.length > bestLength) { bestId = id; bestLength = a.path.length; }
    }
  }
  return bestId ?? ids[0];
}

/**
 * The rules granting a file witness, from decide(): the first of `kinds` it allows (other half first,
 * then the owner half when `owner`). Throws when decide() allows none: that is an analysis bug, never a
 * user error, and must not become a reported flow.
 */
function confirmFile(compiled: CompiledPolicy, label: string, path: string, kinds: AccessKind | readonly AccessKind[], owner: boolean): RuleSite[] {
  for (const kind of typeof kinds === 'string' ? [kinds] : kinds) {
    for (const half of owner ? [false, true] : [false]) {
      const decision = decide(compiled, label, { class: 'file', path, permissions: KIND_BIT[kind], owner: half });
      if (decision.allowed) return decision.grantedBy.map(ruleSite);
    }
  }
  throw new Error(`isolate: decide() denies ${String(kinds)} on ${path} for ${label}, which the analysis found allowed`);
}

function describe(flow: Omit<Flow, 'summary'>): string {
  const owner = flow.ownerOnly ? ' (owner rules only: holds because both run as the same user)' : '';
  switch (flow.kind) {
    case 'shared-path': return `${flow.from} may write ${flow.witness}, which ${flow.to} (${flow.reader}) may read or execute${owner}`;
    case 'transition': return `${flow.label} enters ${flow.via!.slice(1).join(' → ')}, which may ${flow.access} ${flow.witness} of ${flow.to}`;
    case 'change_profile': return `${flow.label} may change_profile to ${flow.witness}, ${flow.to}'s hat`;
    case 'signal': case 'ptrace': case 'unix': return `${flow.label} may ${flow.kind === 'signal' ? 'send signals to' : flow.kind === 'ptrace' ? 'trace' : 'connect a unix socket to'} ${flow.witness} (${flow.to})`;
    default: return `${flow.label} may ${flow.kind} ${flow.witness} in ${flow.to}'s area${flow.grant ? ` (Landlock grant ${flow.grant})` : ''}${owner}`;
  }
}

function makeFlow(flow: Omit<Flow, 'summary'>): Flow {
  return { ...flow, summary: describe(flow) };
}

/**
 * Which tenant may reach which other tenant's files, and how. Pure: the caller loads the policy and the
 * tenant model (and, for `landlock`, translates each hat). Diagnostics with severity `error` mean the
 * question could not be answered for some tenant (a hat missing from the policy, nothing to compare).
 */
export function isolation(compiled: CompiledPolicy, model: TenantModel, options: IsolationOptions = {}): IsolationResult {
  const diagnostics: Diagnostic[] = [...model.diagnostics];
  const tenants: ResolvedTenant[] = model.tenants.map((tenant, index) => ({ tenant, index, labels: labelsOf(compiled, tenant, options.profile, diagnostics) }));
  for (const t of tenants) {
    if (t.tenant.areas.length === 0) diagnostics.push(diag('isolate/no-area', 'warning', `${t.tenant.name} has no area: nothing of it can be reached, and it is not checked as a target`));
  }
  if (tenants.length < 2) diagnostics.push(diag('isolate/one-tenant', 'warning', `${tenants.length} tenant${tenants.length === 1 ? '' : 's'}: isolation compares at least two`));
  const analysis = new Analysis(compiled, tenants, options.statelessPaths ?? STATELESS_PATHS);
  const found: Flow[] = options.landlock
    ? landlockFlows(tenants, options.landlock, (path) => matches(analysis.notShared, path))
    : [...directFlows(analysis), ...sharedPathFlows(analysis), ...transitionFlows(analysis), ...labelFlows(analysis)];
  diagnostics.push(...analysis.diagnostics);
  const allowed = (f: Flow) => (options.allow ?? []).some((a) => a.from === f.from && a.to === f.to && (a.kind === '*' || a.kind === f.kind));
  const flows = found.filter((f) => !allowed(f));
  const accepted = found.filter(allowed);
  for (const a of options.allow ?? []) {
    if (!model.tenants.some((t) => t.name === a.from) || !model.tenants.some((t) => t.name === a.to)) {
      diagnostics.push(diag('isolate/unknown-allow', 'error', `--allow ${a.from}->${a.to}:${a.kind} names a tenant that does not exist`, `tenants: ${model.tenants.map((t) => t.name).join(', ')}`));
    }
  }
  return {
    view: options.landlock ? 'landlock' : 'apparmor',
    tenants: tenants.map((t) => ({ name: t.tenant.name, labels: t.labels, areas: t.tenant.areas.map((a) => a.path), ...(t.tenant.user !== undefined ? { user: t.tenant.user } : {}) })),
    flows,
    accepted,
    shared: options.landlock ? [] : sharedReach(analysis, model, options.profile),
    diagnostics,
  };
}

function directFlows(analysis: Analysis): Flow[] {
  const flows: Flow[] = [];
  for (const a of analysis.tenants) {
    const best = new Map<string, Flow>();
    for (const label of a.labels) {
      for (const reach of analysis.reachOf(label)) {
        if (reach.tenant === a.index) continue;
        const b = analysis.tenants[reach.tenant]!;
        if (reach.ownerOnly && usersDiffer(a.tenant, b.tenant)) continue;
        const key = `${b.index}\0${reach.kind}`;
        const known = best.get(key);
        if (known && known.witness.length <= reach.witness.length) continue;
        const rules = confirmFile(analysis.compiled, label, reach.witness, reach.kind, reach.ownerOnly);
        best.set(key, makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: reach.kind, label, witness: reach.witness, rules, ownerOnly: reach.ownerOnly }));
      }
    }
    flows.push(...best.values());
  }
  flows.push(...linkPairFlows(analysis));
  return flows;
}

const linkNames = new Map<string, string | undefined>();
/** The shortest name a link rule's link pattern matches (the same for every hat with the rule). */
function linkName(pattern: string, link: Automaton): string | undefined {
  if (!linkNames.has(pattern)) linkNames.set(pattern, isEmpty(link).witness?.text);
  return linkNames.get(pattern);
}

/**
 * Hard links whose target is in B's area (the link name may be anywhere): a link to B's file inside A's
 * own area would give A its own rights on B's inode. Each pair is confirmed by decide() (subset rules).
 */
function linkPairFlows(analysis: Analysis): Flow[] {
  const flows: Flow[] = [];
  for (const a of analysis.tenants) {
    for (const label of a.labels) {
      const profile = analysis.profile(label);
      const seen = new Set<number>();
      for (const entry of profile.links) {
        if (entry.prefix.decision !== 'allow' || entry.implicit) continue;
        const name = linkName(entry.linkPattern, entry.link);
        if (name === undefined) continue;
        for (const { tenant: b, target } of analysis.linkTargetsOf(entry.targetPattern, entry.target)) {
          if (b === a.index || seen.has(b)) continue;
          const owner = entry.prefix.owner === 'owner';
          if (owner && usersDiffer(a.tenant, analysis.tenants[b]!.tenant)) continue;
          const decision = decide(analysis.compiled, label, { class: 'link', path: name, target, owner });
          if (!decision.allowed) continue;
          seen.add(b);
          flows.push(makeFlow({
            from: a.tenant.name, to: analysis.tenants[b]!.tenant.name, kind: 'link', label, witness: `${name} -> ${target}`,
            rules: decision.grantedBy.map(ruleSite), ownerOnly: owner,
          }));
        }
      }
    }
  }
  return flows;
}

/** Modes in which a path no rule matches is allowed: every path may be read. */
const PERMISSIVE_MODES: ReadonlySet<string> = new Set(['complain', 'unconfined', 'default_allow']);

/**
 * A quick exact-enough filter for the shared-path walks (thousands of writer × reader pairs for many
 * sites): per writer group, the reader groups whose allow rules granting read or exec meet what the
 * writer may write outside the areas, from one walk against the union of every group's read patterns.
 * It over-approximates (deny rules are ignored), so only pairs it rules out are skipped and
 * every reported flow is the one the pairwise walk finds. Undefined when no filter can be built.
 */
function readerCandidates(
  analysis: Analysis, groups: readonly string[][], liveOf: (label: string, mask: number) => Uint8Array, liveOutside: Uint8Array,
  otherOnly: boolean,
): ((writer: number) => Set<number>) | undefined {
  // Each distinct pattern once, tagged with the list of groups that have it: the common abstractions'
  // patterns, in every hat, would otherwise be copied once per group into one huge determinization.
  const groupsOfPattern = new Map<string, Set<number>>();
  for (const [index, group] of groups.entries()) {
    const profile = analysis.profile(group[0]!);
    if (PERMISSIVE_MODES.has(profile.mode)) return undefined;
    for (const rule of profile.files) {
      // The other half (any user) is granted only by rules without `owner`.
      if (rule.prefix.decision !== 'allow' || (otherOnly && rule.prefix.owner === 'owner')) continue;
      if (!(rule.bits.has('r') || rule.bits.has('x') || rule.exec !== undefined)) continue;
      const members = groupsOfPattern.get(rule.pattern);
      if (members) members.add(index); else groupsOfPattern.set(rule.pattern, new Set([index]));
    }
  }
  const tagOf = new Map<string, number>();
  const tags: number[][] = [];
  const entries = [...groupsOfPattern].map(([pattern, members]) => {
    const list = [...members];
    const key = list.join(',');
    let id = tagOf.get(key);
    if (id === undefined) { id = tags.length; tagOf.set(key, id); tags.push(list); }
    return { pattern, id };
  });
  const set = compileRuleSet(entries, { kind: 'path' });
  if (!set.ok) return undefined;
  const readable = set.automaton;
  const readableLive = live(readable, (index) => readable.acceptSets[index]!.length > 0);
  const cache = new Map<number, Set<number>>();
  return (writer) => {
    let ids = cache.get(writer);
    if (!ids) {
      const label = groups[writer]![0]!;
      const w = analysis.masksOf(label);
      try {
        const met = taggedMeets(analysis.profile(label).fileAutomaton, (i) => (w[i]! & WRITE_MASK) !== 0, liveOf(label, WRITE_MASK),
          analysis.notShared, liveOutside, readable, readableLive);
        ids = new Set([...met].flatMap((tag) => tags[tag]!));
      } catch (error) {
        if (!(error instanceof ProductTooLarge)) throw error;
        ids = new Set(groups.keys()); // no filter for this writer: every pair is walked (and reports its own size problem)
      }
      cache.set(writer, ids);
    }
    return ids;
  };
}

/**
 * Paths outside every tenant's area that A may write and B may read or execute (a shared /tmp, a common
 * cache, a session directory). Hats with the same writable (or readable) shared set are compared once.
 */
function sharedPathFlows(analysis: Analysis): Flow[] {
  // Hats whose file rules outside the tenant areas are the same decide every shared path the same way:
  // their sets are built once (a site's own-root rules never match outside the areas).
  const byRules = new Map<string, string[]>();
  for (const t of analysis.tenants) {
    for (const label of t.labels) {
      const key = analysis.outsideKey(label);
      const members = byRules.get(key);
      if (members) { if (!members.includes(label)) members.push(label); } else byRules.set(key, [label]);
    }
  }
  const groups = [...byRules.values()];
  const tenantOfLabel = new Map<string, ResolvedTenant>();
  for (const t of analysis.tenants) for (const l of t.labels) tenantOfLabel.set(l, t);
  // Per (writer group, reader group, halves read): the shortest shared path, from one three-way walk.
  const witnesses = new Map<string, string | undefined>();
  const liveCache = new Map<string, Uint8Array>();
  const liveOf = (label: string, mask: number): Uint8Array => {
    const key = `${label}\0${mask}`;
    let states = liveCache.get(key);
    if (!states) { const m = analysis.masksOf(label); states = live(analysis.profile(label).fileAutomaton, (i) => (m[i]! & mask) !== 0); liveCache.set(key, states); }
    return states;
  };
  const liveOutside = live(analysis.notShared, (index) => index === 0);
  const candidatesOf = new Map([READ_OTHER, READ_ANY].map((mask) => [mask, readerCandidates(analysis, groups, liveOf, liveOutside, mask === READ_OTHER)]));
  const common = (writer: string[], reader: string[], mask: number): string | undefined => {
    const key = `${groups.indexOf(writer)}\0${groups.indexOf(reader)}\0${mask}`;
    if (!witnesses.has(key)) {
      const candidates = candidatesOf.get(mask);
      if (candidates && !candidates(groups.indexOf(writer)).has(groups.indexOf(reader))) { witnesses.set(key, undefined); return undefined; }
      const w = analysis.masksOf(writer[0]!);
      const r = analysis.masksOf(reader[0]!);
      let found: string | undefined;
      try {
        found = firstCommon(analysis.profile(writer[0]!).fileAutomaton, (i) => (w[i]! & WRITE_MASK) !== 0, analysis.profile(reader[0]!).fileAutomaton, (i) => (r[i]! & mask) !== 0, analysis.notShared,
          { left: liveOf(writer[0]!, WRITE_MASK), right: liveOf(reader[0]!, mask), excluded: liveOutside });
      } catch (error) {
        if (!(error instanceof ProductTooLarge)) throw error;
        analysis.diagnostics.push(diag('isolate/too-large', 'error', `shared paths between ${writer[0]} and ${reader[0]} not analysed: ${error.message}`));
      }
      witnesses.set(key, found);
    }
    return witnesses.get(key);
  };
  const best = new Map<string, Flow>();
  for (const w of groups) {
    for (const mask of [READ_OTHER, READ_ANY]) {
      const ownerOnly = mask === READ_ANY;
      for (const r of groups) {
        // Owner-only shared paths count only between tenants that may run as the same user.
        if (ownerOnly && !w.some((writer) => r.some((reader) => !usersDiffer(tenantOfLabel.get(writer)!.tenant, tenantOfLabel.get(reader)!.tenant)))) continue;
        const witness = common(w, r, mask);
        if (witness === undefined) continue;
        for (const writer of w) {
          const a = tenantOfLabel.get(writer)!;
          for (const reader of r) {
            const b = tenantOfLabel.get(reader)!;
            if (a === b) continue;
            if (ownerOnly && usersDiffer(a.tenant, b.tenant)) continue;
            const key = `${a.index}\0${b.index}`;
            const known = best.get(key);
            if (known && (!known.ownerOnly || ownerOnly) && known.witness.length <= witness.length) continue;
            const rules = confirmFile(analysis.compiled, writer, witness, ['write', 'create'], true);
            confirmFile(analysis.compiled, reader, witness, ['read', 'exec'], !usersDiffer(a.tenant, b.tenant));
            const otherRead = (['read', 'exec'] as const).some((kind) => decide(analysis.compiled, reader, { class: 'file', path: witness, permissions: KIND_BIT[kind], owner: false }).allowed);
            best.set(key, makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: 'shared-path', label: writer, reader, witness, rules, ownerOnly: !otherRead }));
          }
        }
      }
    }
  }
  return [...best.values()];
}

/** Exec transitions out of a label: the files it may exec into another domain, and where they lead. */
function transitionsOf(analysis: Analysis, label: string): { target: string; witness: string; mode: string }[] {
  const profile = analysis.profile(label);
  const out: { target: string; witness: string; mode: string }[] = [];
  const sets = acceptingSets(profile.fileAutomaton);
  for (const { ids, witness } of sets) {
    for (const owner of [false, true]) {
      const rules = ids.map((id) => profile.fileGroups[id]!.rule).filter((r) => r.prefix.owner === 'any' || (r.prefix.owner === 'owner') === owner);
      const resolved = resolveFileBits(rules);
      if (!finishBit(profile, 'x', resolved.x).allowed) continue;
      const exec = execOf(resolved.x);
      if (!exec || exec.mode.transition === 'inherit') continue;
      const path = witness.text;
      let target: string | undefined;
      if (exec.mode.transition === 'unconfined') target = UNCONFINED;
      else if (exec.mode.transition === 'child') {
        const base = label.split('//')[0]!;
        target = exec.target !== undefined ? `${label}//${exec.target}` : [...analysis.compiled.profiles.values()].find((p) => p.label.startsWith(`${label}//`) && attaches(p, path))?.label;
        if (target !== undefined && !analysis.compiled.profiles.has(target) && analysis.compiled.profiles.has(`${base}//${exec.target}`)) target = `${base}//${exec.target}`;
      } else {
        target = exec.target ?? [...analysis.compiled.profiles.values()].find((p) => !p.label.includes('//') && attaches(p, path))?.label;
      }
      if (target === undefined || (target !== UNCONFINED && !analysis.compiled.profiles.has(target))) {
        // The exec fails without a target, unless a fallback applies.
        if (exec.mode.fallback === 'unconfined') target = UNCONFINED; else continue;
      }
      out.push({ target, witness: path, mode: exec.mode.text });
    }
  }
  for (const cp of profile.changeProfile) {
    if (cp.prefix.decision !== 'allow') continue;
    for (const other of analysis.compiled.profiles.keys()) {
      if (other === label) continue;
      if (decide(analysis.compiled, label, { class: 'change_profile', target: other }).allowed && !out.some((o) => o.target === other)) {
        out.push({ target: other, witness: other, mode: 'change_profile' });
      }
    }
  }
  return out;
}

const UNCONFINED = 'unconfined';

const attachments = new WeakMap<CompiledProfile, Automaton | null>();

/** Does the profile attach to this executable (its attachment, or its name when that is a path)? */
function attaches(profile: CompiledProfile, path: string): boolean {
  let automaton = attachments.get(profile);
  if (automaton === undefined) {
    const name = profile.label.split('//').pop()!;
    const pattern = profile.attachment ?? (name.startsWith('/') ? name : undefined);
    const compiled = pattern !== undefined ? compilePattern(pattern, { kind: 'path' }) : undefined;
    automaton = compiled?.ok ? compiled.automaton : null;
    attachments.set(profile, automaton);
  }
  return automaton !== null && matches(automaton, path);
}

function transitionFlows(analysis: Analysis): Flow[] {
  const flows: Flow[] = [];
  const labelTenant = new Map<string, ResolvedTenant>();
  for (const t of analysis.tenants) for (const l of t.labels) labelTenant.set(l, t);
  for (const a of analysis.tenants) {
    for (const start of a.labels) {
      // Breadth-first over the labels reachable by exec and change_profile, with the chain that got there.
      const chains = new Map<string, { chain: string[]; witnesses: string[] }>([[start, { chain: [start], witnesses: [] }]]);
      const queue = [start];
      const reported = new Set<string>();
      for (let i = 0; i < queue.length; i++) {
        const label = queue[i]!;
        if (label === UNCONFINED) continue;
        for (const step of transitionsOf(analysis, label)) {
          if (chains.has(step.target)) continue;
          const here = chains.get(label)!;
          chains.set(step.target, { chain: [...here.chain, step.target], witnesses: [...here.witnesses, `${step.mode} ${step.witness}`] });
          queue.push(step.target);
        }
      }
      for (const [label, { chain, witnesses }] of chains) {
        if (label === start) continue;
        const into = labelTenant.get(label);
        if (into && into !== a) {
          const key = `${into.index}\0change`;
          if (!reported.has(key)) {
            reported.add(key);
            const last = witnesses[witnesses.length - 1]!;
            const direct = chain.length === 2 && last.startsWith('change_profile ');
            flows.push(makeFlow({
              from: a.tenant.name, to: into.tenant.name, kind: direct ? 'change_profile' : 'transition', label: start, witness: direct ? label : last.split(' ').slice(1).join(' '),
              rules: [], ownerOnly: false, via: chain, ...(direct ? {} : { access: 'exec' as const }),
            }));
          }
          continue;
        }
        if (into === a) continue;
        const reaches: Reach[] = label === UNCONFINED
          ? analysis.tenants.filter((t) => t !== a && t.tenant.areas.length > 0).map((t) => ({ tenant: t.index, kind: 'read' as const, witness: t.tenant.areas[0]!.path, ownerOnly: false }))
          : analysis.reachOf(label);
        for (const reach of reaches) {
          if (reach.tenant === a.index) continue;
          const b = analysis.tenants[reach.tenant]!;
          if (reach.ownerOnly && usersDiffer(a.tenant, b.tenant)) continue;
          const key = `${b.index}\0${reach.kind}`;
          if (reported.has(key)) continue;
          reported.add(key);
          const rules = label === UNCONFINED ? [] : confirmFile(analysis.compiled, label, reach.witness, reach.kind, reach.ownerOnly);
          flows.push(makeFlow({
            from: a.tenant.name, to: b.tenant.name, kind: 'transition', label: start, witness: reach.witness, rules, ownerOnly: reach.ownerOnly,
            via: [...chain.slice(0, 1), ...chain.slice(1).map((l, i) => `${l} (${witnesses[i]})`)], access: reach.kind,
          }));
        }
      }
    }
  }
  // One transition flow per (from, to) pair is enough to show the path; keep the first per access.
  return flows;
}

const UNIX_TYPES = ['stream', 'dgram', 'seqpacket'] as const;
/** Rule condition keys that name the peer. */
const PEER_KEYS: ReadonlySet<string> = new Set(['peer', 'peer.label', 'peer_label', 'label']);
/** A label pattern without AARE specials matches exactly itself. */
const LITERAL_LABEL = /^[^*?[\]{}\\^"]+$/;

/** Signals, ptrace and unix sockets between labels: both sides must allow (policy-semantics §10). */
function labelFlows(analysis: Analysis): Flow[] {
  const flows: Flow[] = [];
  type Cls = 'signal' | 'ptrace' | 'unix';
  // The yes/no comes from the cache; decide() is asked again only for the granting rules of a flow.
  const allows = (label: string, cls: Cls, access: string, fields: Record<string, string>) => analysis.allowsGeneric(label, cls, access, fields);
  const grantedBy = (label: string, cls: Cls, access: string, fields: Record<string, string>) =>
    decide(analysis.compiled, label, { class: cls, access: [access], fields }).grantedBy.map(ruleSite);
  // A label without any allow rule that could grant the initiating access needs no per-peer question
  // (keeps the pairs × labels loop cheap for the usual hats, which have none).
  const mayInitiate = (label: string, cls: Cls, bits: readonly string[]): boolean => {
    const profile = analysis.profile(label);
    return profile.mode !== 'enforce' || profile.generic.some((r) => r.class === cls && r.prefix.decision !== 'deny' && bits.some((b) => r.bits.has(b)));
  };
  for (const a of analysis.tenants) {
    for (const b of analysis.tenants) {
      if (a === b) continue;
      const done = new Set<string>();
      for (const la of a.labels) {
        const signals = mayInitiate(la, 'signal', ['send']);
        const traces = mayInitiate(la, 'ptrace', ['trace', 'read']);
        const sockets = mayInitiate(la, 'unix', ['connect', 'send']);
        if (!signals && !traces && !sockets) continue;
        for (const lb of b.labels) {
          const signal = { peer: lb, signal: 'kill' };
          if (signals && !done.has('signal') && allows(la, 'signal', 'send', signal) && allows(lb, 'signal', 'receive', { peer: la, signal: 'kill' })) {
            done.add('signal');
            flows.push(makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: 'signal', label: la, witness: lb, rules: grantedBy(la, 'signal', 'send', signal), ownerOnly: false }));
          }
          if (traces && !done.has('ptrace')) {
            const access = allows(la, 'ptrace', 'trace', { peer: lb }) && allows(lb, 'ptrace', 'tracedby', { peer: la }) ? 'trace'
              : allows(la, 'ptrace', 'read', { peer: lb }) && allows(lb, 'ptrace', 'readby', { peer: la }) ? 'read' : undefined;
            if (access) {
              done.add('ptrace');
              flows.push(makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: 'ptrace', label: la, witness: lb, rules: grantedBy(la, 'ptrace', access, { peer: lb }), ownerOnly: false }));
            }
          }
          for (const type of UNIX_TYPES) {
            if (done.has('unix') || !sockets) break;
            const [send, receive] = type === 'dgram' ? ['send', 'receive'] : ['connect', 'accept'];
            const out = { peer: lb, peer_label: lb, type };
            if (allows(la, 'unix', send!, out) && allows(lb, 'unix', receive!, { peer: la, peer_label: la, type })) {
              done.add('unix');
              flows.push(makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: 'unix', label: la, witness: `${lb} (${type})`, rules: grantedBy(la, 'unix', send!, out), ownerOnly: false }));
            }
          }
        }
      }
    }
  }
  return flows;
}

/** The parent profiles of the tenants' hats and the shared hats: what they reach of each tenant. */
function sharedReach(analysis: Analysis, model: TenantModel, profile: string | undefined): SharedReach[] {
  const labels = new Set<string>();
  for (const t of analysis.tenants) for (const l of t.labels) if (l.includes('//')) labels.add(l.slice(0, l.lastIndexOf('//')));
  if (profile !== undefined && analysis.compiled.profiles.has(profile)) labels.add(profile);
  for (const parent of [...labels]) {
    for (const hat of model.shared) if (analysis.compiled.profiles.has(`${parent}//${hat}`)) labels.add(`${parent}//${hat}`);
  }
  const out: SharedReach[] = [];
  for (const label of labels) {
    for (const reach of analysis.reachOf(label)) {
      const rules = confirmFile(analysis.compiled, label, reach.witness, reach.kind, reach.ownerOnly);
      out.push({ label, tenant: analysis.tenants[reach.tenant]!.tenant.name, kind: reach.kind, witness: reach.witness, rules });
    }
  }
  return out;
}

/**
 * The Landlock view: each grant covers its path and everything beneath, so a grant reaches B when it
 * lies inside B's area or contains it (exact on literal directories); a shared path is a grant of A's
 * with write and one of B's with read/exec where one lies inside the other, outside every area.
 * Landlock does not mediate locks or mmap: a file that can be opened can be locked and mapped.
 */
function landlockFlows(tenants: readonly ResolvedTenant[], grantsByLabel: ReadonlyMap<string, readonly LandlockGrant[]>, notShared: (path: string) => boolean): Flow[] {
  const flows: Flow[] = [];
  const grantsOf = (t: ResolvedTenant) => t.labels.flatMap((label) => (grantsByLabel.get(label) ?? []).map((grant) => ({ label, grant })));
  const kindsOf = (g: LandlockGrant): AccessKind[] => [
    ...(g.read ? ['read', 'lock', 'map-exec'] as const : []),
    ...(g.write ? ['write', 'create', 'link', 'lock'] as const : []),
    ...(g.exec ? ['exec'] as const : []),
  ].filter((k, i, all) => all.indexOf(k) === i);
  const meet = (grant: string, area: string): string | undefined => (areaContains({ path: grant }, area) ? area : areaContains({ path: area }, grant) ? grant : undefined);
  for (const a of tenants) {
    const grants = grantsOf(a);
    for (const b of tenants) {
      if (a === b) continue;
      const best = new Map<AccessKind, Flow>();
      for (const { label, grant } of grants) {
        for (const area of b.tenant.areas) {
          const witness = meet(grant.path, area.path);
          if (witness === undefined) continue;
          // A grant on A's own area that contains B's (nested areas) is reported by the tenant model.
          if (a.tenant.areas.some((own) => areaContains(own, witness) && own.path.length > area.path.length)) continue;
          for (const kind of kindsOf(grant)) {
            if (best.has(kind)) continue;
            best.set(kind, makeFlow({ from: a.tenant.name, to: b.tenant.name, kind, label, witness, rules: [], ownerOnly: false, grant: grant.path }));
          }
        }
      }
      flows.push(...best.values());
      const writes = grants.filter((g) => g.grant.write);
      const reads = grantsOf(b).filter((g) => g.grant.read || g.grant.exec);
      let shared: Flow | undefined;
      for (const w of writes) {
        for (const r of reads) {
          const witness = meet(w.grant.path, r.grant.path);
          if (witness === undefined || notShared(witness)) continue;
          if (!shared || witness.length < shared.witness.length) {
            shared = makeFlow({ from: a.tenant.name, to: b.tenant.name, kind: 'shared-path', label: w.label, reader: r.label, witness, rules: [], ownerOnly: false, grant: w.grant.path });
          }
        }
      }
      if (shared) flows.push(shared);
    }
  }
  return flows;
}

