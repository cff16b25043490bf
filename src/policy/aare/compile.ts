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

/**
 * A regular expression that matches every string `pattern` matches, and possibly more (`*`, `?` and
 * character classes widen to any characters): a cheap first filter before an exact automaton. Undefined
 * when the pattern is malformed (the caller then asks the automaton).
 */
export function supersetRegExp(pattern: string): RegExp | undefined {
  // the automaton treats repeated slashes in a pattern as one; keep this filter simple and say "ask it"
  if (pattern.includes('//')) return undefined;
  let i = 0;
  const alternatives = (closing: string | undefined): string | undefined => {
    const branches: string[] = [];
    let current = '';
    while (i < pattern.length) {
      const c = pattern[i++]!;
      if (c === '\\') {
        if (i >= pattern.length || !LITERAL_ESCAPES.includes(pattern[i]!)) return undefined;
        current += escapeRegExpChar(pattern[i++]!);
      } else if (c === '*') {
        current += '.*';
        while (pattern[i] === '*') i++;
      } else if (c === '?') {
        current += '.';
      } else if (c === '[') {
        // one character of a class: skip to the closing bracket (a `]` first in the class is literal)
        let j = i;
        if (pattern[j] === '^') j++;
        if (pattern[j] === ']') j++;
        while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
        if (j >= pattern.length) return undefined;
        i = j + 1;
        current += '.';
      } else if (c === '{') {
        const inner = alternatives('}');
        if (inner === undefined) return undefined;
        current += `(?:${inner})`;
      } else if (closing !== undefined && c === ',') {
        branches.push(current);
        current = '';
      } else if (closing !== undefined && c === closing) {
        branches.push(current);
        return branches.join('|');
      } else {
        current += escapeRegExpChar(c);
      }
    }
    if (closing !== undefined) return undefined;
    branches.push(current);
    return branches.join('|');
  };
  const source = alternatives(undefined);
  if (source === undefined) return undefined;
  try { return new RegExp(`^(?:${source})$`, 's'); } catch { return undefined; }
}

/** Characters a backslash makes literal (anything else after one is a character code or an error). */
const LITERAL_ESCAPES = '*?[]{}^,"\\';

function escapeRegExpChar(c: string): string {
  return /[\\^$.*+?()[\]{}|\/-]/.test(c) ? `\\${c}` : c;
}

/**
 * The literal text every match of `pattern` starts with: its characters up to the first metacharacter
 * (escapes taken literally). Possibly shorter than the longest common prefix, never longer, so a path
 * that does not start with it cannot match.
 */
export function literalPrefix(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      // `\*` and the like stand for the character; `\x41`, `\101`, `\t` … are codes: stop there
      if (i + 1 >= pattern.length || !LITERAL_ESCAPES.includes(pattern[i + 1]!)) break;
      out += pattern[++i];
      continue;
    }
    if ('*?[]{}^,"'.includes(c)) break;
    if (c === '/' && pattern[i + 1] === '/') break; // repeated slashes: the automaton reads them its own way
    out += c;
  }
  return out;
}
