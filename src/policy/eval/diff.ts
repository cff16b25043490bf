// diffPolicies(): compare two policies by meaning. For files this is exact: both profiles' rule-set
// DFAs are walked together (a product), each state pair is labelled with the effective permissions the
// matched rules give (per half, per bit: outcome and audit; the exec transition), and a breadth-first
// search finds the shortest canonical path where the labels differ. Two policies written completely
// differently compare equal when those labels agree everywhere. Other classes are compared on a
// request universe built from the values both policies mention (plus one value neither mentions).
import { WITNESS_BYTE_ORDER, isEmpty, type Automaton } from '../aare/index.js';
import { CAPABILITIES } from '../vocabulary.js';
import {
  CLASS_ACCESS, FILE_BITS, PatternCache, sameFileGroups, type CompiledPolicy, type CompiledProfile, type FileEntry, type MediatedClass,
} from './compile.js';
import { decide, execOf, finishBit, MOUNT_CLASSES, resolveFileBits } from './decide.js';
import type { AccessRequest, ClassDiff, Decision, DiffWitness, PolicyDiff, ProfileDiff } from './types.js';

export interface DiffOptions {
  /** Witnesses reported per class (distinct kinds of difference). Default 5. */
  readonly maxWitnesses?: number;
  /** Cap on product states explored for the file class. Default 2,000,000. */
  readonly maxProductStates?: number;
}

const SLASH = 0x2f;

function fileLabel(profile: CompiledProfile, acceptIndex: number, owner: boolean, cache: Map<number, string>): string {
  const key = acceptIndex * 2 + (owner ? 1 : 0);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const ids = profile.fileAutomaton.acceptSets[acceptIndex]!;
  const rules: FileEntry[] = [];
  for (const id of ids) {
    const rule = profile.fileGroups[id]!.rule;
    if (rule.prefix.owner === 'any' || (rule.prefix.owner === 'owner') === owner) rules.push(rule);
  }
  const bits = resolveFileBits(rules);
  let label = '';
  for (const bit of FILE_BITS) {
    // What the task sees: allowed or not, and how it is logged (an `audit deny` of a bit nobody grants
    // behaves like no rule at all).
    const effective = finishBit(profile, bit, bits[bit]);
    label += `${bit}${effective.allowed ? '+' : '-'}${effective.log};`;
  }
  const exec = execOf(bits.x);
  if (exec) label += `x=${exec.mode.transition}/${exec.mode.fallback ?? ''}/${exec.mode.safe ? 'safe' : 'unsafe'}/${exec.target ?? ''}`;
  cache.set(key, label);
  return label;
}

/** Shortest canonical paths (start with `/`, no `//`, no NUL) where the two profiles' file labels differ. */
function fileWitnesses(a: CompiledProfile, b: CompiledProfile, owner: boolean, options: DiffOptions): { paths: string[]; complete: boolean } {
  // One DFA (shared through a CompileCache) with the same group effects and the same mode labels every
  // state alike: nothing to walk.
  if (a.fileAutomaton === b.fileAutomaton && a.mode === b.mode && a.auditAll === b.auditAll && sameFileGroups(a.fileGroups, b.fileGroups)) {
    return { paths: [], complete: true };
  }
  const A = a.fileAutomaton;
  const B = b.fileAutomaton;
  const maxWitnesses = options.maxWitnesses ?? 5;
  const maxStates = options.maxProductStates ?? 2_000_000;
  // Distinct moves: one byte (the first in witness order) per pair of byte classes.
  const moves: number[] = [];
  const seenMove = new Set<number>();
  for (const byte of WITNESS_BYTE_ORDER) {
    if (byte === 0) continue;
    const key = A.classOf[byte]! * B.classCount + B.classOf[byte]!;
    if (byte === SLASH || !seenMove.has(key)) {
      if (byte !== SLASH) seenMove.add(key);
      moves.push(byte);
    }
  }
  const cacheA = new Map<number, string>();
  const cacheB = new Map<number, string>();
  // State: (stateA, stateB, lastWasSlash). Index arrays keep the BFS tree for witness reconstruction.
  const sa: number[] = [A.start];
  const sb: number[] = [B.start];
  const slash: boolean[] = [false];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  const seen = new Set<string>([`${A.start},${B.start},0`]);
  const kinds = new Set<string>();
  const paths: string[] = [];
  const pathOf = (i: number) => {
    const bytes: number[] = [];
    for (let at = i; parent[at]! >= 0; at = parent[at]!) bytes.push(via[at]!);
    return Buffer.from(bytes.reverse()).toString('utf8');
  };
  for (let i = 0; i < sa.length; i++) {
    const x = sa[i]!;
    const y = sb[i]!;
    if (i > 0) {
      const la = fileLabel(a, A.acceptIndex[x]!, owner, cacheA);
      const lb = fileLabel(b, B.acceptIndex[y]!, owner, cacheB);
      if (la !== lb && !kinds.has(`${la}|${lb}`)) {
        kinds.add(`${la}|${lb}`);
        paths.push(pathOf(i));
        if (paths.length >= maxWitnesses) return { paths, complete: true };
      }
    }
    if (x === 0 && y === 0) continue;
    for (const byte of moves) {
      if (i === 0 && byte !== SLASH) continue; // paths start with '/'
      if (byte === SLASH && slash[i]) continue; // canonical paths have no '//'
      const nx = A.transitions[x * A.classCount + A.classOf[byte]!]!;
      const ny = B.transitions[y * B.classCount + B.classOf[byte]!]!;
      if (nx === 0 && ny === 0) continue;
      const isSlash = byte === SLASH;
      const key = `${nx},${ny},${isSlash ? 1 : 0}`;
      if (seen.has(key)) continue;
      if (sa.length >= maxStates) return { paths, complete: false };
      seen.add(key);
      sa.push(nx); sb.push(ny); slash.push(isSlash); parent.push(i); via.push(byte);
    }
  }
  return { paths, complete: true };
}

function describeRequest(request: AccessRequest): string {
  switch (request.class) {
    case 'file': return `${request.path}${request.owner ? ' (owner)' : ''}`;
    case 'link': return `${request.path} -> ${request.target}`;
    case 'capability': return `capability ${request.name}`;
    case 'change_profile': return `change_profile -> ${request.target}${request.exec ? ` (exec ${request.exec})` : ''}`;
    default: return `${request.class} ${Object.entries(request.fields).map(([k, v]) => `${k}=${v}`).join(' ')}`.trim();
  }
}

function compareDecisions(request: AccessRequest, before: Decision, after: Decision): DiffWitness | undefined {
  const gained: string[] = [];
  const lost: string[] = [];
  const changed: string[] = [];
  before.bits.forEach((b, i) => {
    const c = after.bits[i]!;
    if (!b.allowed && c.allowed) gained.push(b.bit);
    else if (b.allowed && !c.allowed) lost.push(b.bit);
    else if (b.log !== c.log) changed.push(`${b.bit}: logged ${b.log} → ${c.log}`);
  });
  const execText = (d: Decision) => (d.exec ? `${d.exec.mode.text}${d.exec.target ? ` -> ${d.exec.target}` : ''}` : '');
  if (execText(before) !== execText(after)) changed.push(`exec: ${execText(before) || 'none'} → ${execText(after) || 'none'}`);
  if (!gained.length && !lost.length && !changed.length) return undefined;
  const what = describeRequest(request);
  const parts = [gained.length ? `gained: ${gained.join('')} on ${what}` : '', lost.length ? `lost: ${lost.join('')} on ${what}` : '',
    changed.length ? `changed on ${what}: ${changed.join('; ')}` : ''].filter(Boolean);
  return { request, before, after, gained, lost, changed, summary: parts.join('; ') };
}

/** A few strings a pattern automaton matches (the shortest one), for building request universes. */
function representative(automaton: Automaton | undefined): string | undefined {
  if (!automaton) return undefined;
  const result = isEmpty(automaton);
  return result.empty ? undefined : result.witness!.text;
}

/** Requests for one generic class: every value either profile mentions per field, plus one neither does. */
function genericUniverse(a: CompiledProfile, b: CompiledProfile, cls: MediatedClass, patterns: PatternCache): AccessRequest[] {
  const rules = [...a.generic, ...b.generic].filter((r) => r.class === cls);
  if (rules.length === 0) return [];
  const values = new Map<string, Set<string>>();
  const add = (field: string, value: string | undefined) => {
    if (value === undefined) return;
    // A pattern stands for the shortest string it matches.
    const concrete = /[*?{}[\]\\]/.test(value) ? representative(patterns.get(value, 'glob_null')) : value;
    if (concrete !== undefined) (values.get(field) ?? values.set(field, new Set()).get(field)!).add(concrete);
  };
  for (const rule of rules) {
    for (const word of rule.words) {
      if (cls === 'network' || cls === 'unix') add(/^(stream|dgram|seqpacket|rdm|raw|packet)$/.test(word) ? 'type' : /^(tcp|udp|icmp)$/.test(word) ? 'protocol' : 'family', word);
      else if (cls === 'mqueue') add('name', word);
      else if (MOUNT_CLASSES.has(cls)) add(cls === 'mount' ? 'source' : 'mountpoint', word);
    }
    if (rule.target !== undefined) add(cls === 'pivot_root' ? 'profile' : 'mountpoint', rule.target);
    for (const [key, list] of Object.entries(rule.conditions)) {
      const field = key === 'set' ? 'signal' : key === 'peer' || key === 'peer.label' ? 'peer' : key.replace('.', '_');
      for (const v of list) add(field, v);
    }
  }
  for (const set of values.values()) set.add('hatter-unmentioned');
  const fields = [...values.keys()];
  let combos: Record<string, string>[] = [{}];
  for (const field of fields) {
    const next: Record<string, string>[] = [];
    for (const combo of combos) for (const v of values.get(field)!) if (next.length < 4000) next.push({ ...combo, [field]: v });
    combos = next;
  }
  return combos.flatMap((f) => CLASS_ACCESS[cls].map((bit) => ({ class: cls, access: [bit], fields: f }) as AccessRequest));
}

/**
 * Everything compareProfiles and decide read of a profile, without where the rules were written: two
 * profiles with the same text here decide every request alike and compare equal. (Its hats, children
 * and attachment are not read: they are profiles and matches of their own.) Automata are left out:
 * each is compiled from pattern text that is part of its entry (the file DFA from the files' patterns
 * and groups, links and change_profile from theirs), so equal text means equal automata. A field that
 * decide() starts to read must be added here.
 */
function effectText(profile: CompiledProfile): string {
  const { mode, flags, auditAll, files, fileGroups, links, capabilities, generic, changeProfile, rlimits } = profile;
  return JSON.stringify({ mode, flags, auditAll, files, fileGroups, links, capabilities, generic, changeProfile, rlimits }, (key, value: unknown) => {
    // Only the rules' RuleRefs: `source` may also be the name of a condition.
    if (key === 'source' && value !== null && typeof value === 'object' && Array.isArray((value as { includeChain?: unknown }).includeChain)) return undefined;
    if (value instanceof Set) return { set: [...value] };
    if (value instanceof Map) return { map: [...value] };
    if (value !== null && typeof value === 'object' && (value as Automaton).transitions instanceof Int32Array) return undefined;
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return value;
  });
}

function compareProfiles(a: CompiledProfile, b: CompiledProfile, before: CompiledPolicy, after: CompiledPolicy, options: DiffOptions): ProfileDiff {
  const patterns = new PatternCache([]);
  const classes: ClassDiff[] = [];
  const maxWitnesses = options.maxWitnesses ?? 5;
  // Profiles an edit did not touch (most of them, in a tree) need no requests and no walk.
  const same = effectText(a) === effectText(b);
  const viaRequests = (cls: ClassDiff['class'], requests: AccessRequest[]) => {
    const witnesses: DiffWitness[] = [];
    if (!same) for (const request of requests) {
      const w = compareDecisions(request, decide(before, a.label, request), decide(after, b.label, request));
      if (w) { witnesses.push(w); if (witnesses.length >= maxWitnesses) break; }
    }
    classes.push({ class: cls, equal: witnesses.length === 0, witnesses, notes: [] });
  };

  // Flags and mode.
  const flagNotes: string[] = [];
  if (a.mode !== b.mode) flagNotes.push(`mode: ${a.mode} → ${b.mode}`);
  const fa = [...a.flags].sort().join(',');
  const fb = [...b.flags].sort().join(',');
  if (fa !== fb) flagNotes.push(`flags: (${fa}) → (${fb})`);
  classes.push({ class: 'flags', equal: flagNotes.length === 0, witnesses: [], notes: flagNotes });

  // Files, exactly, per half.
  const fileWitnessList: DiffWitness[] = [];
  const fileNotes: string[] = [];
  for (const owner of [true, false]) {
    const { paths, complete } = same ? { paths: [], complete: true } : fileWitnesses(a, b, owner, options);
    if (!complete) fileNotes.push(`file comparison stopped at ${options.maxProductStates ?? 2_000_000} product states (${owner ? 'owner' : 'other'} half)`);
    for (const path of paths) {
      const request: AccessRequest = { class: 'file', path, permissions: 'rwalkmx', owner };
      const w = compareDecisions(request, decide(before, a.label, request), decide(after, b.label, request));
      if (w && !fileWitnessList.some((x) => x.summary === w.summary)) fileWitnessList.push(w);
    }
  }
  classes.push({ class: 'file', equal: fileWitnessList.length === 0 && fileNotes.length === 0, witnesses: fileWitnessList.slice(0, maxWitnesses * 2), notes: fileNotes });

  // Capabilities: every name either side mentions, plus one neither does (covers bare `capability,`).
  const capNames = new Set<string>();
  for (const c of [...a.capabilities, ...b.capabilities]) for (const n of c.names) capNames.add(n);
  capNames.add(CAPABILITIES.find((n) => !capNames.has(n)) ?? 'hatter_unmentioned');
  viaRequests('capability', [...capNames].map((name) => ({ class: 'capability', name })));

  // Links: each rule's representative link/target pair from both sides.
  const linkRequests: AccessRequest[] = [];
  for (const l of same ? [] : [...a.links, ...b.links]) {
    const path = representative(l.link);
    const target = representative(l.target);
    if (path && target) for (const owner of [true, false]) linkRequests.push({ class: 'link', path, target, owner });
  }
  viaRequests('link', linkRequests);

  // change_profile: representative targets (and exec paths), plus one neither mentions.
  const cpRequests: AccessRequest[] = [{ class: 'change_profile', target: 'hatter-unmentioned' }];
  for (const c of same ? [] : [...a.changeProfile, ...b.changeProfile]) {
    const target = representative(c.target);
    const exec = c.exec ? representative(c.exec) : undefined;
    if (target) {
      for (const unsafe of [false, true]) cpRequests.push({ class: 'change_profile', target, ...(exec ? { exec } : {}), ...(unsafe ? { unsafe } : {}) });
    }
  }
  viaRequests('change_profile', cpRequests);

  for (const cls of Object.keys(CLASS_ACCESS) as MediatedClass[]) {
    if (same) {
      if (a.generic.some((r) => r.class === cls)) viaRequests(cls, []); // genericUniverse is empty exactly when no rule has the class
      continue;
    }
    const requests = genericUniverse(a, b, cls, patterns);
    if (requests.length) viaRequests(cls, requests);
  }

  // rlimits: the effective (lowest) value per resource.
  const limits = (p: CompiledProfile) => {
    const map = new Map<string, number | string>();
    for (const r of p.rlimits) {
      const value = r.normalized ?? r.value;
      const old = map.get(r.resource);
      map.set(r.resource, old === undefined ? value : typeof old === 'number' && typeof value === 'number' ? Math.min(old, value) : value);
    }
    return map;
  };
  const la = limits(a);
  const lb = limits(b);
  const rlimitNotes: string[] = [];
  for (const resource of new Set([...la.keys(), ...lb.keys()])) {
    if (la.get(resource) !== lb.get(resource)) rlimitNotes.push(`rlimit ${resource}: ${la.get(resource) ?? 'unset'} → ${lb.get(resource) ?? 'unset'}`);
  }
  classes.push({ class: 'rlimit', equal: rlimitNotes.length === 0, witnesses: [], notes: rlimitNotes });

  return { label: a.label, equal: classes.every((c) => c.equal), classes };
}

/** Compare two compiled policies profile by profile (hats and children included). */
export function diffPolicies(before: CompiledPolicy, after: CompiledPolicy, options: DiffOptions = {}): PolicyDiff {
  const profiles: ProfileDiff[] = [];
  const labels = [...new Set([...before.profiles.keys(), ...after.profiles.keys()])].sort();
  for (const label of labels) {
    const a = before.profiles.get(label);
    const b = after.profiles.get(label);
    if (!a || !b) {
      profiles.push({ label, equal: false, classes: [{ class: 'profile', equal: false, witnesses: [], notes: [a ? 'removed' : 'added'] }] });
      continue;
    }
    profiles.push(compareProfiles(a, b, before, after, options));
  }
  return { equal: profiles.every((p) => p.equal), profiles };
}
