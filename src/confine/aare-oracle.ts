// Exact widening with the AARE engine: the paths a Landlock grant covers that the hat does not allow.
import { compilePattern, compileRuleSet, difference, intersect, isEmpty, formatWitness, runAutomaton, type Automaton } from '../policy/aare/index.js';
import type { BlobStore } from '../policy/index.js';
import type { PathMatcher, WideningOracle } from './widening.js';

export { literalPattern } from './widening.js';

const MAX_STATES = 200_000;

type Beyond = ReturnType<WideningOracle['beyond']>;
type Overlaps = ReturnType<WideningOracle['overlaps']>;

/**
 * The oracle over the AARE engine. Its answers are pure functions of the pattern lists, so with a store
 * (the compile cache, docs/cache.md) they are kept by those lists and outlive the process: `hatter
 * confine explain` on an unchanged hat then asks the engine nothing.
 */
export function aareWideningOracle(options: { store?: BlobStore } = {}): WideningOracle {
  const cache = new Map<string, Automaton | null>();
  const compileSet = (patterns: readonly string[]): Automaton | null => {
    const key = patterns.join('\0');
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const result = compileRuleSet(patterns.map((pattern, id) => ({ pattern, id })), { maxStates: MAX_STATES });
    const automaton = result.ok && result.rejected.length === 0 ? result.automaton : null;
    cache.set(key, automaton);
    return automaton;
  };
  // What the hat allows for one right: the same (allowed, denied) lists come back for every grant.
  const hats = new Map<string, Automaton | null | undefined>();
  const hatSet = (allowed: readonly string[], denied: readonly string[]): Automaton | null | undefined => {
    const key = `${allowed.join('\0')}\0\0${denied.join('\0')}`;
    if (hats.has(key)) return hats.get(key);
    let hat: Automaton | null | undefined = allowed.length ? compileSet(allowed) : null;
    if (allowed.length && !hat) hat = undefined; // cannot tell
    else if (hat && denied.length) {
      const deny = compileSet(denied);
      hat = deny ? difference(hat, deny, { maxStates: MAX_STATES }) : undefined;
    }
    hats.set(key, hat);
    return hat;
  };
  // The subject's automaton and the hat's (null: the hat allows nothing), or undefined when the engine cannot tell.
  const operands = (subject: readonly string[], allowed: readonly string[], denied: readonly string[]) => {
    const grant = compileSet(subject);
    const hat = grant ? hatSet(allowed, denied) : undefined;
    return grant && hat !== undefined ? { grant, hat } : undefined;
  };
  // A state limit anywhere gives undefined (the caller then falls back to the per-grant report). With a
  // store, answers are kept between runs, `undefined` as such.
  const remembered = <T>(question: string, lists: readonly (readonly string[])[], compute: () => T): T => {
    const answer = (): T => { try { return compute(); } catch { return undefined as T; } };
    const store = options.store;
    if (!store) return answer();
    const key = `landlock-oracle\0${question}\0${MAX_STATES}\0${JSON.stringify(lists)}`;
    const bytes = store.get(key);
    if (bytes) {
      try {
        const stored = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { answer?: T };
        if (stored && typeof stored === 'object') return stored.answer as T;
      } catch { /* not ours: compute it again */ }
    }
    const value = answer();
    store.set(key, new TextEncoder().encode(JSON.stringify(value === undefined ? {} : { answer: value })));
    return value;
  };
  return {
    matcher(pattern) {
      const compiled = compilePattern(pattern, { maxStates: MAX_STATES });
      return compiled.ok ? automatonMatcher(compiled.automaton) : undefined;
    },
    beyond(granted, allowed, denied) {
      return remembered<Beyond>('beyond', [granted, allowed, denied], () => {
        const both = operands(granted, allowed, denied);
        if (!both) return undefined;
        const beyond = both.hat ? difference(both.grant, both.hat, { maxStates: MAX_STATES }) : both.grant;
        const result = isEmpty(beyond, { maxStates: MAX_STATES });
        return result.empty ? { empty: true, witnesses: [] } : { empty: false, witnesses: [formatWitness(result.witness!)] };
      });
    },
    overlaps(subject, allowed, denied) {
      return remembered<Overlaps>('overlaps', [subject, allowed, denied], () => {
        const both = operands(subject, allowed, denied);
        if (!both) return undefined;
        return both.hat ? !isEmpty(intersect(both.grant, both.hat, { maxStates: MAX_STATES }), { maxStates: MAX_STATES }).empty : false;
      });
    },
  };
}

/**
 * Walks of a minimal DFA over the bytes a path can hold (every byte but NUL): a state "covers all"
 * when every state reached in one step or more accepts, and is "live" when some accepting state is reachable.
 */
function automatonMatcher(a: Automaton): PathMatcher {
  const k = a.classCount;
  const classes = [...new Set(Array.from({ length: 255 }, (_, i) => a.classOf[i + 1]!))];
  const successors = (state: number): number[] => classes.map((c) => a.transitions[state * k + c]!);
  const nameClasses = [...new Set(Array.from({ length: 255 }, (_, i) => i + 1).filter((byte) => byte !== 0x2f).map((byte) => a.classOf[byte]!))];
  const nameStart = (state: number): number[] => nameClasses.map((c) => a.transitions[state * k + c]!);
  const closure = (state: number): Set<number> => {
    const seen = new Set([state]);
    const todo = [state];
    while (todo.length) for (const next of successors(todo.pop()!)) if (!seen.has(next)) { seen.add(next); todo.push(next); }
    return seen;
  };
  const covers = new Map<number, boolean>();
  const live = new Map<number, boolean>();
  const isLive = (state: number): boolean => {
    if (state === 0) return false;
    let answer = live.get(state);
    if (answer === undefined) { answer = [...closure(state)].some((s) => a.acceptIndex[s] !== 0); live.set(state, answer); }
    return answer;
  };
  return {
    matches: (path) => a.acceptIndex[runAutomaton(a, path)] !== 0,
    coversAll(prefix) {
      const state = runAutomaton(a, prefix);
      if (state === 0) return false;
      let answer = covers.get(state);
      // Strictly longer paths, not starting with another `/` (paths on the host have none doubled):
      // AppArmor's `dir/**` matches neither `dir/` itself nor `dir//`.
      if (answer === undefined) { answer = nameStart(state).every((next) => [...closure(next)].every((s) => a.acceptIndex[s] !== 0)); covers.set(state, answer); }
      return answer;
    },
    reachesBeyond(prefix) {
      const state = runAutomaton(a, prefix);
      return state !== 0 && successors(state).some(isLive);
    },
  };
}
