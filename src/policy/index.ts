// The AppArmor policy language: pure functions over text and data (no I/O except a FileReader).
export * from './diagnostic/index.js';
export * from './syntax/index.js';
export * from './model/index.js';
export * from './format/index.js';
export * from './resolve/index.js';
export * from './check/index.js';
// The AARE engine under its own name (its ParseResult would clash with the syntax one), plus the
// functions most callers want at the top level.
export * as aare from './aare/index.js';
export {
  parseAare, compilePattern, compileRuleSet, matches, lookup, canonicalizePath, filterSlashes, isExact,
  intersect, union, difference, complement, isEmpty, isSubset, equivalent, compare, comparePatterns, patternsOverlap,
  patternDifference, type Automaton, type Comparison, type Witness,
} from './aare/index.js';
export * from './eval/index.js';
export * as vocabulary from './vocabulary.js';
export * from './load/index.js';
export * from './label/index.js';
// The compile cache's pure parts: where entries are kept (an interface) and how data is encoded.
export * from './cache/index.js';
