// Patterns and rule sets compiled to minimal DFAs, and the lookups on them.
import type { Diagnostic } from '../diagnostic/index.js';
import { DEFAULT_MAX_STATES, determinize, minimize, Nfa, run, runBytes, StateLimitExceeded, type Automaton } from './automaton.js';
import { isExactAst, parseAare, type AareAst, type AareKind, type ParseOptions, type PatternOrigin } from './parse.js';

export interface CompileOptions extends ParseOptions {
  /** Cap on DFA states (default 100,000); past it compilation fails with `aare/state-limit`. */
  readonly maxStates?: number;
}

export type CompileResult =
  | { readonly ok: true; readonly automaton: Automaton; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

function stateLimitDiagnostic(limit: number, origin: PatternOrigin | undefined, what: string): Diagnostic {
  const at = origin ?? { file: '<pattern>', line: 1, col: 1 };
  return {
    file: at.file, line: at.line, col: at.col, ...(at.offset !== undefined ? { offset: at.offset } : {}),
    severity: 'error', code: 'aare/state-limit',
    message: `${what} needs more than ${limit} DFA states (or too much work building them); simplify it (fewer overlapping ** and ? runs) or raise the limit`,
  };
}

/** Compile one pattern (text or parsed AST) to a minimal DFA over bytes; its accept set is [0]. */
export function compilePattern(pattern: string | AareAst, options: CompileOptions = {}): CompileResult {
  let ast: AareAst;
  let diagnostics: readonly Diagnostic[] = [];
  if (typeof pattern === 'string') {
    const parsed = parseAare(pattern, options);
    if (!parsed.ok) return parsed;
    ast = parsed.ast;
    diagnostics = parsed.diagnostics;
  } else {
    ast = pattern;
  }
  const nfa = new Nfa();
  const start = nfa.newState();
  nfa.addPattern(ast, start, 0);
  try {
    const automaton = minimize(determinize(nfa, start, ast.kind, options.maxStates ?? DEFAULT_MAX_STATES));
    return { ok: true, automaton, diagnostics };
  } catch (error) {
    if (!(error instanceof StateLimitExceeded)) throw error;
    return { ok: false, diagnostics: [...diagnostics, stateLimitDiagnostic(error.limit, options.origin, `pattern ${JSON.stringify(ast.source)}`)] };
  }
}

export interface RuleSetEntry {
  readonly pattern: string | AareAst;
  /** Caller's rule id, returned by lookups. */
  readonly id: number;
  /** Where the pattern sits in the policy, for diagnostics. */
  readonly origin?: PatternOrigin;
}

export type RuleSetResult =
  | {
    readonly ok: true;
    readonly automaton: Automaton;
    /** Errors for entries left out (invalid patterns) and warnings; check them. */
    readonly diagnostics: readonly Diagnostic[];
    /** Ids of entries left out because their pattern is invalid. */
    readonly rejected: readonly number[];
  }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[]; readonly rejected: readonly number[] };

/**
 * Compile many patterns into one DFA whose accepting states carry the ids of every rule matching
 * there; `lookup(automaton, path)` then returns them in one pass. All entries share one kind.
 */
export function compileRuleSet(entries: readonly RuleSetEntry[], options: CompileOptions = {}): RuleSetResult {
  const kind: AareKind = options.kind ?? 'path';
  const nfa = new Nfa();
  const start = nfa.newState();
  const diagnostics: Diagnostic[] = [];
  const rejected: number[] = [];
  for (const entry of entries) {
    let ast: AareAst;
    if (typeof entry.pattern === 'string') {
      const parsed = parseAare(entry.pattern, { ...options, kind, ...(entry.origin ? { origin: entry.origin } : {}) });
      diagnostics.push(...parsed.diagnostics);
      if (!parsed.ok) { rejected.push(entry.id); continue; }
      ast = parsed.ast;
    } else {
      ast = entry.pattern;
    }
    const ruleStart = nfa.newState();
    nfa.addEpsilon(start, ruleStart);
    nfa.addPattern(ast, ruleStart, entry.id);
  }
  try {
    const automaton = minimize(determinize(nfa, start, kind, options.maxStates ?? DEFAULT_MAX_STATES));
    return { ok: true, automaton, diagnostics, rejected };
  } catch (error) {
    if (!(error instanceof StateLimitExceeded)) throw error;
    diagnostics.push(stateLimitDiagnostic(error.limit, options.origin, `the set of ${entries.length} patterns`));
    return { ok: false, diagnostics, rejected };
  }
}

/**
 * One automaton for the union of many patterns (every entry shares id 0): the cheap way to ask set
 * questions about a whole list of rules. Rule sets that keep one id per rule must tell which rules
 * match at every state and can need far more states.
 */
export function compileUnion(patterns: readonly (string | AareAst)[], options: CompileOptions = {}): RuleSetResult {
  return compileRuleSet(patterns.map((pattern) => ({ pattern, id: 0 })), options);
}

/** Does the automaton accept `subject` (its UTF-8 bytes)? */
export function matches(automaton: Automaton, subject: string | Uint8Array): boolean {
  const state = typeof subject === 'string' ? run(automaton, subject) : runBytes(automaton, subject);
  return automaton.acceptIndex[state] !== 0;
}

const NONE: readonly number[] = Object.freeze([]);

/** Ids of every rule matching `subject`, ascending; a shared frozen array (do not mutate). */
export function lookup(automaton: Automaton, subject: string | Uint8Array): readonly number[] {
  const state = typeof subject === 'string' ? run(automaton, subject) : runBytes(automaton, subject);
  const index = automaton.acceptIndex[state]!;
  return index === 0 ? NONE : automaton.acceptSets[index]!;
}

/** Exactness of a pattern text (policy-language §10); undefined when the pattern is invalid. */
export function isExact(pattern: string | AareAst, options: { kind?: AareKind; positiveClassIsWildcard?: boolean } = {}): boolean | undefined {
  if (typeof pattern !== 'string') return isExactAst(pattern, options);
  const parsed = parseAare(pattern, options.kind ? { kind: options.kind } : {});
  return parsed.ok ? isExactAst(parsed.ast, options) : undefined;
}

/**
 * The one canonical form for a concrete path before matching: runs of `/` collapse to one, and a
 * directory gets exactly one trailing `/` (AppArmor presents directories that way).
 */
export function canonicalizePath(path: string, options: { directory?: boolean } = {}): string {
  let out = path.replace(/\/{2,}/g, '/');
  if (options.directory && !out.endsWith('/')) out += '/';
  return out;
}

/** A literal path as an AARE pattern: every metacharacter escaped, so it matches exactly that path. */
export function literalPattern(path: string): string {
  return path.replace(/[*?[\]{}\\^,"]/g, (c) => `\\${c}`);
}
