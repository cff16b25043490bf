// Set questions the rules ask, on the AARE engine: exact answers with a shortest witness, never string
// prefixes. One run compiles each pattern once. A question too big for the state limit is answered
// "unknown" (undefined): the rule then stays silent rather than guessing.
import {
  StateLimitExceeded, compilePattern, compileUnion, difference, formatWitness, intersect, isEmpty, isSubset, literalPattern, type Automaton,
} from '../policy/aare/index.js';

export class PatternSets {
  private readonly cache = new Map<string, Automaton | null>();
  private readonly unions = new Map<string, Automaton | null>();

  constructor(private readonly options: { readonly filterSlashes?: boolean } = {}) {}

  /** The automaton of one pattern, or undefined if it does not compile. */
  one(pattern: string): Automaton | undefined {
    let found = this.cache.get(pattern);
    if (found === undefined) {
      const compiled = compilePattern(pattern, this.options.filterSlashes === false ? { filterSlashes: false } : {});
      found = compiled.ok ? compiled.automaton : null;
      this.cache.set(pattern, found);
    }
    return found ?? undefined;
  }

  /** The union of patterns (undefined for none or when it does not compile). */
  union(patterns: readonly string[]): Automaton | undefined {
    if (patterns.length === 0) return undefined;
    if (patterns.length === 1) return this.one(patterns[0]!);
    const key = patterns.join('\0');
    let found = this.unions.get(key);
    if (found === undefined) {
      const compiled = compileUnion(patterns, this.options.filterSlashes === false ? { filterSlashes: false } : {});
      found = compiled.ok ? compiled.automaton : null;
      this.unions.set(key, found);
    }
    return found ?? undefined;
  }
}

function guard<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StateLimitExceeded) return undefined;
    throw error;
  }
}

/** One term of an intersection: the strings of `set` that are not in `minus`. */
export interface SetTerm {
  readonly set: Automaton | undefined;
  readonly minus?: Automaton | undefined;
}

/** A shortest string in every term (each term's set minus its `minus`), if any; undefined when empty, unknown or a set is missing. */
export function intersectionWitness(terms: readonly SetTerm[]): string | undefined {
  if (terms.length === 0 || terms.some((t) => !t.set)) return undefined;
  // Hats that include the same abstractions ask the same questions: answer each once per run.
  const key = terms.map((t) => `${idOf(t.set!)}-${t.minus ? idOf(t.minus) : ''}`).join('&');
  if (answers.has(key)) return answers.get(key) ?? undefined;
  const answer = computeIntersection(terms);
  if (answers.size >= MAX_ANSWERS) answers.clear(); // bounded: a long-lived process lints many policies
  answers.set(key, answer ?? null);
  return answer;
}

const ids = new WeakMap<Automaton, number>();
let nextId = 0;
const answers = new Map<string, string | null>();
const MAX_ANSWERS = 20_000;

function idOf(a: Automaton): number {
  let id = ids.get(a);
  if (id === undefined) { id = nextId++; ids.set(a, id); }
  return id;
}

function computeIntersection(terms: readonly SetTerm[]): string | undefined {
  return guard(() => {
    let acc: Automaton | undefined;
    for (const t of terms) {
      const part = t.minus ? difference(t.set!, t.minus) : t.set!;
      acc = acc ? intersect(acc, part) : part;
    }
    const result = isEmpty(acc!);
    return result.empty ? undefined : formatWitness(result.witness!);
  });
}

/** A shortest string in (a − minus) ∩ b, if any; undefined when empty or unknown. */
export function commonWitness(a: Automaton | undefined, b: Automaton | undefined, minus?: Automaton): string | undefined {
  return a && b ? intersectionWitness([{ set: a, minus }, { set: b }]) : undefined;
}

/** A shortest string in a − b, if any. */
export function differenceWitness(a: Automaton | undefined, b: Automaton | undefined): string | undefined {
  if (!a) return undefined;
  if (!b) return guard(() => { const r = isEmpty(a); return r.empty ? undefined : formatWitness(r.witness!); });
  return guard(() => {
    const result = isEmpty(difference(a, b));
    return result.empty ? undefined : formatWitness(result.witness!);
  });
}

/** Is every string of `a` in `b`? (false when unknown) */
export function covers(b: Automaton | undefined, a: Automaton | undefined): boolean {
  if (!a || !b) return false;
  return guard(() => isSubset(a, b).subset) ?? false;
}

export { literalPattern };
