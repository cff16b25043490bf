// Breadth-first search over the product of two automata that reports, for every combination of accept
// sets (left set × right set) reachable together, the shortest string reaching it (the smallest in
// WITNESS_BYTE_ORDER among equals). Isolation asks many questions of one product at once ("which
// permission of this hat reaches which tenant?"): one pass answers all of them, where an intersection
// per (hat, permission, tenant) would walk the same states thousands of times.
import { WITNESS_BYTE_ORDER, type Automaton } from '../policy/aare/index.js';

export interface CombinationWitness {
  /** acceptIndex of the left automaton (index into its acceptSets). */
  readonly left: number;
  readonly right: number;
  readonly witness: string;
}

const RANK = (() => {
  const rank = new Int32Array(256);
  WITNESS_BYTE_ORDER.forEach((b, i) => { rank[b] = i; });
  return rank;
})();

/** Past this many product states the search stops and says so (a diagnostic, never a hang). */
export const MAX_PRODUCT_STATES = 2_000_000;

export class ProductTooLarge extends Error {
  constructor() { super(`the product needs more than ${MAX_PRODUCT_STATES} states`); }
}

/**
 * Every (left accept index, right accept index) combination reachable by a string (NUL-free: paths),
 * with its shortest witness, in discovery order (shortest first). `pruneRight(state)` says a right
 * state can lead to nothing of interest (e.g. the dead state of a tenant-area automaton); `pruneLeft`
 * likewise for the left automaton (pruning only states that lead to no wanted combination leaves the
 * breadth-first order, and so every reported witness, unchanged).
 */
export function combinations(
  left: Automaton, right: Automaton, pruneRight: (state: number) => boolean = (s) => s === 0,
  pruneLeft: (state: number) => boolean = () => false,
): CombinationWitness[] {
  const pairKey = new Map<number, number>();
  const classOf = new Int32Array(256);
  const colLeft: number[] = [];
  const colRight: number[] = [];
  const colByte: number[] = [];
  for (let byte = 1; byte < 256; byte++) {
    const key = left.classOf[byte]! * 256 + right.classOf[byte]!;
    let id = pairKey.get(key);
    if (id === undefined) { id = colLeft.length; pairKey.set(key, id); colLeft.push(left.classOf[byte]!); colRight.push(right.classOf[byte]!); colByte.push(byte); }
    else if (RANK[byte]! < RANK[colByte[id]!]!) colByte[id] = byte;
    classOf[byte] = id;
  }
  const order = [...colLeft.keys()].sort((x, y) => RANK[colByte[x]!]! - RANK[colByte[y]!]!);
  const seen = new Map<number, number>();
  const qa: number[] = [left.start];
  const qb: number[] = [right.start];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  seen.set(left.start * right.stateCount + right.start, 0);
  const found = new Set<number>();
  const out: CombinationWitness[] = [];
  const rightSets = right.acceptSets.length;
  for (let i = 0; i < qa.length; i++) {
    const sa = qa[i]!;
    const sb = qb[i]!;
    const combo = left.acceptIndex[sa]! * rightSets + right.acceptIndex[sb]!;
    if (!found.has(combo)) {
      found.add(combo);
      const bytes: number[] = [];
      for (let at = i; parent[at]! >= 0; at = parent[at]!) bytes.push(via[at]!);
      out.push({ left: left.acceptIndex[sa]!, right: right.acceptIndex[sb]!, witness: Buffer.from(bytes.reverse()).toString('latin1') });
    }
    for (const c of order) {
      const na = left.transitions[sa * left.classCount + colLeft[c]!]!;
      const nb = right.transitions[sb * right.classCount + colRight[c]!]!;
      if (pruneRight(nb) || pruneLeft(na)) continue;
      const key = na * right.stateCount + nb;
      if (seen.has(key)) continue;
      if (qa.length >= MAX_PRODUCT_STATES) throw new ProductTooLarge();
      seen.set(key, qa.length);
      qa.push(na); qb.push(nb); parent.push(i); via.push(colByte[c]!);
    }
  }
  return out;
}

/** Witness bytes (latin1-decoded above) as the UTF-8 text a path would have. */
export function witnessText(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/**
 * The shortest string that `left` accepts in a state where `leftOk(acceptIndex)`, `right` likewise, and
 * `excluded` does not accept (paths: NUL-free). One walk of the three automata together; nothing is
 * built or minimized, so two large hat DFAs cost about as much as the states they reach together.
 */
export function firstCommon(
  left: Automaton, leftOk: (acceptIndex: number) => boolean,
  right: Automaton, rightOk: (acceptIndex: number) => boolean,
  excluded: Automaton,
  liveness: { readonly left?: Uint8Array; readonly right?: Uint8Array; readonly excluded?: Uint8Array } = {},
): string | undefined {
  // Numeric column keys: this runs once per (writer, reader) pair, thousands of times for many sites.
  const keyOf = new Map<number, number>();
  const cols: number[][] = [];
  const colByte: number[] = [];
  for (let byte = 1; byte < 256; byte++) {
    const a = left.classOf[byte]!;
    const b = right.classOf[byte]!;
    const c = excluded.classOf[byte]!;
    const key = (a * right.classCount + b) * excluded.classCount + c;
    const id = keyOf.get(key);
    if (id === undefined) { keyOf.set(key, cols.length); cols.push([a, b, c]); colByte.push(byte); }
    else if (RANK[byte]! < RANK[colByte[id]!]!) colByte[id] = byte;
  }
  const order = [...cols.keys()].sort((x, y) => RANK[colByte[x]!]! - RANK[colByte[y]!]!);
  // Only states from which each side can still get what it needs are worth walking: a hat's writable
  // states are few, so this keeps the walk to the neighbourhood of shared paths.
  const liveLeft = liveness.left ?? live(left, leftOk);
  const liveRight = liveness.right ?? live(right, rightOk);
  const liveExcluded = liveness.excluded ?? live(excluded, (index) => index === 0);
  const seen = new Set<number>();
  const qa: number[] = [left.start];
  const qb: number[] = [right.start];
  const qc: number[] = [excluded.start];
  const parent: number[] = [-1];
  const via: number[] = [-1];
  const key = (a: number, b: number, c: number) => (a * right.stateCount + b) * excluded.stateCount + c;
  if (!liveLeft[left.start] || !liveRight[right.start] || !liveExcluded[excluded.start]) return undefined;
  seen.add(key(left.start, right.start, excluded.start));
  for (let i = 0; i < qa.length; i++) {
    const sa = qa[i]!;
    const sb = qb[i]!;
    const sc = qc[i]!;
    if (leftOk(left.acceptIndex[sa]!) && rightOk(right.acceptIndex[sb]!) && excluded.acceptIndex[sc] === 0) {
      const bytes: number[] = [];
      for (let at = i; parent[at]! >= 0; at = parent[at]!) bytes.push(via[at]!);
      return witnessText(Buffer.from(bytes.reverse()).toString('latin1'));
    }
    for (const c of order) {
      const col = cols[c]!;
      const na = left.transitions[sa * left.classCount + col[0]!]!;
      const nb = right.transitions[sb * right.classCount + col[1]!]!;
      const nc = excluded.transitions[sc * excluded.classCount + col[2]!]!;
      if (!liveLeft[na] || !liveRight[nb] || !liveExcluded[nc]) continue;
      const k = key(na, nb, nc);
      if (seen.has(k)) continue;
      if (qa.length >= MAX_PRODUCT_STATES) throw new ProductTooLarge();
      seen.add(k);
      qa.push(na); qb.push(nb); qc.push(nc); parent.push(i); via.push(colByte[c]!);
    }
  }
  return undefined;
}

/** Each automaton's transitions reversed, without repeats (CSR: sources of t are from[start[t]..start[t+1])). */
const reversed = new WeakMap<Automaton, { readonly start: Int32Array; readonly from: Int32Array }>();

function reverseEdges(a: Automaton): { readonly start: Int32Array; readonly from: Int32Array } {
  let edges = reversed.get(a);
  if (edges) return edges;
  const n = a.stateCount;
  const k = a.classCount;
  // Many classes of a state lead to the same target (the dead state above all): count each edge once.
  const last = new Int32Array(n).fill(-1);
  const start = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < k; c++) {
      const t = a.transitions[s * k + c]!;
      if (last[t] !== s) { last[t] = s; start[t + 1]!++; }
    }
  }
  for (let t = 0; t < n; t++) start[t + 1]! += start[t]!;
  const fill = start.slice(0, n);
  const from = new Int32Array(start[n]!);
  last.fill(-1);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < k; c++) {
      const t = a.transitions[s * k + c]!;
      if (last[t] !== s) { last[t] = s; from[fill[t]!++] = s; }
    }
  }
  edges = { start, from };
  reversed.set(a, edges);
  return edges;
}

/**
 * The states from which some state with `ok(acceptIndex)` is reachable (1), by a backward walk. The
 * reversed edges are built once per automaton: a hat's DFA is asked this for several masks.
 */
export function live(a: Automaton, ok: (acceptIndex: number) => boolean): Uint8Array {
  const { start, from } = reverseEdges(a);
  const result = new Uint8Array(a.stateCount);
  const queue = new Int32Array(a.stateCount);
  let length = 0;
  for (let s = 0; s < a.stateCount; s++) if (ok(a.acceptIndex[s]!)) { result[s] = 1; queue[length++] = s; }
  for (let i = 0; i < length; i++) {
    const t = queue[i]!;
    for (let e = start[t]!; e < start[t + 1]!; e++) {
      const s = from[e]!;
      if (!result[s]) { result[s] = 1; queue[length++] = s; }
    }
  }
  return result;
}

/**
 * The accept ids of `tagged` reachable together with a string that `left` accepts where `leftOk` and
 * `excluded` does not accept: one walk of the three automata (each pruned by its liveness) answers
 * "which of many tagged sets meet this one" instead of one walk per set.
 */
export function taggedMeets(
  left: Automaton, leftOk: (acceptIndex: number) => boolean, leftLive: Uint8Array,
  excluded: Automaton, excludedLive: Uint8Array,
  tagged: Automaton, taggedLive: Uint8Array,
): Set<number> {
  const keyOf = new Map<number, number>();
  const cols: number[][] = [];
  for (let byte = 1; byte < 256; byte++) {
    const a = left.classOf[byte]!;
    const b = tagged.classOf[byte]!;
    const c = excluded.classOf[byte]!;
    const key = (a * tagged.classCount + b) * excluded.classCount + c;
    if (!keyOf.has(key)) { keyOf.set(key, cols.length); cols.push([a, b, c]); }
  }
  const ids = new Set<number>();
  if (!leftLive[left.start] || !taggedLive[tagged.start] || !excludedLive[excluded.start]) return ids;
  const seen = new Set<number>();
  const key = (a: number, b: number, c: number) => (a * tagged.stateCount + b) * excluded.stateCount + c;
  const qa: number[] = [left.start];
  const qb: number[] = [tagged.start];
  const qc: number[] = [excluded.start];
  seen.add(key(left.start, tagged.start, excluded.start));
  for (let i = 0; i < qa.length; i++) {
    const sa = qa[i]!;
    const sb = qb[i]!;
    const sc = qc[i]!;
    if (leftOk(left.acceptIndex[sa]!) && excluded.acceptIndex[sc] === 0) {
      for (const id of tagged.acceptSets[tagged.acceptIndex[sb]!]!) ids.add(id);
    }
    for (const col of cols) {
      const na = left.transitions[sa * left.classCount + col[0]!]!;
      const nb = tagged.transitions[sb * tagged.classCount + col[1]!]!;
      const nc = excluded.transitions[sc * excluded.classCount + col[2]!]!;
      if (!leftLive[na] || !taggedLive[nb] || !excludedLive[nc]) continue;
      const k = key(na, nb, nc);
      if (seen.has(k)) continue;
      if (qa.length >= MAX_PRODUCT_STATES) throw new ProductTooLarge();
      seen.add(k);
      qa.push(na); qb.push(nb); qc.push(nc);
    }
  }
  return ids;
}

/**
 * Does `b` accept every string `a` accepts? Unlike isSubset, the walk stops where `a` can accept
 * nothing more, so a small pattern is compared with a large automaton (every site's areas) in time
 * bounded by the pattern, not by the large automaton.
 */
export function within(a: Automaton, b: Automaton): boolean {
  const alive = live(a, (index) => index !== 0);
  for (const combo of combinations(a, b, () => false, (s) => !alive[s])) {
    if (combo.left !== 0 && combo.right === 0) return false;
  }
  return true;
}
