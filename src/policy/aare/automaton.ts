// AARE AST → Thompson NFA over bytes → DFA by subset construction → minimal DFA (Hopcroft).
// Bytes are grouped into classes (bytes no pattern tells apart share a column), so a DFA is a dense
// Int32Array of states × classes. State 0 is always the dead state. Accepting states carry the set
// of rule ids they accept, so a whole profile compiles to one DFA and a lookup is one pass.
import type { AareAst, AareKind, AareNode } from './parse.js';

export interface Automaton {
  /** `path`: strings containing NUL are outside the universe (never witnesses, never in complements). */
  readonly universe: AareKind;
  /** Byte → class index (column). */
  readonly classOf: Uint8Array;
  readonly classCount: number;
  readonly stateCount: number;
  readonly start: number;
  /** `transitions[state * classCount + class]` = next state; state 0 is dead. */
  readonly transitions: Int32Array;
  /** Per state: index into `acceptSets` (0 = accepts nothing). */
  readonly acceptIndex: Int32Array;
  /** Distinct sets of rule ids at accepting states, ascending ids; `acceptSets[0]` is empty. */
  readonly acceptSets: readonly (readonly number[])[];
}

export const DEFAULT_MAX_STATES = 100_000;

/** Thrown internally when the DFA grows past the cap; turned into an `aare/state-limit` diagnostic. */
export class StateLimitExceeded extends Error {
  constructor(readonly limit: number) {
    super(`DFA would exceed ${limit} states`);
  }
}

// ---------------------------------------------------------------- NFA

/** A byte set as 256 flags. */
type ByteSet = Uint8Array;

export class Nfa {
  readonly label: number[] = []; // index into labels, or -1
  readonly next: number[] = [];
  readonly eps: (number[] | undefined)[] = [];
  readonly accept: number[] = []; // rule id or -1
  readonly labels: ByteSet[] = [];
  private readonly labelIds = new Map<string, number>();
  private readonly labelBySet = new WeakMap<ByteSet, number>();

  newState(): number {
    this.label.push(-1);
    this.next.push(-1);
    this.eps.push(undefined);
    this.accept.push(-1);
    return this.label.length - 1;
  }

  addEpsilon(from: number, to: number): void {
    (this.eps[from] ??= []).push(to);
  }

  labelFor(set: ByteSet): number {
    const known = this.labelBySet.get(set);
    if (known !== undefined) return known;
    const key = Buffer.from(set.buffer, set.byteOffset, set.byteLength).toString('latin1');
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = this.labels.length;
      this.labels.push(set);
      this.labelIds.set(key, id);
    }
    this.labelBySet.set(set, id);
    return id;
  }

  /** Append a transition on `set` from a fresh state sequence: returns the state after it. */
  step(from: number, set: ByteSet): number {
    const to = this.newState();
    this.label[from] = this.labelFor(set);
    this.next[from] = to;
    return to;
  }

  /** Add one pattern from `start`; its end state accepts `id`. */
  addPattern(ast: AareAst, start: number, id: number): void {
    const end = this.addSequence(ast.sequence, ast.kind, start);
    this.accept[end] = id;
  }

  private addSequence(sequence: readonly AareNode[], kind: AareKind, start: number): number {
    let at = start;
    for (const node of sequence) at = this.addNode(node, kind, at);
    return at;
  }

  private addNode(node: AareNode, kind: AareKind, from: number): number {
    switch (node.kind) {
      case 'Literal':
        return this.step(from, singleByte(node.byte));
      case 'AnyChar':
        return this.step(from, anyChar(kind));
      case 'Class':
        return this.step(from, classSet(node.negated, node.ranges));
      case 'Star': {
        let at = from;
        if (node.guarded) at = this.step(at, anyChar(kind));
        const loop = this.newState();
        this.addEpsilon(at, loop);
        this.label[loop] = this.labelFor(node.crossesSlash ? anyString(kind) : anyChar(kind));
        this.next[loop] = loop;
        const after = this.newState();
        this.addEpsilon(loop, after);
        return after;
      }
      case 'Alternation': {
        const join = this.newState();
        for (const alternative of node.alternatives) {
          const branch = this.newState();
          this.addEpsilon(from, branch);
          this.addEpsilon(this.addSequence(alternative, kind, branch), join);
        }
        return join;
      }
    }
  }
}

const byteSetCache = new Map<string, ByteSet>();
function cached(key: string, make: () => ByteSet): ByteSet {
  let set = byteSetCache.get(key);
  if (!set) byteSetCache.set(key, (set = make()));
  return set;
}
function singleByte(byte: number): ByteSet {
  return cached(`b${byte}`, () => { const s = new Uint8Array(256); s[byte] = 1; return s; });
}
/** `?` and one step of `*`: anything but `/` (and NUL for paths). */
function anyChar(kind: AareKind): ByteSet {
  return cached(`any-${kind}`, () => { const s = new Uint8Array(256).fill(1); s[0x2f] = 0; if (kind === 'path') s[0] = 0; return s; });
}
/** One step of `**`: anything (but NUL for paths). */
function anyString(kind: AareKind): ByteSet {
  return cached(`all-${kind}`, () => { const s = new Uint8Array(256).fill(1); if (kind === 'path') s[0] = 0; return s; });
}
/** Classes are over all 256 bytes, as apparmor_parser's regex engine has them (`[^a]` matches NUL). */
function classSet(negated: boolean, ranges: readonly (readonly [number, number])[]): ByteSet {
  const s = new Uint8Array(256).fill(negated ? 1 : 0);
  for (const [lo, hi] of ranges) s.fill(negated ? 0 : 1, lo, hi + 1);
  return s;
}

// ---------------------------------------------------------------- byte classes

/** Partition bytes so that every label is a union of classes. */
export function byteClasses(labels: readonly ByteSet[]): { classOf: Uint8Array; classCount: number } {
  let classOf = new Uint8Array(256);
  let count = 1;
  for (const label of labels) {
    const split = new Map<number, number>();
    const next = new Uint8Array(256);
    let nextCount = 0;
    for (let b = 0; b < 256; b++) {
      const key = classOf[b]! * 2 + label[b]!;
      let id = split.get(key);
      if (id === undefined) split.set(key, (id = nextCount++));
      next[b] = id;
    }
    if (nextCount !== count) {
      classOf = next;
      count = nextCount;
    }
  }
  return { classOf, classCount: count };
}

// ---------------------------------------------------------------- subset construction

/**
 * Work allowed per permitted DFA state, in NFA-position visits: bounds time (and the memory of the
 * position sets) when few states hold huge sets, e.g. thousands of rules all alive after a leading `/**`.
 */
const WORK_PER_STATE = 2_000;

/**
 * Merge NFA states with the same future (same accept id, same label, same successors once merged),
 * bottom-up from the accepting ends. Rules that end alike (`…/**`, `…/.htaccess`) then share states, so
 * sets of rules with shared ids determinize into far fewer intermediate states. The NFA is rewritten in
 * place; returns the start's representative.
 */
export function shareSuffixes(nfa: Nfa, start: number): number {
  const n = nfa.label.length;
  const rep = new Int32Array(n).fill(-1);
  const signatures = new Map<string, number>();
  // Iterative post-order DFS over next/eps edges (self-loops ignored; the graph is otherwise acyclic).
  const state = new Uint8Array(n); // 0 new, 1 open, 2 done
  const stack: number[] = [start];
  const children = (s: number): number[] => {
    const out: number[] = [];
    const t = nfa.next[s]!;
    if (t >= 0 && t !== s) out.push(t);
    const e = nfa.eps[s];
    if (e) out.push(...e);
    return out;
  };
  while (stack.length) {
    const s = stack[stack.length - 1]!;
    if (state[s] === 0) {
      state[s] = 1;
      for (const t of children(s)) if (state[t] === 0) stack.push(t);
      continue;
    }
    stack.pop();
    if (state[s] === 2) continue;
    state[s] = 2;
    const t = nfa.next[s]!;
    const nextRep = t < 0 ? -1 : t === s ? -2 : rep[t]!;
    const epsReps = nfa.eps[s] ? [...new Set(nfa.eps[s]!.map((e) => rep[e]!))].sort((a, b) => a - b) : [];
    const key = `${nfa.accept[s]}|${nfa.label[s]}|${nextRep}|${epsReps.join(',')}`;
    const known = signatures.get(key);
    if (known !== undefined) { rep[s] = known; continue; }
    signatures.set(key, s);
    rep[s] = s;
    if (t >= 0 && t !== s) nfa.next[s] = nextRep;
    if (nfa.eps[s]) nfa.eps[s] = epsReps;
  }
  return rep[start]!;
}

/** Determinize from `start`; throws StateLimitExceeded past `maxStates` (or its work budget). Result is not minimal. */
export function determinize(nfa: Nfa, start: number, universe: AareKind, maxStates: number): Automaton {
  start = shareSuffixes(nfa, start);
  const { classOf, classCount } = byteClasses(nfa.labels);
  const labelClasses: number[][] = nfa.labels.map((set) => {
    const seen = new Set<number>();
    for (let b = 0; b < 256; b++) if (set[b]) seen.add(classOf[b]!);
    return [...seen].sort((x, y) => x - y);
  });
  const nfaSize = nfa.label.length;
  const label = Int32Array.from(nfa.label);
  const next = Int32Array.from(nfa.next);
  const accept = Int32Array.from(nfa.accept);
  const eps = nfa.eps;
  const stamp = new Int32Array(nfaSize);
  let stampValue = 0;
  const stack: number[] = [];

  // Epsilon closures: per NFA state once (memoized, sorted), then a set's closure is the union of its
  // members' closures, deduplicated with a stamp and sorted natively in a scratch buffer.
  const single: (Int32Array | undefined)[] = new Array(nfaSize);
  const closureOf = (seed: number): Int32Array => {
    let known = single[seed];
    if (known) return known;
    stampValue++;
    const important: number[] = [];
    stamp[seed] = stampValue;
    stack.push(seed);
    while (stack.length) {
      const s = stack.pop()!;
      if (label[s]! >= 0 || accept[s]! >= 0) important.push(s);
      const out = eps[s];
      if (out) for (const t of out) {
        if (stamp[t] !== stampValue) { stamp[t] = stampValue; stack.push(t); }
      }
    }
    known = Int32Array.from(important).sort();
    single[seed] = known;
    return known;
  };
  let work = 0;
  const workBudget = maxStates * WORK_PER_STATE;
  const spend = (units: number) => {
    work += units;
    if (work > workBudget) throw new StateLimitExceeded(maxStates);
  };
  let scratch = new Int32Array(1024);
  /** The closure of `seeds`, sorted; a view into a scratch buffer valid until the next call. */
  const closure = (seeds: readonly number[]): Int32Array => {
    if (seeds.length === 1) return closureOf(seeds[0]!);
    let n = 0;
    for (const seed of seeds) n += closureOf(seed).length;
    if (scratch.length < n) scratch = new Int32Array(n * 2);
    stampValue++;
    n = 0;
    for (const seed of seeds) {
      const part = single[seed]!;
      for (let i = 0; i < part.length; i++) {
        const s = part[i]!;
        if (stamp[s] !== stampValue) { stamp[s] = stampValue; scratch[n++] = s; }
      }
    }
    spend(n);
    return scratch.subarray(0, n).sort();
  };

  const members: Int32Array[] = [new Int32Array(0)];
  // DFA states are interned by a hash of their sorted NFA members (no string keys: less garbage).
  const ids = new Map<number, number | number[]>([[0, 0]]);
  const rows: Int32Array[] = [new Int32Array(classCount)];
  const acceptSetIds = new Map<string, number>([['', 0]]);
  const acceptSets: number[][] = [[]];
  const acceptIndex: number[] = [0];
  const sameMembers = (id: number, set: Int32Array): boolean => {
    const m = members[id]!;
    if (m.length !== set.length) return false;
    for (let i = 0; i < m.length; i++) if (m[i] !== set[i]) return false;
    return true;
  };

  const intern = (set: Int32Array): number => {
    let hash = set.length;
    for (let i = 0; i < set.length; i++) hash = (Math.imul(hash, 0x9e3779b1) ^ set[i]!) | 0;
    const found = ids.get(hash);
    if (found !== undefined) {
      if (typeof found === 'number') { if (sameMembers(found, set)) return found; }
      else for (const candidate of found) if (sameMembers(candidate, set)) return candidate;
    }
    const id = members.length;
    if (id >= maxStates) throw new StateLimitExceeded(maxStates);
    spend(set.length);
    members.push(set.slice());
    if (found === undefined) ids.set(hash, id);
    else if (typeof found === 'number') ids.set(hash, [found, id]);
    else found.push(id);
    rows.push(new Int32Array(classCount));
    const accepted: number[] = [];
    for (const s of set) if (accept[s]! >= 0) accepted.push(accept[s]!);
    if (accepted.length === 0) acceptIndex.push(0);
    else {
      const unique = [...new Set(accepted)].sort((x, y) => x - y);
      const akey = unique.join(',');
      let aid = acceptSetIds.get(akey);
      if (aid === undefined) { aid = acceptSets.length; acceptSets.push(unique); acceptSetIds.set(akey, aid); }
      acceptIndex.push(aid);
    }
    return id;
  };

  const startId = intern(closure([start]));
  // Per DFA state: group member transitions by label (few distinct labels), then give each class the
  // union of the targets of the labels containing it; classes with the same labels share one closure.
  const targetsByLabel: number[][] = nfa.labels.map(() => []);
  const presentLabels: number[] = [];
  const signature: number[][] = Array.from({ length: classCount }, () => []);
  const touched: number[] = [];
  for (let d = 1; d < members.length; d++) {
    const set = members[d]!;
    spend(set.length);
    for (let i = 0; i < set.length; i++) {
      const s = set[i]!;
      const l = label[s]!;
      if (l < 0) continue;
      const list = targetsByLabel[l]!;
      if (list.length === 0) presentLabels.push(l);
      list.push(next[s]!);
    }
    for (let j = 0; j < presentLabels.length; j++) {
      for (const c of labelClasses[presentLabels[j]!]!) {
        const sig = signature[c]!;
        if (sig.length === 0) touched.push(c);
        sig.push(j);
      }
    }
    const local = new Map<string, number>();
    const row = rows[d]!;
    for (const c of touched) {
      const sig = signature[c]!;
      const key = sig.length === 1 ? String(sig[0]) : sig.join(',');
      let target = local.get(key);
      if (target === undefined) {
        const seeds: number[] = [];
        for (const j of sig) for (const t of targetsByLabel[presentLabels[j]!]!) seeds.push(t);
        target = intern(closure(seeds));
        local.set(key, target);
      }
      row[c] = target;
      sig.length = 0;
    }
    touched.length = 0;
    for (const l of presentLabels) targetsByLabel[l]!.length = 0;
    presentLabels.length = 0;
  }

  const stateCount = members.length;
  const transitions = new Int32Array(stateCount * classCount);
  for (let d = 0; d < stateCount; d++) transitions.set(rows[d]!, d * classCount);
  return {
    universe, classOf, classCount, stateCount, start: startId, transitions,
    acceptIndex: Int32Array.from(acceptIndex), acceptSets,
  };
}

// ---------------------------------------------------------------- minimization

/** Hopcroft's partition refinement; the result keeps state 0 dead and numbers states breadth-first. */
export function minimize(a: Automaton): Automaton {
  const n = a.stateCount;
  const k = a.classCount;
  const delta = a.transitions;
  if (n <= 1) return a;

  // Inverse transitions in CSR form keyed by target * k + class. Transitions into the dead state 0 are
  // left out: the block holding state 0 is never used as a splitter (Hopcroft needs all initial blocks
  // but one, and either half of a split), which keeps its huge predecessor set out of the work.
  const counts = new Int32Array(n * k + 1);
  for (let s = 0; s < n; s++) for (let c = 0; c < k; c++) { const t = delta[s * k + c]!; if (t !== 0) counts[t * k + c + 1]!++; }
  for (let i = 1; i <= n * k; i++) counts[i]! += counts[i - 1]!;
  const inverse = new Int32Array(counts[n * k]!);
  const inverseClass = new Uint8Array(counts[n * k]!);
  const fill = counts.slice(0, n * k);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < k; c++) {
      const t = delta[s * k + c]!;
      if (t !== 0) { const at = fill[t * k + c]!++; inverse[at] = s; inverseClass[at] = c; }
    }
  }

  // Partition: elements grouped by block in `elems`; block b spans [first[b], end[b]).
  const elems = new Int32Array(n);
  const loc = new Int32Array(n);
  const blockOf = new Int32Array(n);
  const first = new Int32Array(n);
  const end = new Int32Array(n);
  const marked = new Int32Array(n);
  const inWork = new Uint8Array(n);
  let blocks = 0;
  {
    const byAccept = new Map<number, number[]>();
    for (let s = 0; s < n; s++) {
      const key = a.acceptIndex[s]!;
      let list = byAccept.get(key);
      if (!list) byAccept.set(key, (list = []));
      list.push(s);
    }
    let at = 0;
    for (const list of byAccept.values()) {
      first[blocks] = at;
      for (const s of list) { elems[at] = s; loc[s] = at; blockOf[s] = blocks; at++; }
      end[blocks] = at;
      blocks++;
    }
  }
  const work: number[] = [];
  for (let b = 0; b < blocks; b++) if (b !== blockOf[0]) { work.push(b); inWork[b] = 1; }
  const touched: number[] = [];

  // Predecessors of the splitter, bucketed by class.
  const byClass: number[][] = Array.from({ length: k }, () => []);
  const classesTouched: number[] = [];
  while (work.length) {
    const A = work.pop()!;
    inWork[A] = 0;
    for (let i = first[A]!; i < end[A]!; i++) {
      const t = elems[i]!;
      for (let j = counts[t * k]!, to = counts[t * k + k]!; j < to; j++) {
        const c = inverseClass[j]!;
        const bucket = byClass[c]!;
        if (bucket.length === 0) classesTouched.push(c);
        bucket.push(inverse[j]!);
      }
    }
    for (const c of classesTouched) {
      const preds = byClass[c]!;
      for (const p of preds) {
        const b = blockOf[p]!;
        if (marked[b] === 0) touched.push(b);
        // Move p to the marked prefix of its block.
        const dest = first[b]! + marked[b]!;
        const other = elems[dest]!;
        const pl = loc[p]!;
        elems[dest] = p; loc[p] = dest;
        elems[pl] = other; loc[other] = pl;
        marked[b]!++;
      }
      preds.length = 0;
      for (const b of touched) {
        const m = marked[b]!;
        marked[b] = 0;
        if (m === end[b]! - first[b]!) continue;
        const nb = blocks++;
        first[nb] = first[b]!;
        end[nb] = first[b]! + m;
        first[b] = first[b]! + m;
        for (let i = first[nb]!; i < end[nb]!; i++) blockOf[elems[i]!] = nb;
        if (inWork[b]) { work.push(nb); inWork[nb] = 1; }
        else {
          const dead = blockOf[0]!;
          const chosen = dead === b ? nb : dead === nb ? b : m <= end[b]! - first[b]! ? nb : b;
          work.push(chosen);
          inWork[chosen] = 1;
        }
      }
      touched.length = 0;
    }
    classesTouched.length = 0;
  }

  // Renumber: dead block → 0, then breadth-first from the start.
  const number = new Int32Array(blocks).fill(-1);
  number[blockOf[0]!] = 0;
  const order: number[] = [blockOf[0]!];
  let count = 1;
  const queue: number[] = [blockOf[a.start]!];
  if (number[queue[0]!] === -1) { number[queue[0]!] = count++; order.push(queue[0]!); }
  for (let qi = 0; qi < queue.length; qi++) {
    const rep = elems[first[queue[qi]!]!]!;
    for (let c = 0; c < k; c++) {
      const tb = blockOf[delta[rep * k + c]!]!;
      if (number[tb] === -1) { number[tb] = count++; order.push(tb); queue.push(tb); }
    }
  }
  const transitions = new Int32Array(count * k);
  const acceptIndex = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const rep = elems[first[order[i]!]!]!;
    acceptIndex[i] = a.acceptIndex[rep]!;
    for (let c = 0; c < k; c++) transitions[i * k + c] = number[blockOf[delta[rep * k + c]!]!]!;
  }
  // Drop accept sets no state uses any more and renumber the rest.
  return compactAcceptSets({ ...a, stateCount: count, start: number[blockOf[a.start]!]!, transitions, acceptIndex });
}

function compactAcceptSets(a: Automaton): Automaton {
  const used = new Map<number, number>([[0, 0]]);
  const sets: (readonly number[])[] = [[]];
  const acceptIndex = new Int32Array(a.stateCount);
  for (let s = 0; s < a.stateCount; s++) {
    const old = a.acceptIndex[s]!;
    let id = used.get(old);
    if (id === undefined) { id = sets.length; used.set(old, id); sets.push(a.acceptSets[old]!); }
    acceptIndex[s] = id;
  }
  return { ...a, acceptIndex, acceptSets: sets };
}

// ---------------------------------------------------------------- running

// Lookups walk a compact copy of the table: 16-bit entries when the DFA has fewer than 65,536 states
// (half the memory, so large rule sets stay in cache), else 32-bit. Built on first use per automaton.
const compactTables = new WeakMap<Automaton, Uint16Array | Int32Array>();
function compactTable(a: Automaton): Uint16Array | Int32Array {
  let table = compactTables.get(a);
  if (!table) {
    table = a.stateCount < 0x10000 ? Uint16Array.from(a.transitions) : a.transitions;
    compactTables.set(a, table);
  }
  return table;
}

/** The state reached on the UTF-8 bytes of `subject` (0 when dead). No allocation. */
export function run(a: Automaton, subject: string): number {
  const table = compactTable(a);
  const classOf = a.classOf;
  const k = a.classCount;
  let s = a.start;
  const length = subject.length;
  for (let i = 0; i < length; i++) {
    let c = subject.charCodeAt(i);
    if (c < 0x80) {
      s = table[s * k + classOf[c]!]!;
      if (s === 0) return 0;
      continue;
    }
    if (c < 0x800) {
      s = table[s * k + classOf[0xc0 | (c >> 6)]!]!;
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
        const low = subject.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          s = table[s * k + classOf[0xf0 | (c >> 18)]!]!;
          s = table[s * k + classOf[0x80 | ((c >> 12) & 63)]!]!;
          s = table[s * k + classOf[0x80 | ((c >> 6) & 63)]!]!;
          s = table[s * k + classOf[0x80 | (c & 63)]!]!;
          if (s === 0) return 0;
          continue;
        }
      }
      // Lone surrogates encode as U+FFFD, as TextEncoder does.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      s = table[s * k + classOf[0xe0 | (c >> 12)]!]!;
      s = table[s * k + classOf[0x80 | ((c >> 6) & 63)]!]!;
    }
    s = table[s * k + classOf[0x80 | (c & 63)]!]!;
    if (s === 0) return 0;
  }
  return s;
}

/** The state reached on raw bytes. */
export function runBytes(a: Automaton, bytes: Uint8Array): number {
  let s = a.start;
  for (let i = 0; i < bytes.length && s !== 0; i++) s = a.transitions[s * a.classCount + a.classOf[bytes[i]!]!]!;
  return s;
}
