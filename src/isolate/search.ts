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
 * state can lead to nothing of interest (e.g. the dead state of a tenant-area automaton).
 */
export function combinations(left: Automaton, right: Automaton, pruneRight: (state: number) => boolean = (s) => s === 0): CombinationWitness[] {
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
      if (pruneRight(nb)) continue;
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
