// AARE patterns (AppArmor globs) parsed into a small AST over bytes, with the exact semantics of
// apparmor_parser's parser_regex.c: the path-element guard, escapes, slash filtering and grouping rules.
// Invalid patterns give diagnostics; nothing here throws on user input.
import type { Diagnostic, Severity } from '../diagnostic/index.js';

/** `path`: file-like fields (any-char excludes NUL). `glob_null`: dbus/mount/label fields (NUL allowed). */
export type AareKind = 'path' | 'glob_null';

export type AareNode =
  /** One byte (UTF-8 text contributes one Literal per byte). */
  | { readonly kind: 'Literal'; readonly byte: number }
  /** `?`: one character other than `/` (and other than NUL for paths). */
  | { readonly kind: 'AnyChar' }
  /**
   * A run of `*`. `crossesSlash` for `**`. `guarded` when the run is a whole path element (it follows
   * `/` and is followed by `/` or the end): then it needs one character that is not `/` first.
   */
  | { readonly kind: 'Star'; readonly crossesSlash: boolean; readonly guarded: boolean }
  /** `[...]` / `[^...]`: inclusive byte ranges. */
  | { readonly kind: 'Class'; readonly negated: boolean; readonly ranges: readonly (readonly [number, number])[] }
  /** `{a,b,...}`: alternatives, each a sequence (possibly empty). */
  | { readonly kind: 'Alternation'; readonly alternatives: readonly (readonly AareNode[])[] };

export interface AareAst {
  readonly kind: AareKind;
  readonly source: string;
  readonly sequence: readonly AareNode[];
}

/** Where a pattern sits in a policy file, so diagnostics point into the policy text. */
export interface PatternOrigin {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Offset of the pattern's first character in the file's text, when known. */
  readonly offset?: number;
}

export interface ParseOptions {
  readonly kind?: AareKind;
  /** Collapse runs of `/` (policy-language §8). Default: true for `path`, false for `glob_null`. */
  readonly filterSlashes?: boolean;
  readonly origin?: PatternOrigin;
}

export type ParseResult =
  | { readonly ok: true; readonly ast: AareAst; readonly diagnostics: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** apparmor_parser's MAX_ALT_DEPTH is 50: 49 nested `{}` levels are accepted, 50 are not. */
export const MAX_ALTERNATION_DEPTH = 49;

const SLASH = 0x2f;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, e: 27, f: 12, n: 10, r: 13, t: 9 };
/** Escaping these is meaningful (metacharacters, quoting) or harmless punctuation: no warning. */
const QUIET_ESCAPES = new Set(['*', '?', '[', ']', '{', '}', '^', ',', '\\', '"', '/', '!', '#', ' ', '@', '-', '.', '+', '(', ')', '$', '|', "'", '=', ':']);

class PatternError {
  constructor(readonly code: string, readonly message: string, readonly at: number, readonly length: number) {}
}

interface Decoded {
  readonly bytes: number[];
  /** Next index in the source. */
  readonly end: number;
  /** True when the text was a plain (unescaped or numerically escaped) character, for slash filtering. */
  readonly plain: boolean;
}

export function parseAare(pattern: string, options: ParseOptions = {}): ParseResult {
  const kind = options.kind ?? 'path';
  const parser = new Parser(pattern, options.filterSlashes ?? kind === 'path');
  // Without an origin the pattern is its own text ('<pattern>'); with one, columns and offsets are
  // placed in the policy text (an offset only when the origin knows its own).
  const origin = options.origin ?? { file: '<pattern>', line: 1, col: 1, offset: 0 };
  const place = (code: string, severity: Severity, message: string, at: number, length: number): Diagnostic => ({
    file: origin.file, line: origin.line, col: origin.col + at, severity, code, message, length,
    ...(origin.offset !== undefined ? { offset: origin.offset + at } : {}),
  });
  try {
    const sequence = parser.parseTop();
    const diagnostics = parser.warnings.map((w) => place(w.code, 'warning', w.message, w.at, w.length));
    return { ok: true, ast: { kind, source: pattern, sequence }, diagnostics };
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    const diagnostics = parser.warnings.map((w) => place(w.code, 'warning', w.message, w.at, w.length));
    diagnostics.push(place(error.code, 'error', error.message, error.at, error.length));
    return { ok: false, diagnostics };
  }
}

class Parser {
  pos = 0;
  readonly warnings: PatternError[] = [];
  private depth = 0;
  /** Offset of the second character when the pattern starts `//` + non-slash (kept), else -1. */
  private leadingDoubleSlashAt = -1;

  constructor(private readonly text: string, private readonly filter: boolean) {}

  parseTop(): AareNode[] {
    if (this.nextIsSlash(0)) {
      const second = this.decodeCharQuiet(0)!.end;
      if (this.nextIsSlash(second) && !this.nextIsSlash(this.decodeCharQuiet(second)!.end)) this.leadingDoubleSlashAt = second;
    }
    const sequence = this.parseSequence(false);
    if (this.pos < this.text.length) {
      const ch = this.text[this.pos];
      throw new PatternError('aare/unmatched-close', `'${ch}' has no matching open '${ch === '}' ? '{' : '['}'`, this.pos, 1);
    }
    return sequence;
  }

  /** Parse until end, or (inside a group) an unescaped `,` or `}` at this level. */
  private parseSequence(inGroup: boolean): AareNode[] {
    const out: AareNode[] = [];
    const text = this.text;
    // `slashRun` is true while the last emitted node is a slash that slash filtering may merge into.
    let slashRun = false;
    while (this.pos < text.length) {
      const ch = text[this.pos]!;
      if (ch === '}' || ch === ']') {
        if (ch === '}' && inGroup) return out;
        throw new PatternError('aare/unmatched-close', `'${ch}' has no matching open '${ch === '}' ? '{' : '['}'`, this.pos, 1);
      }
      if (ch === ',' && inGroup) return out;
      if (ch === '*') {
        const start = this.pos;
        while (text[this.pos] === '*') this.pos++;
        const crossesSlash = this.pos - start > 1;
        const last = out[out.length - 1];
        const afterSlash = last !== undefined && last.kind === 'Literal' && last.byte === SLASH;
        const guarded = afterSlash && (this.pos >= text.length || this.nextIsSlash(this.pos));
        out.push({ kind: 'Star', crossesSlash, guarded });
        slashRun = false;
        continue;
      }
      if (ch === '?') {
        this.pos++;
        out.push({ kind: 'AnyChar' });
        slashRun = false;
        continue;
      }
      if (ch === '[') {
        out.push(this.parseClass());
        slashRun = false;
        continue;
      }
      if (ch === '{') {
        out.push(this.parseGroup());
        slashRun = false;
        continue;
      }
      const decoded = this.decodeChar(this.pos, false);
      const isSlash = decoded.bytes.length === 1 && decoded.bytes[0] === SLASH;
      // apparmor_parser filters slashes on the text before it reads escapes, so an escaped `\/` is
      // kept but a plain slash right after it is dropped.
      if (isSlash && this.filter) {
        if (decoded.plain && slashRun && !this.keepsLeadingDoubleSlash()) {
          this.pos = decoded.end;
          continue;
        }
        slashRun = true;
      } else {
        slashRun = false;
      }
      this.pos = decoded.end;
      for (const byte of decoded.bytes) out.push({ kind: 'Literal', byte });
    }
    return out;
  }

  /**
   * `//usr` keeps its two leading slashes (a distinct namespace): as in apparmor_parser's
   * filter_slashes, a pattern whose first two characters are slashes and whose third is not a slash
   * (or is the end) keeps both; `///usr` collapses to `/usr`.
   */
  private keepsLeadingDoubleSlash(): boolean {
    return this.depth === 0 && this.pos === this.leadingDoubleSlashAt;
  }

  /** The character at `at` is a slash as apparmor_parser sees it after lexing (`/` or `\x2f`, not `\/`). */
  private nextIsSlash(at: number): boolean {
    const ch = this.text[at];
    if (ch === '/') return true;
    if (ch !== '\\') return false;
    const decoded = this.decodeCharQuiet(at);
    return decoded !== undefined && decoded.plain && decoded.bytes.length === 1 && decoded.bytes[0] === SLASH;
  }

  private decodeCharQuiet(at: number): Decoded | undefined {
    const saved = this.warnings.length;
    try {
      return this.decodeChar(at, false);
    } catch {
      return undefined;
    } finally {
      this.warnings.length = saved;
    }
  }

  /** One source character or escape sequence, as bytes. */
  private decodeChar(at: number, inClass: boolean): Decoded {
    const text = this.text;
    const ch = text[at]!;
    if (ch !== '\\') {
      const cp = text.codePointAt(at)!;
      return { bytes: utf8Bytes(cp), end: at + (cp > 0xffff ? 2 : 1), plain: true };
    }
    if (at + 1 >= text.length) {
      throw new PatternError('aare/trailing-backslash', 'pattern ends with a lone \\', at, 1);
    }
    const next = text[at + 1]!;
    if (next >= '0' && next <= '7') {
      let value = 0;
      let end = at + 1;
      while (end < at + 4 && end < text.length && text[end]! >= '0' && text[end]! <= '7') {
        const candidate = value * 8 + (text.charCodeAt(end) - 48);
        if (candidate > 255) break;
        value = candidate;
        end++;
      }
      return { bytes: [value], end, plain: true };
    }
    if (next === 'x' || next === 'd') {
      const hex = next === 'x';
      let value = 0;
      let end = at + 2;
      const limit = at + 2 + (hex ? 2 : 3);
      while (end < limit && end < text.length) {
        const digit = hex ? parseInt(text[end]!, 16) : /[0-9]/.test(text[end]!) ? text.charCodeAt(end) - 48 : NaN;
        if (Number.isNaN(digit)) break;
        const candidate = value * (hex ? 16 : 10) + digit;
        if (candidate > 255) break;
        value = candidate;
        end++;
      }
      if (end > at + 2) return { bytes: [value], end, plain: true };
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) return { bytes: [simple], end: at + 2, plain: true };
    const cp = text.codePointAt(at + 1)!;
    const end = at + 1 + (cp > 0xffff ? 2 : 1);
    if (!QUIET_ESCAPES.has(next) && !(inClass && next === '-')) {
      this.warnings.push(new PatternError('aare/unnecessary-escape', `character '${String.fromCodePoint(cp)}' was quoted unnecessarily; the \\ is dropped`, at, end - at));
    }
    return { bytes: utf8Bytes(cp), end, plain: false };
  }

  private parseClass(): AareNode {
    const text = this.text;
    const open = this.pos;
    this.pos++;
    let negated = false;
    if (text[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    if (text[this.pos] === ']') {
      throw new PatternError('aare/empty-class', 'empty character class (a ] right after [ or [^ closes it)', open, this.pos + 1 - open);
    }
    const ranges: [number, number][] = [];
    for (;;) {
      if (this.pos >= text.length) {
        throw new PatternError('aare/unclosed-class', "'[' is never closed by ']'", open, 1);
      }
      if (text[this.pos] === ']') {
        this.pos++;
        break;
      }
      const itemStart = this.pos;
      const first = this.decodeChar(this.pos, true);
      this.pos = first.end;
      if (text[this.pos] === '-' && this.pos + 1 < text.length && text[this.pos + 1] !== ']') {
        this.pos++;
        const second = this.decodeChar(this.pos, true);
        this.pos = second.end;
        if (first.bytes.length !== 1 || second.bytes.length !== 1) {
          throw new PatternError('aare/invalid-range', 'a range in [...] must be between single-byte characters', itemStart, this.pos - itemStart);
        }
        let lo = first.bytes[0]!;
        let hi = second.bytes[0]!;
        if (lo > hi) {
          // apparmor_parser swaps the bounds; so do we, with a warning.
          this.warnings.push(new PatternError('aare/reversed-range', `range ${text.slice(itemStart, this.pos)} is reversed; it is read as ${String.fromCharCode(hi)}-${String.fromCharCode(lo)}`, itemStart, this.pos - itemStart));
          [lo, hi] = [hi, lo];
        }
        ranges.push([lo, hi]);
        continue;
      }
      if (text[this.pos] === '-' && text[this.pos + 1] === ']') {
        // apparmor_parser's regex engine rejects a dangling '-' before ']'.
        throw new PatternError('aare/invalid-range', "'-' at the end of [...] has no upper bound; escape it as \\-", this.pos, 1);
      }
      for (const byte of first.bytes) ranges.push([byte, byte]);
    }
    return { kind: 'Class', negated, ranges: normalizeRanges(ranges) };
  }

  private parseGroup(): AareNode {
    const open = this.pos;
    this.depth++;
    if (this.depth > MAX_ALTERNATION_DEPTH) {
      throw new PatternError('aare/nesting-too-deep', `{...} nests more than ${MAX_ALTERNATION_DEPTH} levels`, open, 1);
    }
    this.pos++;
    const alternatives: AareNode[][] = [];
    for (;;) {
      alternatives.push(this.parseSequence(true));
      if (this.pos >= this.text.length) {
        throw new PatternError('aare/unclosed-group', "'{' is never closed by '}'", open, 1);
      }
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      // '}'
      this.pos++;
      break;
    }
    this.depth--;
    if (alternatives.length < 2) {
      throw new PatternError('aare/single-alternative', '{...} needs at least one comma ({a} and {} are errors)', open, this.pos - open);
    }
    return { kind: 'Alternation', alternatives };
  }
}

function normalizeRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** UTF-8 bytes of a code point; a lone surrogate becomes U+FFFD, as TextEncoder (and matching) do. */
export function utf8Bytes(cp: number): number[] {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/**
 * Slash filtering (policy-language §8) on pattern text: runs of `/` collapse to one, except a leading
 * `//` followed by a non-slash; trailing slashes are kept. Escaped slashes (`\/`) are not touched.
 */
export function filterSlashes(pattern: string): string {
  let out = '';
  let i = 0;
  if (pattern.startsWith('//') && pattern[2] !== '/') {
    out = '//';
    i = 2;
  }
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      out += pattern.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === '/' && out.endsWith('/')) {
      i++;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/**
 * Exact (policy-language §10): no star, no `?`, no negated class. Positive classes are exact in current
 * upstream; `positiveClassIsWildcard` gives apparmor_parser 3.0.8's answer.
 */
export function isExactAst(ast: AareAst, options: { positiveClassIsWildcard?: boolean } = {}): boolean {
  const walk = (sequence: readonly AareNode[]): boolean => sequence.every((node) => {
    switch (node.kind) {
      case 'Literal': return true;
      case 'AnyChar': case 'Star': return false;
      case 'Class': return !node.negated && !options.positiveClassIsWildcard;
      case 'Alternation': return node.alternatives.every(walk);
    }
  });
  return walk(ast.sequence);
}
