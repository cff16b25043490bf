// Hand-written recursive-descent parser for AppArmor policy. It never builds nodes itself: it tells a
// GreenBuilder to start, add tokens to and finish nodes. Trivia is attached to whichever node is open
// when the next significant token is consumed, so every byte of the input lands in the tree.
// Errors become Error/UnknownRule nodes plus diagnostics; the parser always returns a tree.
import { LineIndex, makeDiagnostic, type Diagnostic } from '../diagnostic/index.js';
import type { NodeKind, TokenKind } from './kinds.js';
import { isPermissionWord, scanToken, triviaAt, type LexMode, type LexToken } from './lexer.js';
import { GreenBuilder, type GreenNode } from './tree.js';
import { escapeControlCharacters } from './display.js';

export interface ParseResult {
  readonly root: GreenNode;
  readonly diagnostics: readonly Diagnostic[];
  readonly file: string;
  readonly text: string;
}

/** Blocks nested deeper than this are kept verbatim in an Error node (no JS stack growth). */
export const MAX_NESTING = 256;

/** Parse policy text into a lossless CST. Never throws for any input. */
export function parsePolicy(text: string, file = '<input>'): ParseResult {
  const parser = new Parser(text);
  const root = parser.parseFile();
  let diagnostics: Diagnostic[] = [];
  if (parser.problems.length) {
    const index = new LineIndex(text);
    diagnostics = parser.problems.map((p) => makeDiagnostic(file, index, p.offset, p.length, p.severity, p.code, p.message));
  }
  return { root, diagnostics, file, text };
}

interface Problem {
  offset: number;
  length: number;
  severity: 'error' | 'warning';
  code: string;
  message: string;
}

const RULE_CLASS: Readonly<Record<string, NodeKind>> = {
  capability: 'CapabilityRule', network: 'NetworkRule', unix: 'UnixRule', dbus: 'DbusRule', signal: 'SignalRule',
  ptrace: 'PtraceRule', mount: 'MountRule', remount: 'RemountRule', umount: 'UmountRule', unmount: 'UmountRule',
  pivot_root: 'PivotRootRule', change_profile: 'ChangeProfileRule', userns: 'UserNsRule', io_uring: 'IoUringRule',
  mqueue: 'MqueueRule',
};

/** Classes whose arguments may continue on a following line that starts with a path. */
const PATH_ARGUMENT_CLASSES: ReadonlySet<NodeKind> = new Set<NodeKind>([
  'MountRule', 'RemountRule', 'UmountRule', 'PivotRootRule', 'ChangeProfileRule', 'MqueueRule', 'LinkRule',
]);

const PREFIX_WORDS: ReadonlySet<string> = new Set(['audit', 'allow', 'deny', 'prompt', 'owner', 'user', 'other']);

/** Words that begin a statement; one of them at the start of a new line ends a rule missing its comma. */
const STATEMENT_WORDS: ReadonlySet<string> = new Set([
  'priority', 'audit', 'allow', 'deny', 'prompt', 'owner', 'user', 'other', 'file', 'link', 'capability', 'network',
  'unix', 'dbus', 'signal', 'ptrace', 'mount', 'remount', 'umount', 'unmount', 'pivot_root', 'change_profile', 'set',
  'userns', 'io_uring', 'mqueue', 'all', 'include', 'profile', 'hat', 'if', 'abi', 'alias', 'rewrite',
]);

const ASSIGNMENT_OPERATORS: ReadonlySet<string> = new Set(['Equals', 'PlusEquals', 'QuestionEquals', 'ColonEquals']);

class Parser {
  readonly problems: Problem[] = [];
  private pos = 0;
  private lastEnd = 0;
  private readonly b = new GreenBuilder();
  private peekCache: { pos: number; mode: LexMode; token: LexToken; newline: boolean } | undefined;
  private exprStopsAtNewline = false;
  /** Operators left in the current expression before it is cut off (keeps AST depth bounded). */
  private exprBudget = 0;

  constructor(private readonly text: string) {}

  // ---- token plumbing -------------------------------------------------------------------------

  /** Set by skipTrivia: whether the trivia it skipped held a line break (or a comment, which ends one). */
  private skippedNewline = false;

  /** End of the trivia run at `from` (no allocation: this runs for every lookahead). */
  private skipTrivia(from: number, mode: LexMode): number {
    const text = this.text;
    const n = text.length;
    let p = from;
    let newline = false;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c === 32 || c === 9) { p++; continue; }
      if (c === 10) { p++; newline = true; continue; }
      if (c === 13 && text.charCodeAt(p + 1) === 10) { p += 2; newline = true; continue; }
      if (c === 35 /* # */) {
        const t = triviaAt(text, p, mode);
        if (!t) break;
        p = t.end;
        newline = true;
        continue;
      }
      if (c === 92 /* \ */ && mode === 'assign') {
        const t = triviaAt(text, p, mode);
        if (!t) break;
        p = t.end;
        continue;
      }
      break;
    }
    this.skippedNewline = newline;
    return p;
  }

  private peek(mode: LexMode): LexToken {
    const cache = this.peekCache;
    if (cache && cache.pos === this.pos && cache.mode === mode) return cache.token;
    const end = this.skipTrivia(this.pos, mode);
    const newline = this.skippedNewline;
    const token = this.scanAt(end, mode);
    this.peekCache = { pos: this.pos, mode, token, newline };
    return token;
  }

  private peekAfter(token: LexToken, mode: LexMode): LexToken {
    return this.scanAt(this.skipTrivia(token.end, mode), mode);
  }

  /** scanToken with a one-entry memo, so a lookahead token is not scanned again when it is consumed. */
  private scanAt(start: number, mode: LexMode): LexToken {
    const memo = this.scanMemo;
    if (memo && memo.start === start && memo.mode === mode) return memo.token;
    const token = scanToken(this.text, start, mode);
    this.scanMemo = { start, mode, token };
    return token;
  }

  private scanMemo: { start: number; mode: LexMode; token: LexToken } | undefined;

  private newlineBefore(mode: LexMode): boolean {
    const cache = this.peekCache;
    if (cache && cache.pos === this.pos && cache.mode === mode) return cache.newline;
    this.skipTrivia(this.pos, mode);
    return this.skippedNewline;
  }

  private word(token: LexToken): string {
    return this.text.slice(token.start, token.end);
  }

  private isWord(token: LexToken, word: string): boolean {
    return token.kind === 'Word' && token.end - token.start === word.length && this.text.startsWith(word, token.start);
  }

  /** Start a node after the pending trivia, so nodes begin with a significant token. */
  private startNode(kind: NodeKind): void {
    this.flushTrivia('initial');
    this.b.startNode(kind);
  }

  private checkpoint(): number {
    this.flushTrivia('initial');
    return this.b.checkpoint();
  }

  private flushTrivia(mode: LexMode): void {
    let p = this.pos;
    for (;;) {
      const t = triviaAt(this.text, p, mode);
      if (!t) break;
      this.b.token(t.kind, this.text.slice(p, t.end));
      p = t.end;
    }
    this.pos = p;
  }

  /** Consume the next significant token (and the trivia before it). */
  private bump(mode: LexMode, kind?: TokenKind): LexToken {
    const token = this.peek(mode);
    this.flushTrivia(mode);
    if (token.kind === 'Eof') return token;
    this.b.token(kind ?? token.kind, this.text.slice(token.start, token.end));
    if (token.problem) this.error(token.start, token.end - token.start, token.problem.code, token.problem.message);
    this.pos = token.end;
    this.lastEnd = token.end;
    return token;
  }

  /** Consume one token into its own Error node. */
  private bumpError(mode: LexMode, code: string, message: string): void {
    const token = this.peek(mode);
    this.error(token.start, Math.max(1, token.end - token.start), code, message);
    this.flushTrivia(mode);
    this.b.startNode('Error');
    this.bump(mode);
    this.b.finishNode();
  }

  private error(offset: number, length: number, code: string, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ offset, length, severity, code, message: escapeControlCharacters(message) });
  }

  private describe(token: LexToken): string {
    if (token.kind === 'Eof') return 'end of file';
    const text = this.word(token);
    return `'${text.length > 40 ? `${text.slice(0, 37)}...` : text}'`;
  }

  private expectComma(mode: LexMode): void {
    if (this.peek(mode).kind === 'Comma') this.bump(mode);
    else this.missingComma();
  }

  private missingComma(): void {
    this.error(Math.max(0, this.lastEnd - 1), 1, 'syntax/missing-comma', "expected ',' at the end of the rule");
  }

  // ---- file and blocks ------------------------------------------------------------------------

  parseFile(): GreenNode {
    this.b.startNode('Policy');
    this.parseStatements(0, false);
    this.flushTrivia('initial');
    if (this.pos < this.text.length) {
      // Unreachable by construction; kept so the round trip can never lose bytes.
      this.startNode('Error');
      this.b.token('Unknown', this.text.slice(this.pos));
      this.b.finishNode();
    }
    this.b.finishNode();
    return this.b.finish();
  }

  private parseStatements(depth: number, inBlock: boolean): void {
    for (;;) {
      const t = this.peek('initial');
      if (t.kind === 'Eof') return;
      if (t.kind === 'RBrace') {
        if (inBlock) return;
        this.bumpError('initial', 'syntax/unmatched-close-brace', "'}' without a matching '{'");
        continue;
      }
      const before = this.pos;
      this.parseStatement(depth);
      if (this.pos === before) this.bumpError('initial', 'syntax/unexpected-token', `unexpected ${this.describe(t)}`);
    }
  }

  private parseStatement(depth: number): void {
    const t = this.peek('initial');
    switch (t.kind) {
      case 'HashInclude':
        this.parseInclude();
        return;
      case 'Caret':
        this.parseProfile(depth, 'caret');
        return;
      case 'QuotedString':
        if (this.isProfileHead(t)) this.parseProfile(depth, 'path');
        else this.parseRule(depth);
        return;
      case 'LBrace':
        this.error(t.start, 1, 'syntax/unexpected-block', "unexpected '{': a block must follow a profile head, a rule prefix or an if condition");
        this.startNode('Error');
        this.parseBlock(depth + 1);
        this.b.finishNode();
        return;
      case 'Word':
        break;
      default:
        this.parseRule(depth);
        return;
    }
    const w = this.word(t);
    switch (w) {
      case 'include': {
        const after = this.text.charCodeAt(t.end);
        if (after === 32 || after === 9) { this.parseInclude(); return; }
        break;
      }
      case 'abi': this.parseAbi(); return;
      case 'alias': case 'rewrite': this.parseAlias(); return;
      case 'if': this.parseConditional(depth); return;
      case 'else':
        this.error(t.start, 4, 'syntax/else-without-if', "'else' must directly follow the closing '}' of an if block");
        this.parseConditional(depth);
        return;
      case 'profile': case 'hat': this.parseProfile(depth, 'keyword'); return;
      default: break;
    }
    const first = w.charCodeAt(0);
    if ((first === 64 /* @ */ || first === 36 /* $ */) && ASSIGNMENT_OPERATORS.has(this.peekAfter(t, 'initial').kind)) {
      this.parseAssignment(first === 36);
      return;
    }
    if ((first === 47 /* / */ || first === 64 || first === 58 /* : */) && this.isProfileHead(t)) {
      this.parseProfile(depth, 'path');
      return;
    }
    this.parseRule(depth);
  }

  /** After a path-like word: does a profile head (`{`, flags, xattrs, or an attachment then those) follow? */
  private isProfileHead(name: LexToken): boolean {
    const opensHead = (t: LexToken): boolean =>
      t.kind === 'LBrace' || t.kind === 'LParen' || this.isWord(t, '+') ||
      ((this.isWord(t, 'flags') || this.isWord(t, 'xattrs')) && this.peekAfter(t, 'initial').kind === 'Equals');
    const u = this.peekAfter(name, 'initial');
    if (opensHead(u)) return true;
    if (u.kind === 'QuotedString' || (u.kind === 'Word' && isLabelStart(this.text.charCodeAt(u.start)))) {
      return opensHead(this.peekAfter(u, 'initial'));
    }
    return false;
  }

  private parseBlock(depth: number): void {
    this.startNode('Block');
    const open = this.bump('initial');
    if (depth > MAX_NESTING) {
      this.error(open.start, 1, 'syntax/nesting-too-deep', `blocks nested more than ${MAX_NESTING} deep are not parsed`);
      this.skipBalanced(open);
    } else {
      this.parseStatements(depth, true);
      if (this.peek('initial').kind === 'RBrace') this.bump('initial');
      else this.error(open.start, 1, 'syntax/unclosed-block', "'{' is never closed with '}'");
    }
    this.b.finishNode();
  }

  /** Keep a too-deep block verbatim: tokens up to its matching '}' go into one Error node. */
  private skipBalanced(open: LexToken): void {
    this.startNode('Error');
    let level = 1;
    for (;;) {
      const t = this.peek('initial');
      if (t.kind === 'Eof') {
        this.b.finishNode();
        this.error(open.start, 1, 'syntax/unclosed-block', "'{' is never closed with '}'");
        return;
      }
      if (t.kind === 'LBrace') level++;
      else if (t.kind === 'RBrace' && --level === 0) break;
      this.bump('initial');
    }
    this.b.finishNode();
    this.bump('initial');
  }

  // ---- preamble -------------------------------------------------------------------------------

  private parseInclude(): void {
    this.startNode('Include');
    const keyword = this.bump('initial', 'Keyword');
    if (this.text.charCodeAt(keyword.start) === 35) {
      this.error(keyword.start, 8, 'syntax/deprecated-hash-include', "'#include' is deprecated; write 'include'", 'warning');
    }
    const t = this.peek('initial');
    if (this.isWord(t, 'if') && this.isWord(this.peekAfter(t, 'initial'), 'exists')) {
      this.bump('initial', 'Keyword');
      this.bump('initial', 'Keyword');
    }
    this.includePath('include');
    this.b.finishNode();
  }

  private includePath(what: string): void {
    const path = this.peek('include');
    if ((path.kind === 'IncludePath' || path.kind === 'QuotedString' || path.kind === 'Word') && !this.newlineBefore('include')) {
      this.bump('include');
    } else {
      this.error(path.start, Math.max(1, path.end - path.start), 'syntax/expected-include-path', `expected a path after '${what}' (<magic>, "quoted" or bare)`);
    }
  }

  private parseAbi(): void {
    this.startNode('Abi');
    this.bump('initial', 'Keyword');
    this.includePath('abi');
    this.expectComma('initial');
    this.b.finishNode();
  }

  private parseAlias(): void {
    this.startNode('Alias');
    this.bump('initial', 'Keyword');
    this.expectWord('full', 'syntax/expected-path', 'expected the path to rewrite');
    if (this.peek('full').kind === 'Arrow') this.bump('full');
    else this.error(this.peek('full').start, 1, 'syntax/expected-arrow', "expected '->'");
    this.expectWord('full', 'syntax/expected-path', 'expected the replacement path');
    this.expectComma('full');
    this.b.finishNode();
  }

  private expectWord(mode: LexMode, code: string, message: string): boolean {
    const t = this.peek(mode);
    if (t.kind === 'Word' || t.kind === 'QuotedString') {
      this.bump(mode);
      return true;
    }
    this.error(t.start, Math.max(1, t.end - t.start), code, `${message}, found ${this.describe(t)}`);
    return false;
  }

  private parseAssignment(boolean: boolean): void {
    this.startNode(boolean ? 'BooleanAssignment' : 'VariableAssignment');
    this.bump('initial');
    this.bump('initial');
    if (boolean) {
      this.exprStopsAtNewline = true;
      this.parseExpression();
      this.exprStopsAtNewline = false;
      if (!this.newlineBefore('expr') && this.peek('expr').kind === 'Comma') {
        this.bumpError('expr', 'syntax/assignment-trailing-comma', 'variable declarations do not accept trailing commas');
      }
      this.b.finishNode();
      return;
    }
    for (;;) {
      if (this.newlineBefore('assign')) break;
      const t = this.peek('assign');
      if (t.kind === 'Eof' || t.kind === 'HashInclude') break;
      if (t.kind === 'Word' || t.kind === 'QuotedString') this.bump('assign');
      else if (t.kind === 'Comma') this.bumpError('assign', 'syntax/assignment-trailing-comma', 'variable declarations do not accept trailing commas');
      else this.bumpError('assign', 'syntax/unexpected-token', `unexpected ${this.describe(t)} in a variable assignment`);
    }
    this.b.finishNode();
  }

  // ---- conditionals ---------------------------------------------------------------------------

  private parseConditional(depth: number): void {
    this.startNode('Conditional');
    for (;;) {
      this.startNode('ConditionalBranch');
      const head = this.peek('initial');
      this.bump('initial', 'Keyword');
      let needsCondition = this.isWord(head, 'if');
      if (!needsCondition && this.isWord(this.peek('initial'), 'if')) {
        this.bump('initial', 'Keyword');
        needsCondition = true;
      }
      if (needsCondition) this.parseExpression();
      const open = this.peek('initial');
      if (open.kind !== 'LBrace') {
        this.error(open.start, Math.max(1, open.end - open.start), 'syntax/expected-block', `expected '{' after the condition, found ${this.describe(open)}`);
        this.b.finishNode();
        break;
      }
      this.parseBlock(depth + 1);
      this.b.finishNode();
      if (!this.isWord(this.peek('initial'), 'else')) break;
    }
    this.b.finishNode();
  }

  private peekExpr(): LexToken {
    const t = this.peek('expr');
    if (this.exprStopsAtNewline && t.kind !== 'Eof' && this.newlineBefore('expr')) return { kind: 'Eof', start: t.start, end: t.start };
    return t;
  }

  private parseExpression(): void {
    this.exprBudget = MAX_NESTING;
    this.parseOr(0);
  }

  /** Spend one operator of the expression budget; when exhausted, keep the rest of the condition verbatim. */
  private spend(): boolean {
    if (--this.exprBudget >= 0) return true;
    const t = this.peekExpr();
    this.error(t.start, Math.max(1, t.end - t.start), 'syntax/expression-too-complex', `conditions with more than ${MAX_NESTING} operators are not parsed`);
    this.b.startNode('Error');
    for (let e = this.peekExpr(); e.kind !== 'Eof' && e.kind !== 'LBrace' && e.kind !== 'RBrace'; e = this.peekExpr()) this.bump('expr');
    this.b.finishNode();
    return false;
  }

  private parseOr(level: number): void {
    const cp = this.checkpoint();
    this.parseAnd(level);
    while (this.isWord(this.peekExpr(), 'or')) {
      if (!this.spend()) return;
      this.b.startNodeAt(cp, 'BinaryExpression');
      this.bump('expr', 'Keyword');
      this.parseAnd(level);
      this.b.finishNode();
    }
  }

  private parseAnd(level: number): void {
    const cp = this.checkpoint();
    this.parseNot(level);
    while (this.isWord(this.peekExpr(), 'and')) {
      if (!this.spend()) return;
      this.b.startNodeAt(cp, 'BinaryExpression');
      this.bump('expr', 'Keyword');
      this.parseNot(level);
      this.b.finishNode();
    }
  }

  private parseNot(level: number): void {
    let count = 0;
    while (this.isWord(this.peekExpr(), 'not')) {
      if (!this.spend()) break;
      this.startNode('NotExpression');
      this.bump('expr', 'Keyword');
      count++;
    }
    this.parsePrimary(level);
    while (count--) this.b.finishNode();
  }

  private parsePrimary(level: number): void {
    const t = this.peekExpr();
    if (t.kind === 'LParen') {
      if (level >= MAX_NESTING) {
        this.error(t.start, 1, 'syntax/nesting-too-deep', `conditions nested more than ${MAX_NESTING} deep are not parsed`);
        this.startNode('Error');
        for (let e = this.peekExpr(); e.kind !== 'Eof' && e.kind !== 'LBrace' && e.kind !== 'RBrace'; e = this.peekExpr()) this.bump('expr');
        this.b.finishNode();
        return;
      }
      this.startNode('ParenExpression');
      this.bump('expr');
      this.parseOr(level + 1);
      const close = this.peekExpr();
      if (close.kind === 'RParen') this.bump('expr');
      else this.error(close.start, Math.max(1, close.end - close.start), 'syntax/expected-close-paren', `expected ')', found ${this.describe(close)}`);
      this.b.finishNode();
      return;
    }
    if (this.isWord(t, 'defined')) {
      this.startNode('DefinedExpression');
      this.bump('expr', 'Keyword');
      const v = this.peekExpr();
      const c = this.text.charCodeAt(v.start);
      if (v.kind === 'Word' && (c === 64 || c === 36)) this.bump('expr');
      else this.error(v.start, Math.max(1, v.end - v.start), 'syntax/expected-variable', `expected @{variable} or $boolean after 'defined', found ${this.describe(v)}`);
      this.b.finishNode();
      return;
    }
    if (t.kind === 'Word' || t.kind === 'QuotedString') {
      const cp = this.checkpoint();
      this.atom();
      const op = this.peekExpr();
      if (op.kind === 'Operator' || this.isWord(op, 'in')) {
        this.b.startNodeAt(cp, 'CompareExpression');
        this.bump('expr', op.kind === 'Word' ? 'Keyword' : undefined);
        const right = this.peekExpr();
        if (right.kind === 'Word' || right.kind === 'QuotedString') this.atom();
        else this.error(right.start, Math.max(1, right.end - right.start), 'syntax/expected-expression', `expected a value after the comparison, found ${this.describe(right)}`);
        this.b.finishNode();
      }
      return;
    }
    this.error(t.start, Math.max(1, t.end - t.start), 'syntax/expected-expression', `expected a condition, found ${this.describe(t)}`);
    if (t.kind !== 'Eof' && t.kind !== 'LBrace' && t.kind !== 'RBrace' && t.kind !== 'RParen') {
      this.startNode('Error');
      this.bump('expr');
      this.b.finishNode();
    }
  }

  private atom(): void {
    this.startNode('AtomExpression');
    this.bump('expr');
    this.b.finishNode();
  }

  // ---- profiles -------------------------------------------------------------------------------

  private parseProfile(depth: number, form: 'keyword' | 'caret' | 'path'): void {
    this.startNode('Profile');
    if (form === 'path') {
      this.startNode('ProfileName');
      this.bump('initial');
      this.b.finishNode();
    } else {
      const head = this.bump('initial', form === 'keyword' ? 'Keyword' : undefined);
      if (form === 'caret') {
        const after = this.text.charCodeAt(head.end);
        if (after === 32 || after === 9) this.error(head.end, 1, 'syntax/space-after-caret', "no space is allowed between '^' and the hat name");
      }
      const name = this.peek('full');
      if ((name.kind === 'Word' || name.kind === 'QuotedString') && !this.newlineBefore('full')) {
        this.startNode('ProfileName');
        this.bump('full');
        this.b.finishNode();
      } else {
        this.error(name.start, Math.max(1, name.end - name.start), 'syntax/expected-profile-name', `expected a profile name, found ${this.describe(name)}`);
      }
    }
    const attach = this.peek('initial');
    if (attach.kind === 'QuotedString' || (attach.kind === 'Word' && isLabelStart(this.text.charCodeAt(attach.start)))) {
      this.startNode('Attachment');
      this.bump('initial');
      this.b.finishNode();
    }
    for (;;) {
      const t = this.peek('initial');
      if (t.kind === 'LParen') this.parseFlags(false);
      else if (this.isWord(t, '+')) {
        this.startNode('Identities');
        this.bump('initial', 'Keyword');
        const k = this.peek('initial');
        if (this.isWord(k, 'identities') && this.peekAfter(k, 'initial').kind === 'Equals') {
          this.bump('initial', 'Keyword');
          this.bump('initial');
          if (this.peek('noeq').kind === 'LParen') this.parseList(0);
          else this.expectWord('full', 'syntax/expected-value', "expected '(' or a value after 'identities='");
        } else {
          this.error(k.start, Math.max(1, k.end - k.start), 'syntax/expected-identities', "expected 'identities=' after '+'");
        }
        this.b.finishNode();
      }
      else if (this.isWord(t, 'flags') && this.peekAfter(t, 'initial').kind === 'Equals') this.parseFlags(true);
      else if (this.isWord(t, 'xattrs') && this.peekAfter(t, 'initial').kind === 'Equals') {
        this.startNode('Xattrs');
        this.bump('initial', 'Keyword');
        this.bump('initial');
        if (this.peek('noeq').kind === 'LParen') this.parseList(0);
        else this.error(this.peek('noeq').start, 1, 'syntax/expected-list', "expected '(' after 'xattrs='");
        this.b.finishNode();
      } else break;
    }
    const open = this.peek('initial');
    if (open.kind === 'LBrace') this.parseBlock(depth + 1);
    else this.error(open.start, Math.max(1, open.end - open.start), 'syntax/expected-block', `expected '{' to open the profile body, found ${this.describe(open)}`);
    this.b.finishNode();
  }

  private parseFlags(keyword: boolean): void {
    this.startNode('Flags');
    if (keyword) {
      this.bump('initial', 'Keyword');
      this.bump('initial');
    }
    const t = this.peek('noeq');
    if (t.kind === 'LParen') this.parseList(0);
    else if (keyword) this.expectWord('full', 'syntax/expected-flags', "expected '(' or a flag after 'flags='");
    this.b.finishNode();
  }

  /** `( a b, c=d, e=(f g) )`: blanks and commas separate items. */
  private parseList(level: number): void {
    this.startNode('List');
    const open = this.bump('noeq');
    for (;;) {
      const t = this.peek('list');
      if (t.kind === 'RParen') { this.bump('list'); break; }
      if (t.kind === 'Comma') { this.bump('list'); continue; }
      if (t.kind === 'Word' || t.kind === 'QuotedString') {
        if (this.peekAfter(t, 'list').kind === 'Equals') {
          this.startNode('Condition');
          this.bump('list');
          this.bump('list');
          const v = this.peek('listvalue');
          if (v.kind === 'LParen' && level < 2) this.parseList(level + 1);
          else if (v.kind === 'Word' || v.kind === 'QuotedString') this.bump('listvalue');
          else this.error(v.start, Math.max(1, v.end - v.start), 'syntax/expected-value', `expected a value after '=', found ${this.describe(v)}`);
          this.b.finishNode();
        } else {
          this.bump('list');
        }
        continue;
      }
      if (t.kind === 'Eof' || t.kind === 'LBrace' || t.kind === 'RBrace') {
        this.error(open.start, 1, 'syntax/unclosed-paren', "'(' is never closed with ')'");
        break;
      }
      this.bumpError('list', 'syntax/unexpected-token', `unexpected ${this.describe(t)} in a list`);
    }
    this.b.finishNode();
  }

  // ---- rules ----------------------------------------------------------------------------------

  private parseRule(depth: number): void {
    const cp = this.checkpoint();
    const hasPrefix = this.parsePrefix();
    const t = this.peek('initial');
    if (t.kind === 'LBrace' && hasPrefix) {
      this.b.startNodeAt(cp, 'QualifierBlock');
      this.parseBlock(depth + 1);
      this.b.finishNode();
      return;
    }
    if (t.kind === 'Word') {
      const w = this.word(t);
      const kind = RULE_CLASS[w];
      if (kind) {
        this.b.startNodeAt(cp, kind);
        this.bump('initial', 'Keyword');
        this.parseRuleArguments(kind === 'ChangeProfileRule' ? 'full' : 'noeq', kind);
        this.b.finishNode();
        return;
      }
      switch (w) {
        case 'file':
          this.b.startNodeAt(cp, 'FileRule');
          this.bump('initial', 'Keyword');
          this.parseRuleArguments('initial', 'FileRule');
          this.b.finishNode();
          return;
        case 'link':
          this.b.startNodeAt(cp, 'LinkRule');
          this.bump('initial', 'Keyword');
          this.parseRuleArguments('initial', 'LinkRule');
          this.b.finishNode();
          return;
        case 'set':
          this.b.startNodeAt(cp, 'RlimitRule');
          this.bump('initial', 'Keyword');
          if (this.isWord(this.peek('initial'), 'rlimit')) this.bump('initial', 'Keyword');
          else this.error(this.peek('initial').start, 1, 'syntax/expected-rlimit', "expected 'rlimit' after 'set'");
          this.parseRuleArguments('rlimit', 'RlimitRule');
          this.b.finishNode();
          return;
        case 'all':
          this.b.startNodeAt(cp, 'AllRule');
          this.bump('initial', 'Keyword');
          this.parseRuleArguments('initial', 'AllRule');
          this.b.finishNode();
          return;
        default:
          if (isPermissionWord(w) || w === 'safe' || w === 'unsafe') {
            this.b.startNodeAt(cp, 'FileRule');
            this.parseRuleArguments('initial', 'FileRule');
            this.b.finishNode();
            return;
          }
      }
    }
    const first = this.text.charCodeAt(t.start);
    if (t.kind === 'QuotedString' || (t.kind === 'Word' && (first === 47 /* / */ || first === 64 /* @ */))) {
      this.b.startNodeAt(cp, 'FileRule');
      this.parseRuleArguments('initial', 'FileRule');
      this.b.finishNode();
      return;
    }
    this.parseUnknownRule(cp, depth);
  }

  private parsePrefix(): boolean {
    let t = this.peek('initial');
    const isPriority = (x: LexToken) => this.isWord(x, 'priority') && this.peekAfter(x, 'initial').kind === 'Equals';
    const isPrefixWord = (x: LexToken) => x.kind === 'Word' && PREFIX_WORDS.has(this.word(x));
    if (!isPriority(t) && !isPrefixWord(t)) return false;
    this.startNode('Prefix');
    for (;;) {
      if (isPriority(t)) {
        this.startNode('Priority');
        this.bump('initial', 'Keyword');
        this.bump('initial');
        this.expectWord('noeq', 'syntax/expected-priority', 'expected a number after priority=');
        this.b.finishNode();
      } else if (isPrefixWord(t)) {
        this.bump('initial', 'Keyword');
      } else break;
      t = this.peek('initial');
    }
    this.b.finishNode();
    return true;
  }

  /** Arguments up to the rule's comma. Stops without consuming at '}', '{', end of file, or a new statement on a new line. */
  private parseRuleArguments(mode: LexMode, kind: NodeKind): void {
    let count = 0;
    for (;; count++) {
      const t = this.peek(mode);
      if (t.kind === 'Comma') { this.bump(mode); return; }
      if (t.kind === 'Eof' || t.kind === 'RBrace' || t.kind === 'LBrace' || t.kind === 'HashInclude' || t.kind === 'Caret') {
        this.missingComma();
        return;
      }
      if (count > 0 && this.newlineBefore(mode) && this.startsStatement(t, mode, kind, count)) {
        this.missingComma();
        return;
      }
      switch (t.kind) {
        case 'Word': {
          if (mode === 'noeq') {
            const u = this.peekAfter(t, mode);
            if (u.kind === 'Equals' || (this.isWord(u, 'in') && this.peekAfter(u, mode).kind === 'LParen')) {
              this.parseCondition();
              break;
            }
          }
          const w = this.word(t);
          this.bump(mode, w === 'safe' || w === 'unsafe' || w === 'subset' ? 'Keyword' : undefined);
          break;
        }
        case 'QuotedString':
          this.bump(mode);
          break;
        case 'LParen':
          this.parseList(0);
          break;
        case 'Arrow':
          this.startNode('ExecTarget');
          this.bump(mode);
          this.expectWord('full', 'syntax/expected-target', "expected a target after '->'");
          this.b.finishNode();
          break;
        case 'Operator':
          if (kind === 'RlimitRule' || kind === 'LinkRule') { this.bump(mode); break; }
          this.bumpError(mode, 'syntax/unexpected-token', `unexpected ${this.describe(t)} in a rule`);
          break;
        default:
          this.bumpError(mode, 'syntax/unexpected-token', `unexpected ${this.describe(t)} in a rule`);
      }
    }
  }

  private startsStatement(t: LexToken, mode: LexMode, kind: NodeKind, count: number): boolean {
    if (t.kind === 'QuotedString') return kind === 'FileRule' && count >= 2;
    if (t.kind !== 'Word') return false;
    const w = this.word(t);
    if (STATEMENT_WORDS.has(w)) return this.peekAfter(t, mode).kind !== 'Equals';
    const c = this.text.charCodeAt(t.start);
    if (c === 47 || (c === 64 && this.text.charCodeAt(t.start + 1) === 123)) {
      if (kind === 'FileRule') return count >= 2;
      return !PATH_ARGUMENT_CLASSES.has(kind);
    }
    return false;
  }

  private parseCondition(): void {
    this.startNode('Condition');
    this.bump('noeq');
    const op = this.peek('noeq');
    this.bump('noeq', op.kind === 'Word' ? 'Keyword' : undefined);
    const v = this.peek('noeq');
    if (v.kind === 'LParen') this.parseList(0);
    else {
      const value = this.peek('full');
      if ((value.kind === 'Word' || value.kind === 'QuotedString') && !this.newlineBefore('full')) this.bump('full');
      else this.error(value.start, Math.max(1, value.end - value.start), 'syntax/expected-value', `expected a value after '=', found ${this.describe(value)}`);
    }
    this.b.finishNode();
  }

  private parseUnknownRule(cp: number, depth: number): void {
    this.b.startNodeAt(cp, 'UnknownRule');
    const first = this.peek('initial');
    this.error(first.start, Math.max(1, first.end - first.start), 'syntax/unknown-rule', `expected a rule, found ${this.describe(first)}`);
    for (let count = 0; ; count++) {
      const t = this.peek('initial');
      if (t.kind === 'Eof' || t.kind === 'RBrace') break;
      if (t.kind === 'Comma') { this.bump('initial'); break; }
      if (count > 0 && this.newlineBefore('initial')) break;
      if (t.kind === 'LBrace') { this.parseBlock(depth + 1); break; }
      this.bump('initial');
    }
    this.b.finishNode();
  }
}

/** First characters of an attachment (AppArmor's LABEL): `/`, `@{`, `:`, `&`. */
function isLabelStart(c: number): boolean {
  return c === 47 || c === 64 || c === 58 || c === 38;
}
