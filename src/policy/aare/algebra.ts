// Set algebra on automata (product constructions) and shortest witnesses.
// Universe: for `path` automata strings containing NUL do not exist (the kernel never presents them),
// so they are never witnesses and never in a result; `glob_null` automata range over all byte strings.
import { DEFAULT_MAX_STATES, minimize, StateLimitExceeded, type Automaton } from './automaton.js';
import type { AareKind } from './parse.js';

/**
 * The order in which witness bytes are preferred: among shortest strings, the witness is the smallest
 * in this order (letters and digits first, so witnesses read like paths), which makes it deterministic.
 */
export const WITNESS_BYTE_ORDER: readonly number[] = (() => {
  const order: number[] = [];
  const add = (b: number) => { if (!order.includes(b)) order.push(b); };
  for (const ch of 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ._-/') add(ch.charCodeAt(0));
  for (let b = 0x20; b < 0x7f; b++) add(b);
  for (let b = 1; b < 0x20; b++) add(b);
  add(0x7f);
  for (let b = 0x80; b < 0x100; b++) add(b);
  add(0);
  return order;
})();
const RANK = (() => {
  const rank = new Int32Array(256);
  WITNESS_BYTE_ORDER.forEach((b, i) => { rank[b] = i; });
  return rank;
})();

export interface AlgebraOptions {
  readonly maxStates?: number;
}

type Combine = (inA: boolean, inB: boolean) => boolean;

function resultUniverse(a: Automaton, b: Automaton): AareKind {
  return a.universe === 'path' || b.universe === 'path' ? 'path' : 'glob_null';
}

/** Columns of the product: one per distinct (class in A, class in B, is NUL) triple. */
function productClasses(a: Automaton, b: Automaton, universe: AareKind) {
  const ids = new Map<number, number>();
  const classOf = new Uint8Array(256);
  const pairA: number[] = [];
  const pairB: number[] = [];
  const blocked: boolean[] = [];
  for (let byte = 0; byte < 256; byte++) {
    const nul = byte === 0 && universe === 'path';
    const key = ((a.classOf[byte]! * 256 + b.classOf[byte]!) << 1) | (nul ? 1 : 0);
    let id = ids.get(key);
    if (id === undefined) {
      id = pairA.length;
      ids.set(key, id);
      pairA.push(a.classOf[byte]!);
      pairB.push(b.classOf[byte]!);
      blocked.push(nul);
    }
    classOf[byte] = id;
  }
  // Witness order: columns by their best byte.
  const best = new Int32Array(pairA.length).fill(1 << 30);
  const bestByte = new Int32Array(pairA.length);
  for (let byte = 0; byte < 256; byte++) {
    const c = classOf[byte]!;
    if (RANK[byte]! < best[c]!) { best[c] = RANK[byte]!; bestByte[c] = byte; }
  }
  const order = [...pairA.keys()].filter((c) => !blocked[c]).sort((x, y) => best[x]! - best[y]!);
  return { classOf, classCount: pairA.length, pairA, pairB, blocked, order, bestByte };
}

/** Product automaton accepting where `combine(inA, inB)`; minimized. */
export function product(a: Automaton, b: Automaton, combine: Combine, options: AlgebraOptions = {}): Automaton {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const universe = resultUniverse(a, b);
  const cls = productClasses(a, b, universe);
  const k = cls.classCount;
  const ids = new Map<number, number>();
  const pairs: number[] = [-1, -1]; // state 0: the synthetic dead state
  const rows: number[] = new Array<number>(k).fill(0);
  const accept: number[] = [0];
  const intern = (pa: number, pb: number): number => {
    const key = pa * b.stateCount + pb;
    let id = ids.get(key);
    if (id === undefined) {
      id = accept.length;
      if (id >= maxStates) throw new StateLimitExceeded(maxStates);
      ids.set(key, id);
      pairs.push(pa, pb);
      accept.push(combine(a.acceptIndex[pa] !== 0, b.acceptIndex[pb] !== 0) ? 1 : 0);
    }
    return id;
  };
  intern(a.start, b.start);
  for (let s = 1; s < accept.length; s++) {
    const pa = pairs[2 * s]!;
    const pb = pairs[2 * s + 1]!;
    for (let c = 0; c < k; c++) {
      rows.push(cls.blocked[c] ? 0 : intern(a.transitions[pa * a.classCount + cls.pairA[c]!]!, b.transitions[pb * b.classCount + cls.pairB[c]!]!));
    }
  }
  return minimize({
    universe, classOf: cls.classOf, classCount: k, stateCount: accept.length, start: 1,
    transitions: Int32Array.from(rows), acceptIndex: Int32Array.from(accept), acceptSets: [[], [0]],
  });
}

/** Strings (of the universe) accepted by the automaton: `universe` is the automaton of all strings. */
export function universal(universe: AareKind): Automaton {
  const classOf = new Uint8Array(256);
  if (universe === 'path') { classOf.fill(1); classOf[0] = 0; }
  const classCount = universe === 'path' ? 2 : 1;
  const transitions = new Int32Array(2 * classCount);
  for (let c = 0; c < classCount; c++) transitions[classCount + c] = universe === 'path' && c === 0 ? 0 : 1;
  return { universe, classOf, classCount, stateCount: 2, start: 1, transitions, acceptIndex: Int32Array.from([0, 1]), acceptSets: [[], [0]] };
}

export function empty(universe: AareKind): Automaton {
  return { universe, classOf: new Uint8Array(256), classCount: 1, stateCount: 1, start: 0, transitions: new Int32Array(1), acceptIndex: new Int32Array(1), acceptSets: [[]] };
}

export const intersect = (a: Automaton, b: Automaton, options?: AlgebraOptions) => product(a, b, (x, y) => x && y, options);
export const union = (a: Automaton, b: Automaton, options?: AlgebraOptions) => product(a, b, (x, y) => x || y, options);
/** Strings in `a` and not in `b`. */
export const difference = (a: Automaton, b: Automaton, options?: AlgebraOptions) => product(a, b, (x, y) => x && !y, options);
/** Strings of the universe not in `a` (for paths: NUL-free strings). */
export const complement = (a: Automaton, options?: AlgebraOptions) => product(a, universal(a.universe), (x, y) => !x && y, options);

export interface Witness {
  /** The witness as text (UTF-8 decoded; invalid sequences become U+FFFD: use `bytes` then). */
  readonly text: string;
  readonly bytes: Uint8Array;
}

function witnessOf(bytes: number[]): Witness {
  const array = Uint8Array.from(bytes);
  return { text: Buffer.from(array).toString('utf8'), bytes: array };
}

/**
 * Breadth-first search of the product of `a` and `b` for the shortest (then smallest in
 * WITNESS_BYTE_ORDER) string reaching a state where each target holds. Returns one witness per target.
 */
export function searchProduct(a: Automaton, b: Automaton, targets: readonly Combine[], options: AlgebraOptions = {}): (Witness | undefined)[] {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES * 10;
  const universe = resultUniverse(a, b);
  const cls = productClasses(a, b, universe);
  const found: (Witness | undefined)[] = targets.map(() => undefined);
  let remaining = targets.length;
  const seen = new Map<number, number>();
  const pa: number[] = [a.start];
  const pb: number[] = [b.start];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  seen.set(a.start * b.stateCount + b.start, 0);
  const path = (i: number): number[] => {
    const bytes: number[] = [];
    for (let at = i; parent[at]! >= 0; at = parent[at]!) bytes.push(via[at]!);
    return bytes.reverse();
  };
  for (let i = 0; i < pa.length && remaining > 0; i++) {
    const sa = pa[i]!;
    const sb = pb[i]!;
    const inA = a.acceptIndex[sa] !== 0;
    const inB = b.acceptIndex[sb] !== 0;
    for (let t = 0; t < targets.length; t++) {
      if (found[t] === undefined && targets[t]!(inA, inB)) { found[t] = witnessOf(path(i)); remaining--; }
    }
    if (sa === 0 && sb === 0) continue;
    for (const c of cls.order) {
      const na = a.transitions[sa * a.classCount + cls.pairA[c]!]!;
      const nb = b.transitions[sb * b.classCount + cls.pairB[c]!]!;
      if (na === 0 && nb === 0) continue;
      const key = na * b.stateCount + nb;
      if (seen.has(key)) continue;
      if (pa.length >= maxStates) throw new StateLimitExceeded(maxStates);
      seen.set(key, pa.length);
      pa.push(na); pb.push(nb); parent.push(i); via.push(cls.bestByte[c]!);
    }
  }
  return found;
}

export interface EmptinessResult {
  readonly empty: boolean;
  /** The shortest accepted string (smallest in WITNESS_BYTE_ORDER among equals). */
  readonly witness?: Witness;
}

export function isEmpty(a: Automaton, options?: AlgebraOptions): EmptinessResult {
  const [witness] = searchProduct(a, universal(a.universe), [(x, y) => x && y], options);
  return witness ? { empty: false, witness } : { empty: true };
}

export type Relation = 'equal' | 'subset' | 'superset' | 'overlap' | 'disjoint';

export interface Comparison {
  readonly relation: Relation;
  /** Shortest string matched by A only. */
  readonly onlyInA?: Witness;
  readonly onlyInB?: Witness;
  readonly inBoth?: Witness;
}

/**
 * How two languages relate. `subset` means A ⊊ B; `disjoint` means no common string while both are
 * non-empty or one is (two empty languages are `equal`); `overlap` means common strings and each has
 * strings the other lacks.
 */
export function compare(a: Automaton, b: Automaton, options?: AlgebraOptions): Comparison {
  const [onlyInA, onlyInB, inBoth] = searchProduct(a, b, [(x, y) => x && !y, (x, y) => !x && y, (x, y) => x && y], options);
  const result = { onlyInA, onlyInB, inBoth };
  let relation: Relation;
  if (!onlyInA && !onlyInB) relation = 'equal';
  else if (!inBoth) relation = 'disjoint';
  else if (!onlyInA) relation = 'subset';
  else if (!onlyInB) relation = 'superset';
  else relation = 'overlap';
  return Object.fromEntries(Object.entries({ relation, ...result }).filter(([, v]) => v !== undefined)) as unknown as Comparison;
}

/** A ⊆ B, with the shortest counterexample when not. */
export function isSubset(a: Automaton, b: Automaton, options?: AlgebraOptions): { subset: boolean; witness?: Witness } {
  const [witness] = searchProduct(a, b, [(x, y) => x && !y], options);
  return witness ? { subset: false, witness } : { subset: true };
}

export function equivalent(a: Automaton, b: Automaton, options?: AlgebraOptions): { equal: boolean; witness?: Witness } {
  const [witness] = searchProduct(a, b, [(x, y) => x !== y], options);
  return witness ? { equal: false, witness } : { equal: true };
}

/** Witness bytes as AARE-safe display text: printable ASCII kept, metacharacters and others escaped. */
export function formatWitness(witness: Witness): string {
  if (!/[\u0000-\u001f\u007f\ufffd]/.test(witness.text) && !/[*?[\]{}\\^,"]/.test(witness.text)) return witness.text;
  let out = '';
  for (const byte of witness.bytes) {
    if (byte >= 0x20 && byte < 0x7f) out += '*?[]{}\\^,"'.includes(String.fromCharCode(byte)) ? `\\${String.fromCharCode(byte)}` : String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * Every distinct set of rule ids that some string reaches, each with its shortest witness (smallest in
 * WITNESS_BYTE_ORDER among equals), in witness order. This is how per-state questions are asked of a
 * rule set: "do rules 3 and 7 ever match the same path, and on which?" (e.g. exec-mode conflicts).
 */
export function acceptingSets(a: Automaton, options: AlgebraOptions = {}): { readonly ids: readonly number[]; readonly witness: Witness }[] {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES * 10;
  const cls = productClasses(a, universal(a.universe), a.universe);
  const parent = new Int32Array(a.stateCount).fill(-2);
  const via = new Int32Array(a.stateCount);
  const queue: number[] = [a.start];
  parent[a.start] = -1;
  const seenSets = new Set<number>();
  const out: { ids: readonly number[]; witness: Witness }[] = [];
  for (let qi = 0; qi < queue.length; qi++) {
    const s = queue[qi]!;
    const index = a.acceptIndex[s]!;
    if (index !== 0 && !seenSets.has(index)) {
      seenSets.add(index);
      const bytes: number[] = [];
      for (let at = s; parent[at]! >= 0; at = parent[at]!) bytes.push(via[at]!);
      out.push({ ids: a.acceptSets[index]!, witness: witnessOf(bytes.reverse()) });
    }
    for (const c of cls.order) {
      const t = a.transitions[s * a.classCount + cls.pairA[c]!]!;
      if (t === 0 || parent[t] !== -2) continue;
      if (queue.length >= maxStates) throw new StateLimitExceeded(maxStates);
      parent[t] = s;
      via[t] = cls.bestByte[c]!;
      queue.push(t);
    }
  }
  return out;
}
