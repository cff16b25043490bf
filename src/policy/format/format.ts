// Canonical formatter: CST → Doc → text. Keeps every comment (own-line comments stay above the
// statement they precede, same-line comments stay on their line), keeps at most one blank line
// between statements, and prints any statement that holds a syntax error exactly as written.
import type { Diagnostic } from '../diagnostic/index.js';
import { buildPolicyModel, canonicalPolicyText } from '../model/index.js';
import { isPermissionWord, parsePolicy, SyntaxNode, SyntaxToken, type ParseResult } from '../syntax/index.js';
import { concat, hardline, indent, join, lineSuffix, printDoc, verbatim, type Doc } from './doc.js';

export interface FormatResult {
  readonly text: string;
  /** The parser's diagnostics for the input (statements with errors were kept verbatim). */
  readonly diagnostics: readonly Diagnostic[];
  readonly changed: boolean;
  /**
   * True when the formatted text did not re-parse to the same meaning (normalized AST and syntax
   * errors) and the input was returned unchanged instead. A formatter bug if it ever happens.
   */
  readonly keptOriginal: boolean;
}

/** Format policy text (or a parse result) in hatter's canonical style. Never throws, never changes meaning. */
export function formatPolicy(input: string | ParseResult, file = '<input>'): FormatResult {
  const parsed = typeof input === 'string' ? parsePolicy(input, file) : input;
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error' && d.offset !== undefined).map((d) => d.offset!).sort((a, b) => a - b);
  const formatter = new Formatter(errors, parsed.text);
  let text = printDoc(formatter.container(new SyntaxNode(parsed.root), true));
  if (text.length && !text.endsWith('\n')) text += '\n';
  if (text !== parsed.text && !sameMeaning(parsed, parsePolicy(text, parsed.file))) {
    return { text: parsed.text, diagnostics: parsed.diagnostics, changed: false, keptOriginal: true };
  }
  return { text, diagnostics: parsed.diagnostics, changed: text !== parsed.text, keptOriginal: false };
}

/** The safety net: same syntax error codes and the same normalized AST. */
function sameMeaning(before: ParseResult, after: ParseResult): boolean {
  const codes = (r: ParseResult) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code).join();
  if (codes(before) !== codes(after)) return false;
  return canonicalPolicyText(buildPolicyModel(before).policy) === canonicalPolicyText(buildPolicyModel(after).policy);
}

const PERMISSION_ORDER = 'mrwalk';

/** Rules longer than this (without indentation) put each condition on its own line. */
const MAX_RULE_WIDTH = 100;

/**
 * Canonical permission order: `m r w a l k`, then the exec mode (`ix`, `Px`, `Cix` …) as one unit.
 * Tokens that are not plain permission strings come back unchanged.
 */
export function canonicalPermissions(word: string): string {
  if (!isPermissionWord(word)) return word;
  const units = word.match(/[PpCc]?[IiUu]?[Xx]|[^Xx]/g);
  if (!units || units.join('') !== word) return word;
  const rank = (u: string) => (u.length === 1 && /[^Xx]/.test(u) ? PERMISSION_ORDER.indexOf(u.toLowerCase()) : PERMISSION_ORDER.length);
  if (units.some((u) => rank(u) < 0)) return word;
  return units.map((u, i) => ({ u, i })).sort((a, b) => rank(a.u) - rank(b.u) || a.i - b.i).map((x) => x.u).join('');
}

class Formatter {
  constructor(private readonly errorOffsets: readonly number[], private readonly source: string) {}

  /** The end of the blanks at `offset` when only a line break or the end of the file follows them. */
  private blanksEnd(offset: number): number {
    let end = offset;
    while (this.source.charCodeAt(end) === 32 || this.source.charCodeAt(end) === 9) end++;
    const c = this.source.charCodeAt(end);
    return end === this.source.length || c === 10 || (c === 13 && this.source.charCodeAt(end + 1) === 10) ? end : offset;
  }

  /** Source text from `start` to `end` as one verbatim piece (see verbatimOf about a final CR). */
  private verbatimRange(start: number, end: number): Doc {
    const text = this.source.slice(start, end);
    return verbatim(text.endsWith('\r') ? `${text} ` : text);
  }

  /** Whether a syntax error was reported inside [start, end). */
  private errorIn(start: number, end: number): boolean {
    const a = this.errorOffsets;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && a[lo]! < end;
  }

  private broken(node: SyntaxNode): boolean {
    return node.hasErrors() || this.errorIn(node.offset, Math.max(node.end, node.offset + 1));
  }

  private verbatimOf(node: SyntaxNode): Doc {
    const { start, end } = node.trimmedRange();
    const text = node.text().slice(start - node.offset, end - node.offset);
    // A stray carriage return must not meet the line break we print next (that would make a CRLF).
    return verbatim(text.endsWith('\r') ? `${text} ` : text);
  }

  /**
   * The statements of the file or of a block (between its braces), with comments and blank lines.
   * Returns the lines joined by hardlines; for a block the caller adds the braces.
   */
  container(node: SyntaxNode, isFile: boolean): Doc {
    const lines: Doc[][] = [];
    let newlines = 0;
    let started = !isFile; // inside a block, the '{' counts as the element on the first line
    let onLine = !isFile; // whether something was printed on the current source line
    const headSuffix: Doc[] = [];
    let inBody = isFile;
    let firstStatementLine = -1;
    // The last statement printed on the current source line: with a syntax error, whatever shares its
    // line (another statement, a trailing comment) is kept with it exactly as written, because the
    // parser's recovery depends on line breaks and spacing there.
    let lineStatement: { line: number; start: number; broken: boolean } | undefined;
    const children = node.children();
    // Where the next significant element starts: "expected …" errors reported between a statement
    // and its successor (or at the successor) mean the statement is incomplete.
    const nextStart: number[] = new Array(children.length);
    let next = node.end;
    for (let i = children.length - 1; i >= 0; i--) {
      nextStart[i] = next;
      const c = children[i]!;
      if (!(c instanceof SyntaxToken && (c.kind === 'Whitespace' || c.kind === 'Newline' || c.kind === 'Comment' || c.kind === 'LineContinuation'))) next = c.offset;
    }
    for (let index = 0; index < children.length; index++) {
      const child = children[index]!;
      if (child instanceof SyntaxToken) {
        switch (child.kind) {
          case 'Whitespace': case 'LineContinuation': continue;
          case 'Newline': newlines++; onLine = false; lineStatement = undefined; continue;
          case 'LBrace': inBody = true; continue;
          case 'RBrace': inBody = false; continue;
          case 'Comment': {
            const text = child.text.trimEnd();
            if (lineStatement?.broken) {
              lines[lineStatement.line] = [this.verbatimRange(lineStatement.start, child.offset + text.length)];
            } else if (onLine && newlines === 0) {
              if (lines.length) lines[lines.length - 1]!.push(lineSuffix(text));
              else headSuffix.push(lineSuffix(text));
            } else {
              if (newlines >= 2 && lines.length) lines.push([]);
              lines.push([text]);
            }
            newlines = 0;
            onLine = true;
            started = true;
            continue;
          }
          default:
            // Any other bare token here would be a parser bug; print it rather than lose it.
            lines.push([child.text]);
            newlines = 0;
            onLine = true;
            continue;
        }
      }
      if (!inBody && !isFile) continue;
      if (newlines >= 2 && lines.length && started) lines.push([]);
      if (firstStatementLine < 0) {
        // Own-line comments directly above the first statement belong to it.
        firstStatementLine = lines.length;
        while (firstStatementLine > 0 && lines[firstStatementLine - 1]!.length === 1 && typeof lines[firstStatementLine - 1]![0] === 'string') firstStatementLine--;
      }
      const broken = child.hasErrors() || this.errorIn(child.offset, nextStart[index]! + 1);
      if (lineStatement && (lineStatement.broken || broken)) {
        lines[lineStatement.line] = [this.verbatimRange(lineStatement.start, child.end)];
        lineStatement.broken = true;
      } else {
        // An incomplete statement keeps its trailing blanks too (`#include<TAB>` is not `#include`).
        const incomplete = this.errorIn(child.end, nextStart[index]! + 1);
        lines.push([incomplete ? this.verbatimRange(child.offset, this.blanksEnd(child.end)) : this.statement(child)]);
        lineStatement = { line: lines.length - 1, start: child.offset, broken };
      }
      newlines = 0;
      onLine = true;
      started = true;
    }
    while (lines.length && lines[lines.length - 1]!.length === 0) lines.pop();
    if (isFile && firstStatementLine >= 0 && isFragment(node)) {
      // An include fragment (rules at file scope, no profile): its statements are indented as in the
      // profile that includes it; the header comments before the first statement stay at column 0.
      const header = lines.slice(0, firstStatementLine).map((parts) => concat(...parts));
      const rest = lines.slice(firstStatementLine).map((parts) => concat(...parts));
      return concat(join(hardline, header), header.length ? hardline : '', indent(join(hardline, rest)));
    }
    const body = join(hardline, lines.map((parts) => concat(...parts)));
    if (isFile) return body;
    return concat(...headSuffix, lines.length ? indent(hardline, body) : '', hardline);
  }

  private block(node: SyntaxNode): Doc {
    const open = node.children().some((c) => c.kind === 'LBrace');
    const close = node.children().some((c) => c.kind === 'RBrace');
    if (!open || !close || this.errorIn(node.offset, node.offset + 1)) return this.verbatimOf(node);
    return concat('{', this.container(node, false), '}');
  }

  statement(node: SyntaxNode): Doc {
    switch (node.kind) {
      case 'Profile': return this.profile(node);
      case 'QualifierBlock': return this.qualifierBlock(node);
      case 'Conditional': return this.conditional(node);
      default:
        if (this.broken(node) || hasComment(node) || hasTrailingBackslash(node)) return this.verbatimOf(node);
        return this.simpleStatement(node);
    }
  }

  private simpleStatement(node: SyntaxNode): Doc {
    switch (node.kind) {
      case 'Include': {
        const tokens = node.significantTokens();
        const words = ['include'];
        if (tokens.some((t) => t.text === 'exists')) words.push('if', 'exists');
        const path = tokens.find((t, i) => i > 0 && (t.kind === 'IncludePath' || t.kind === 'QuotedString' || t.kind === 'Word'));
        if (path) words.push(path.text);
        return words.join(' ');
      }
      case 'VariableAssignment': return this.assignment(node);
      case 'BooleanAssignment': {
        const [name, op] = node.significantTokens();
        const expr = node.childNodes()[0];
        return `${name?.text ?? ''} ${op?.text ?? '='} ${expr ? this.expression(expr) : ''}`.trimEnd();
      }
      default: return this.rule(node);
    }
  }

  private assignment(node: SyntaxNode): Doc {
    const groups: string[][] = [[]];
    let head = '';
    let seen = 0;
    for (const child of node.children()) {
      if (!(child instanceof SyntaxToken)) continue;
      if (child.kind === 'LineContinuation') { if (groups[groups.length - 1]!.length) groups.push([]); continue; }
      if (child.kind === 'Whitespace' || child.kind === 'Newline' || child.kind === 'Comment') continue;
      if (seen === 0) head = child.text;
      else if (seen === 1) head += ` ${child.text}`;
      else groups[groups.length - 1]!.push(child.text);
      seen++;
    }
    const filled = groups.filter((g) => g.length);
    if (!filled.length) return head;
    const [first, ...rest] = filled;
    if (!rest.length) return `${head} ${first!.join(' ')}`;
    return concat(`${head} ${first!.join(' ')} \\`, indent(...rest.map((g, i) => concat(hardline, g.join(' '), i < rest.length - 1 ? ' \\' : ''))));
  }

  private expression(node: SyntaxNode): string {
    const kids = node.childNodes();
    const tokens = node.significantTokens();
    switch (node.kind) {
      case 'AtomExpression': return tokens[0]?.text ?? '';
      case 'NotExpression': return `not ${kids[0] ? this.expression(kids[0]) : ''}`;
      case 'ParenExpression': return `(${kids[0] ? this.expression(kids[0]) : ''})`;
      case 'DefinedExpression': return `defined ${tokens.find((t) => t.kind === 'Word')?.text ?? ''}`;
      case 'BinaryExpression': {
        const op = tokens.find((t) => t.kind === 'Keyword')?.text ?? 'and';
        return `${kids[0] ? this.expression(kids[0]) : ''} ${op} ${kids[1] ? this.expression(kids[1]) : ''}`;
      }
      case 'CompareExpression': {
        const op = tokens.find((t) => t.kind === 'Operator' || t.kind === 'Keyword')?.text ?? '==';
        return `${kids[0] ? this.expression(kids[0]) : ''} ${op} ${kids[1] ? this.expression(kids[1]) : ''}`;
      }
      default: return node.text().trim();
    }
  }

  private conditional(node: SyntaxNode): Doc {
    if (this.errorInOutsideBlocks(node) || hasCommentOutsideBlocks(node) || hasTrailingBackslash(node, true)) return this.verbatimOf(node);
    const parts: Doc[] = [];
    for (const branch of node.childNodes()) {
      const words = branch.significantTokens().filter((t) => t.kind === 'Keyword').map((t) => t.text);
      const expr = branch.childNodes().find((c) => c.kind !== 'Block');
      const block = branch.childNodes().find((c) => c.kind === 'Block');
      if (parts.length) parts.push(' ');
      parts.push(words.join(' '));
      if (expr) parts.push(` ${this.expression(expr)}`);
      if (block) parts.push(' ', this.block(block));
    }
    return concat(...parts);
  }

  private qualifierBlock(node: SyntaxNode): Doc {
    if (this.errorInOutsideBlocks(node) || hasCommentOutsideBlocks(node) || hasTrailingBackslash(node, true)) return this.verbatimOf(node);
    const prefix = node.childNodes().find((c) => c.kind === 'Prefix');
    const block = node.childNodes().find((c) => c.kind === 'Block');
    return concat(prefix ? this.prefix(prefix) : '', ' ', block ? this.block(block) : '');
  }

  private profile(node: SyntaxNode): Doc {
    const block = node.childNodes().find((c) => c.kind === 'Block');
    const headEnd = block ? block.offset : node.end;
    if (this.errorInOutsideBlocks(node) || !block || hasTrailingBackslash(node, true)) return this.verbatimOf(node);
    let head: string;
    if (hasCommentOutsideBlocks(node)) {
      head = node.text().slice(0, headEnd - node.offset).trim();
    } else {
      const parts: string[] = [];
      let caret = false;
      for (const child of node.children()) {
        if (child === block) break;
        if (child instanceof SyntaxToken) {
          if (child.kind === 'Caret') caret = true;
          else if (child.kind === 'Keyword') parts.push(child.text);
          continue;
        }
        switch (child.kind) {
          case 'ProfileName': {
            const name = child.significantTokens()[0]?.text ?? '';
            parts.push(caret ? `^${name}` : name);
            caret = false;
            break;
          }
          case 'Attachment': parts.push(child.significantTokens()[0]?.text ?? ''); break;
          case 'Flags': parts.push(`flags=${this.valueOrList(child, ' ')}`); break;
          case 'Xattrs': parts.push(`xattrs=${this.valueOrList(child, ' ')}`); break;
          case 'Identities': parts.push(`+ identities=${this.valueOrList(child, ' ')}`); break;
          default: parts.push(child.text().trim());
        }
      }
      if (caret) parts.push('^');
      head = parts.join(' ');
    }
    return concat(head, ' ', this.block(block));
  }

  /** The `(…)` list of a Flags/Xattrs/Identities/Condition node, or its single value. */
  private valueOrList(node: SyntaxNode, separator: string, sort = false): string {
    const list = node.childNodes().find((c) => c.kind === 'List');
    if (list) return this.list(list, separator, sort);
    const tokens = node.significantTokens().filter((t) => t.kind === 'Word' || t.kind === 'QuotedString');
    return tokens[tokens.length - 1]?.text ?? '';
  }

  private list(list: SyntaxNode, separator: string, sort = false): string {
    const items: string[] = [];
    for (const child of list.children()) {
      if (child instanceof SyntaxToken) {
        if (child.kind === 'Word' || child.kind === 'QuotedString') items.push(child.text);
      } else if (child.kind === 'Condition') items.push(this.condition(child, ' '));
      else items.push(child.text().trim());
    }
    if (sort) items.sort(compareWords);
    return `(${items.join(separator)})`;
  }

  private condition(node: SyntaxNode, listSeparator: string, sort = false): string {
    const tokens = node.significantTokens();
    const name = tokens[0]?.text ?? '';
    const isIn = tokens[1]?.kind === 'Keyword';
    const list = node.childNodes().find((c) => c.kind === 'List');
    const separator = list && list.childNodes().some((c) => c.kind === 'Condition') ? ' ' : listSeparator;
    const value = list ? this.list(list, separator, sort) : (tokens.slice(2).find((t) => t.kind === 'Word' || t.kind === 'QuotedString')?.text ?? '');
    return isIn ? `${name} in ${value}` : `${name}=${value}`;
  }

  private prefix(node: SyntaxNode): string {
    const parts: string[] = [];
    for (const child of node.children()) {
      if (child instanceof SyntaxToken) {
        if (child.kind === 'Keyword' || child.kind === 'Word') parts.push(child.text);
      } else if (child.kind === 'Priority') {
        const value = child.significantTokens().find((t) => t.kind === 'Word');
        parts.push(`priority=${value?.text ?? ''}`);
      }
    }
    return parts.join(' ');
  }

  private rule(node: SyntaxNode): Doc {
    const kind = node.kind;
    const parts: string[] = [];
    let firstCondition = -1;
    let comma = false;
    for (const child of node.children()) {
      if (child instanceof SyntaxToken) {
        switch (child.kind) {
          case 'Whitespace': case 'Newline': case 'Comment': case 'LineContinuation': continue;
          case 'Comma': comma = true; continue;
          case 'Word':
            parts.push(kind === 'FileRule' ? canonicalPermissions(child.text) : child.text);
            continue;
          default:
            parts.push(child.text);
            continue;
        }
      }
      switch (child.kind) {
        case 'Prefix': parts.push(this.prefix(child)); break;
        case 'Condition': {
          if (firstCondition < 0) firstCondition = parts.length;
          const sort = kind === 'SignalRule' && child.significantTokens()[0]?.text === 'set';
          parts.push(this.condition(child, ', ', sort));
          break;
        }
        case 'List': parts.push(this.list(child, child.childNodes().some((c) => c.kind === 'Condition') ? ' ' : ', ')); break;
        case 'ExecTarget': {
          const target = child.significantTokens().find((t) => t.kind !== 'Arrow');
          parts.push(target ? `-> ${target.text}` : '->');
          break;
        }
        default: parts.push(child.text().trim());
      }
    }
    if (kind === 'CapabilityRule') {
      const keywordAt = parts.indexOf('capability');
      if (keywordAt >= 0) {
        const names = parts.slice(keywordAt + 1).sort(compareWords);
        parts.splice(keywordAt + 1, names.length, ...names);
      }
    }
    const line = parts.join(' ') + (comma ? ',' : '');
    if (line.length <= MAX_RULE_WIDTH || firstCondition < 1 || parts.length - firstCondition < 2) return line;
    // Long conditional rules (dbus, unix …): the head on the first line, one condition per line below.
    const tail = parts.slice(firstCondition);
    return concat(
      parts.slice(0, firstCondition).join(' '),
      indent(indent(...tail.map((p, i) => concat(hardline, p, i === tail.length - 1 && comma ? ',' : '')))),
    );
  }

  /** An error inside this node but outside its Block children (those handle their own). */
  private errorInOutsideBlocks(node: SyntaxNode): boolean {
    let start = node.offset;
    for (const child of node.children()) {
      if (child instanceof SyntaxNode && (child.kind === 'Block' || child.kind === 'ConditionalBranch')) {
        if (child.kind === 'ConditionalBranch') {
          if (this.errorInOutsideBlocks(child)) return true;
        }
        // An error at the block's '{' ("expected …" before it) belongs to the head.
        if (this.errorIn(start, child.offset + 1)) return true;
        start = child.end;
      } else if (child instanceof SyntaxNode && child.kind === 'Error') return true;
    }
    return this.errorIn(start, node.end);
  }
}

/** A file that holds rules at file scope and no profile: an include fragment such as an abstraction. */
function isFragment(root: SyntaxNode): boolean {
  let rules = false;
  const stack: SyntaxNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    for (const child of node.childNodes()) {
      if (child.kind === 'Profile') return false;
      if (child.kind === 'Conditional' || child.kind === 'ConditionalBranch' || child.kind === 'Block') stack.push(child);
      else if (child.kind.endsWith('Rule') || child.kind === 'QualifierBlock') rules = true;
    }
  }
  return rules;
}

function compareWords(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A word ending in a lone backslash: re-spacing it would turn `\` + blank into an escaped blank.
 * With `outsideBlocks`, only the statement's own head is examined (blocks handle their statements).
 */
function hasTrailingBackslash(node: SyntaxNode, outsideBlocks = false): boolean {
  const stack: SyntaxNode[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    for (const c of n.children()) {
      if (c instanceof SyntaxToken) {
        if ((c.kind === 'Word' || c.kind === 'QuotedString') && /(^|[^\\])(\\\\)*\\$/.test(c.text)) return true;
      } else if (!(outsideBlocks && c.kind === 'Block')) stack.push(c);
    }
  }
  return false;
}

function hasComment(node: SyntaxNode): boolean {
  const stack: SyntaxNode[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    for (const c of n.children()) {
      if (c instanceof SyntaxToken) { if (c.kind === 'Comment') return true; }
      else stack.push(c);
    }
  }
  return false;
}

function hasCommentOutsideBlocks(node: SyntaxNode): boolean {
  for (const c of node.children()) {
    if (c instanceof SyntaxToken) { if (c.kind === 'Comment') return true; continue; }
    if (c.kind === 'Block') continue;
    if (c.kind === 'ConditionalBranch') { if (hasCommentOutsideBlocks(c)) return true; continue; }
    if (hasComment(c)) return true;
  }
  return false;
}
