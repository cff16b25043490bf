// Context-dependent tokenizer. AppArmor's own lexer has ~30 states; here the parser names the mode
// it is in and asks for the next token at a position. Scanning is a single forward pass per token,
// so total work stays linear (the parser re-lexes at most a few tokens for lookahead).
import type { TokenKind } from './kinds.js';

export type LexMode =
  /** Statement level: keywords and mode letters as `[A-Za-z_][A-Za-z0-9_]*`; paths and labels as whole words. */
  | 'initial'
  /** A whole identifier (profile and hat names, targets, condition values): anything but blanks, `"`, `!`, `,`. */
  | 'full'
  /** Rule arguments of the conditional classes (network, dbus …): words also stop at `=` and `)`. */
  | 'noeq'
  /** `set rlimit NAME <= VALUE`: like noeq, and words also stop at `<` (`nofile<=10` is three tokens). */
  | 'rlimit'
  /** Inside `( … )`: commas and blanks separate values; words stop at `(`, `)` and `=`. */
  | 'list'
  /** A condition's value inside `( … )` (`peer=(name={a,b}.x)`): like list, but the commas of a
   *  `{…}` alternation belong to the word. */
  | 'listvalue'
  /** After `include` / `abi`: `<magic>`, `"quoted"` or a bare path. */
  | 'include'
  /** `if` conditions and boolean assignments. */
  | 'expr'
  /** Values of `@{VAR} = …` assignments: braces, parentheses and `=` are ordinary characters. */
  | 'assign';

export interface LexToken {
  readonly kind: TokenKind | 'Eof';
  readonly start: number;
  readonly end: number;
  /** A lexical problem with this token (reported by the parser when it consumes the token). */
  readonly problem?: { readonly code: string; readonly message: string };
}

const SP = 32, TAB = 9, LF = 10, CR = 13, QUOTE = 34, BANG = 33, COMMA = 44, HASH = 35, BACKSLASH = 92;
const LBRACE = 123, RBRACE = 125, LPAREN = 40, RPAREN = 41, EQ = 61, LT = 60, GT = 62, MINUS = 45, PLUS = 43;
const QMARK = 63, COLON = 58, CARET = 94, AT = 64, DOLLAR = 36, UNDERSCORE = 95;

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isIdentChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === UNDERSCORE;
}

/** Characters that end any unquoted word (AppArmor's ID_CHARS complement). */
function isBaseStop(c: number): boolean {
  return c === SP || c === TAB || c === LF || c === CR || c === QUOTE || c === BANG || c === COMMA;
}

/** Extra stop characters per mode (beyond blanks, `"`, `!`, `,`). */
function isModeStop(c: number, mode: LexMode): boolean {
  switch (mode) {
    case 'noeq': return c === EQ || c === RPAREN;
    case 'rlimit': return c === EQ || c === RPAREN || c === LT;
    case 'list': case 'listvalue': return c === LPAREN || c === RPAREN || c === EQ;
    case 'include': return c === LT || c === GT;
    case 'expr': return c === EQ || c === LPAREN || c === RPAREN || c === LBRACE || c === LT || c === GT;
    default: return false;
  }
}

/**
 * Whether `,` followed by `next` continues a word in this mode (`/usr/{bin,sbin}`). `braceDepth` is
 * how many `{` of the word are open; only listvalue tracks it (elsewhere it is 0).
 */
function commaJoins(next: number, mode: LexMode, braceDepth: number): boolean {
  if (mode === 'list') return false;
  if (mode === 'listvalue') {
    // Outside an alternation a comma separates list items; inside it joins as in `full` mode
    // (`{a,}` and `{,a}` are alternations, `{a,,b}` is not, as everywhere else).
    if (braceDepth === 0 || Number.isNaN(next)) return false;
    return !isBaseStop(next) && !isModeStop(next, mode);
  }
  if (Number.isNaN(next) || isBaseStop(next)) return false;
  return !isModeStop(next, mode);
}

/** Whether `{` at pos starts a word (an AARE alternation such as `{a,b}x` or `{,vs}code`) rather than a block. */
function braceStartsWord(mode: LexMode, next: number): boolean {
  if (mode !== 'noeq' && mode !== 'full' && mode !== 'listvalue') return false;
  return !Number.isNaN(next) && (next === COMMA || !isBaseStop(next));
}

/** Length of the trivia run at `pos` (whitespace, newlines, comments; `\`-newline in assign mode). */
export function triviaAt(text: string, pos: number, mode: LexMode): { kind: TokenKind; end: number } | undefined {
  const c = text.charCodeAt(pos);
  if (c === SP || c === TAB) {
    let i = pos + 1;
    while (i < text.length) {
      const d = text.charCodeAt(i);
      if (d !== SP && d !== TAB) break;
      i++;
    }
    return { kind: 'Whitespace', end: i };
  }
  if (c === LF) return { kind: 'Newline', end: pos + 1 };
  if (c === CR && text.charCodeAt(pos + 1) === LF) return { kind: 'Newline', end: pos + 2 };
  if (c === HASH) {
    if (isHashInclude(text, pos)) return undefined;
    let i = text.indexOf('\n', pos);
    if (i < 0) i = text.length;
    else if (text.charCodeAt(i - 1) === CR) i--;
    return { kind: 'Comment', end: i };
  }
  if (mode === 'assign' && c === BACKSLASH) {
    const d = text.charCodeAt(pos + 1);
    if (d === LF) return { kind: 'LineContinuation', end: pos + 2 };
    if (d === CR && text.charCodeAt(pos + 2) === LF) return { kind: 'LineContinuation', end: pos + 3 };
  }
  return undefined;
}

/** `#include` followed by a blank, `<` or `"` is the deprecated include directive, not a comment. */
export function isHashInclude(text: string, pos: number): boolean {
  if (!text.startsWith('#include', pos)) return false;
  const d = text.charCodeAt(pos + 8);
  return d === SP || d === TAB || d === LT || d === QUOTE;
}

/** The significant token at `pos` (the caller has skipped trivia). */
export function scanToken(text: string, pos: number, mode: LexMode): LexToken {
  const n = text.length;
  if (pos >= n) return { kind: 'Eof', start: pos, end: pos };
  const c = text.charCodeAt(pos);
  const next = text.charCodeAt(pos + 1);
  const one = (kind: TokenKind, len = 1): LexToken => ({ kind, start: pos, end: pos + len });

  if (c === COMMA) return one('Comma');
  if (c === QUOTE) return scanQuoted(text, pos);
  if (c === HASH && isHashInclude(text, pos)) return one('HashInclude', 8);
  if (c === BANG) return next === EQ && mode === 'expr' ? one('Operator', 2) : one('Unknown');
  if (c === CR) return one('Unknown');

  if (mode !== 'assign') {
    // In values and rule arguments `{a,b}` starts a word (AARE alternation); a lone `{` is still a brace.
    if (c === LBRACE && !braceStartsWord(mode, next)) return one('LBrace');
    if (c === RBRACE) return one('RBrace');
    if (c === LPAREN) return one('LParen');
    if (c === RPAREN) return one('RParen');
    if (mode === 'include' && c === LT) return scanIncludePath(text, pos);
    if (c === MINUS && next === GT) return one('Arrow', 2);
    if (c === LT && next === EQ) return one('Operator', 2);
    if (mode === 'expr') {
      if (c === GT && next === EQ) return one('Operator', 2);
      if (c === EQ && next === EQ) return one('Operator', 2);
      if (c === LT || c === GT) return one('Operator');
    }
    if (mode !== 'list' && mode !== 'listvalue') {
      if (c === PLUS && next === EQ) return one('PlusEquals', 2);
      if (c === QMARK && next === EQ) return one('QuestionEquals', 2);
      if (c === COLON && next === EQ) return one('ColonEquals', 2);
    }
    if (c === EQ) return one('Equals');
    if (c === CARET && mode === 'initial') return one('Caret');
  }

  // Keywords, capability names and permission letters: identifier characters only.
  if (mode === 'initial' && (isLetter(c) || c === UNDERSCORE)) {
    let i = pos + 1;
    while (i < n && isIdentChar(text.charCodeAt(i))) i++;
    return { kind: 'Word', start: pos, end: i };
  }

  // `@{VAR}` / `@VAR` / `$VAR` directly followed by an assignment operator ends there.
  if (c === AT || c === DOLLAR) {
    const varEnd = variableEnd(text, pos);
    if (varEnd > pos) {
      const after = text.charCodeAt(varEnd);
      if (c === DOLLAR || after === EQ || after === PLUS || after === QMARK) return { kind: 'Word', start: pos, end: varEnd };
    }
  }

  const end = scanWordEnd(text, pos, mode);
  if (end === pos) return one('Unknown');
  return { kind: 'Word', start: pos, end };
}

/** End of `@{NAME}`, `@NAME`, `${NAME}` or `$NAME` at pos, or pos when there is none. */
export function variableEnd(text: string, pos: number): number {
  let i = pos + 1;
  const braced = text.charCodeAt(i) === LBRACE;
  if (braced) i++;
  if (!isLetter(text.charCodeAt(i))) return pos;
  i++;
  while (i < text.length && isIdentChar(text.charCodeAt(i))) i++;
  if (braced) {
    if (text.charCodeAt(i) !== RBRACE) return pos;
    i++;
  }
  return i;
}

function scanWordEnd(text: string, pos: number, mode: LexMode): number {
  const n = text.length;
  const tracksBraces = mode === 'listvalue';
  let braceDepth = 0;
  let i = pos;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      // listvalue steps over the comma only: the next character may be a brace it must count.
      if (i > pos && commaJoins(text.charCodeAt(i + 1), mode, braceDepth)) { i += tracksBraces ? 1 : 2; continue; }
      break;
    }
    if (tracksBraces) {
      if (c === LBRACE) braceDepth++;
      else if (c === RBRACE && braceDepth > 0) braceDepth--;
    }
    if (c === BACKSLASH) {
      const d = text.charCodeAt(i + 1);
      if (i + 1 < n && d !== LF && d !== CR) { i += 2; continue; }
      i++;
      continue;
    }
    if (c === AT && text.charCodeAt(i + 1) === LBRACE) {
      const v = variableEnd(text, i);
      if (v > i) { i = v; continue; }
    }
    if (isBaseStop(c) || isModeStop(c, mode)) break;
    i++;
  }
  return i;
}

function scanQuoted(text: string, pos: number): LexToken {
  const n = text.length;
  let i = pos + 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) { i += 2; continue; }
    if (c === QUOTE) return { kind: 'QuotedString', start: pos, end: i + 1 };
    i++;
  }
  // Unterminated: stop at the end of the line so the rest of the file still parses.
  let end = text.indexOf('\n', pos);
  if (end < 0) end = n;
  else if (text.charCodeAt(end - 1) === CR && end - 1 > pos) end--;
  return { kind: 'QuotedString', start: pos, end, problem: { code: 'syntax/unterminated-string', message: 'unterminated quoted string' } };
}

function scanIncludePath(text: string, pos: number): LexToken {
  const n = text.length;
  let i = pos + 1;
  if (text.charCodeAt(i) === QUOTE) {
    const quoted = scanQuoted(text, i);
    if (!quoted.problem && text.charCodeAt(quoted.end) === GT) return { kind: 'IncludePath', start: pos, end: quoted.end + 1 };
    i = quoted.problem ? quoted.end : quoted.end;
  }
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === GT) return { kind: 'IncludePath', start: pos, end: i + 1 };
    if (c === LF || c === CR) break;
    i++;
  }
  return { kind: 'IncludePath', start: pos, end: i, problem: { code: 'syntax/unterminated-include', message: "include path '<…' is missing its closing '>'" } };
}

const MODE_TOKEN = /^(?:[RrWwaLlMmkXx]|[PpCc][Xx]|[PpCc]?[IiUu][Xx])+$/;

/** A file permission token such as `rw`, `mrix`, `Px` (AppArmor's MODES). */
export function isPermissionWord(word: string): boolean {
  // Real permission strings are short; the length check also keeps the regex off huge words.
  return word.length <= 64 && MODE_TOKEN.test(word);
}
