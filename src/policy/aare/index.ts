// Public surface of policy/aare: AppArmor globs (AARE) compiled to minimal DFAs over bytes, matching,
// and set algebra with shortest witnesses.
//
//   parseAare(pattern, { kind, origin })      → { ok, ast, diagnostics } | { ok: false, diagnostics }
//   filterSlashes(text), canonicalizePath(path, { directory })
//   compilePattern(pattern | ast, options)    → { ok, automaton, diagnostics } (aare/state-limit past maxStates)
//   matches(automaton, subject)               → boolean (subject as UTF-8 bytes)
//   compileRuleSet([{ pattern, id }], opts)   → one DFA; lookup(automaton, subject) → ids of all matching rules
//   compileUnion(patterns, opts)              → one DFA for the union (all ids 0): use it for set questions
//   intersect / union / difference / complement(automata) → Automaton
//   isEmpty(a) → { empty, witness? }; isSubset(a, b); equivalent(a, b)
//   compare(a, b) → { relation: equal|subset|superset|overlap|disjoint, onlyInA?, onlyInB?, inBoth? }
//   comparePatterns(a, b) / patternsOverlap(a, b) / patternDifference(a, b) — the same on pattern text
//   acceptingSets(ruleSet) → every distinct set of rule ids some string reaches, with a shortest witness
//   isExact(pattern, { positiveClassIsWildcard }) — policy-language §10 ([3.0.8] behind the option)
//
// Witnesses are the shortest strings with the property, the smallest in WITNESS_BYTE_ORDER among equals.
// For `path` automata strings containing NUL are outside the universe.
import type { Diagnostic } from '../diagnostic/index.js';
import { compare, difference, intersect, isEmpty, type AlgebraOptions, type Comparison, type Witness } from './algebra.js';
import { StateLimitExceeded } from './automaton.js';
import { compilePattern, type CompileOptions } from './compile.js';

export type { AareAst, AareKind, AareNode, ParseOptions, ParseResult, PatternOrigin } from './parse.js';
export { parseAare, filterSlashes, isExactAst, MAX_ALTERNATION_DEPTH } from './parse.js';
export type { Automaton } from './automaton.js';
export { DEFAULT_MAX_STATES, StateLimitExceeded } from './automaton.js';
export { run as runAutomaton } from './automaton.js';
export type { CompileOptions, CompileResult, RuleSetEntry, RuleSetResult } from './compile.js';
export { compilePattern, compileRuleSet, compileUnion, matches, lookup, isExact, canonicalizePath, literalPattern, literalPrefix, supersetRegExp } from './compile.js';
export type { AlgebraOptions, Comparison, EmptinessResult, Relation, Witness } from './algebra.js';
export {
  intersect, union, difference, complement, isEmpty, isSubset, equivalent, compare, product, universal, empty,
  formatWitness, acceptingSets, WITNESS_BYTE_ORDER,
} from './algebra.js';

type PatternAnswer<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

function compileBoth(a: string, b: string, options: CompileOptions) {
  const left = compilePattern(a, options);
  const right = compilePattern(b, options);
  if (!left.ok || !right.ok) {
    return { ok: false as const, diagnostics: [...left.diagnostics, ...right.diagnostics].filter((d) => d.severity === 'error') };
  }
  return { ok: true as const, a: left.automaton, b: right.automaton };
}

function guarded<T>(fn: () => T, options: CompileOptions & AlgebraOptions): PatternAnswer<T> {
  try {
    return { ok: true, ...fn() };
  } catch (error) {
    if (!(error instanceof StateLimitExceeded)) throw error;
    const at = options.origin ?? { file: '<pattern>', line: 1, col: 1 };
    return { ok: false, diagnostics: [{ file: at.file, line: at.line, col: at.col, severity: 'error', code: 'aare/state-limit', message: `comparing these patterns needs more than ${error.limit} states` }] };
  }
}

/** compare() on pattern text. */
export function comparePatterns(a: string, b: string, options: CompileOptions & AlgebraOptions = {}): PatternAnswer<Comparison> {
  const both = compileBoth(a, b, options);
  if (!both.ok) return both;
  return guarded(() => compare(both.a, both.b, options), options);
}

/** Do two patterns match a common string, and which (shortest) one? For exec-mode conflicts. */
export function patternsOverlap(a: string, b: string, options: CompileOptions & AlgebraOptions = {}): PatternAnswer<{ overlap: boolean; witness?: Witness }> {
  const both = compileBoth(a, b, options);
  if (!both.ok) return both;
  return guarded(() => {
    const result = isEmpty(intersect(both.a, both.b, options), options);
    return result.empty ? { overlap: false } : { overlap: true, witness: result.witness! };
  }, options);
}

/** The shortest string matched by `a` and not by `b`, if any (e.g. for widening checks). */
export function patternDifference(a: string, b: string, options: CompileOptions & AlgebraOptions = {}): PatternAnswer<{ empty: boolean; witness?: Witness }> {
  const both = compileBoth(a, b, options);
  if (!both.ok) return both;
  return guarded(() => isEmpty(difference(both.a, both.b, options), options), options);
}
export { deserializeAutomaton, serializeAutomaton } from './serialize.js';
