// CST → typed AST. Pure and total: any tree parsePolicy returns (valid or not) gives a Policy.
import type { Diagnostic } from '../diagnostic/index.js';
import { isPermissionWord, parsePolicy, printTree, SyntaxNode, SyntaxToken, type GreenNode, type NodeKind, type ParseResult } from '../syntax/index.js';
import type {
  AssignmentOperator, CompareOperator, Condition, ConditionalBranch, Expression, IncludeForm, Operand, Policy, Profile, Rule, RulePrefix,
  Span, Statement, Word,
} from './types.js';

export interface PolicyModel {
  readonly policy: Policy;
  /** Problems found while building the AST (none today: all syntax problems come from the parser). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Build the AST from a parse result (or a bare CST root plus its file name). */
export function buildPolicyModel(parsed: ParseResult | GreenNode | SyntaxNode, file = '<input>'): PolicyModel {
  const root = parsed instanceof SyntaxNode ? parsed
    : 'root' in parsed ? new SyntaxNode(parsed.root) : new SyntaxNode(parsed);
  const name = 'root' in parsed && !(parsed instanceof SyntaxNode) ? parsed.file : file;
  const builder = new ModelBuilder(name);
  const policy = builder.policy(root);
  return { policy, diagnostics: [] };
}

/** Parse and build in one call: the CST, the AST and the syntax diagnostics. */
export function parsePolicyFile(text: string, file = '<input>'): { cst: ParseResult; policy: Policy; diagnostics: readonly Diagnostic[] } {
  const cst = parsePolicy(text, file);
  const { policy, diagnostics } = buildPolicyModel(cst);
  return { cst, policy, diagnostics: [...cst.diagnostics, ...diagnostics] };
}

type Element = SyntaxNode | SyntaxToken;

const TRIVIA = new Set(['Whitespace', 'Newline', 'Comment', 'LineContinuation']);

function significant(node: SyntaxNode): Element[] {
  return node.children().filter((c) => !(c instanceof SyntaxToken && TRIVIA.has(c.kind)));
}

/** Add the non-enumerable CST link; the caller states the resulting AST type. */
function attachSyntax(value: object, syntax: SyntaxNode): unknown {
  Object.defineProperty(value, 'syntax', { value: syntax, enumerable: false, writable: false, configurable: true });
  return value;
}

const ACCESS_WORDS: Partial<Record<NodeKind, ReadonlySet<string>>> = {
  NetworkRule: new Set(['create', 'bind', 'listen', 'accept', 'connect', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt', 'send', 'receive', 'r', 'w', 'rw', 'wr']),
  UnixRule: new Set(['create', 'bind', 'listen', 'accept', 'connect', 'shutdown', 'getattr', 'setattr', 'getopt', 'setopt', 'send', 'receive', 'r', 'w', 'rw', 'wr']),
  DbusRule: new Set(['send', 'receive', 'bind', 'eavesdrop', 'r', 'read', 'w', 'write', 'rw', 'wr']),
  SignalRule: new Set(['send', 'receive', 'r', 'read', 'w', 'write', 'rw', 'wr']),
  PtraceRule: new Set(['read', 'readby', 'trace', 'tracedby', 'r', 'w', 'rw', 'wr']),
  MqueueRule: new Set(['r', 'w', 'rw', 'wr', 'read', 'write', 'create', 'open', 'delete', 'getattr', 'setattr']),
  UserNsRule: new Set(['create']),
  IoUringRule: new Set(['sqpoll', 'override_creds']),
};

const EXEC_MODE = /[PpCc]?[IiUu]?[Xx]/;

class ModelBuilder {
  constructor(private readonly file: string) {}

  span(element: Element): Span {
    const length = element instanceof SyntaxNode ? element.width : element.text.length;
    return { file: this.file, offset: element.offset, length };
  }

  word(token: SyntaxToken): Word {
    const raw = token.text;
    const quoted = token.kind === 'QuotedString';
    let value = raw;
    if (quoted) value = raw.length >= 2 && raw.endsWith('"') ? raw.slice(1, -1) : raw.slice(1);
    return { raw, value, quoted, span: this.span(token) };
  }

  /** A whole node as one Word (e.g. `attach_disconnected.path=/x` inside flags). */
  nodeWord(node: SyntaxNode): Word {
    const { start, end } = node.trimmedRange();
    const full = node.text();
    const raw = full.slice(start - node.offset, end - node.offset);
    return { raw, value: raw, quoted: false, span: { file: this.file, offset: start, length: end - start } };
  }

  policy(root: SyntaxNode): Policy {
    return attachSyntax({ kind: 'Policy' as const, file: this.file, items: this.statements(root), span: this.span(root) }, root) as Policy;
  }

  statements(container: SyntaxNode): Statement[] {
    const out: Statement[] = [];
    for (const child of container.children()) {
      if (child instanceof SyntaxToken) continue;
      const statement = this.statement(child);
      if (statement) out.push(statement);
    }
    return out;
  }

  statement(node: SyntaxNode): Statement | undefined {
    switch (node.kind) {
      case 'Abi': case 'Include': return this.includeLike(node);
      case 'Alias': return this.alias(node);
      case 'VariableAssignment': return this.variableAssignment(node);
      case 'BooleanAssignment': return this.booleanAssignment(node);
      case 'Conditional': return this.conditional(node);
      case 'Profile': return this.profile(node);
      case 'QualifierBlock': {
        const prefixNode = node.childNodes().find((c) => c.kind === 'Prefix');
        const block = node.childNodes().find((c) => c.kind === 'Block');
        return attachSyntax({
          kind: 'QualifierBlock' as const, prefix: this.prefix(prefixNode), body: block ? this.statements(block) : [], span: this.span(node),
        }, node) as Statement;
      }
      case 'Error': case 'Block':
        return attachSyntax({ kind: 'SyntaxError' as const, text: node.text(), span: this.span(node) }, node) as Statement;
      default:
        return this.rule(node);
    }
  }

  includeLike(node: SyntaxNode): Statement {
    const tokens = node.significantTokens();
    const keyword = tokens[0]?.text ?? '';
    let form: IncludeForm = 'bare';
    let path = '';
    const pathToken = tokens.find((t, i) => i > 0 && (t.kind === 'IncludePath' || t.kind === 'QuotedString' || t.kind === 'Word'));
    if (pathToken) {
      const raw = pathToken.text;
      if (pathToken.kind === 'IncludePath') {
        form = 'magic';
        path = raw.slice(1, raw.endsWith('>') ? -1 : undefined).trim();
        if (path.length >= 2 && path.startsWith('"') && path.endsWith('"')) path = path.slice(1, -1);
      } else if (pathToken.kind === 'QuotedString') {
        form = 'quoted';
        path = raw.length >= 2 && raw.endsWith('"') ? raw.slice(1, -1) : raw.slice(1);
      } else {
        path = raw;
      }
    }
    const span = this.span(node);
    if (node.kind === 'Abi') return attachSyntax({ kind: 'Abi' as const, form, path, span }, node) as Statement;
    const ifExists = tokens.some((t) => t.kind === 'Keyword' && t.text === 'exists');
    return attachSyntax({ kind: 'Include' as const, form, path, ifExists, hashInclude: keyword === '#include', span }, node) as Statement;
  }

  alias(node: SyntaxNode): Statement {
    const tokens = node.significantTokens();
    const words = tokens.filter((t) => t.kind === 'Word' || t.kind === 'QuotedString');
    const arrowAt = tokens.findIndex((t) => t.kind === 'Arrow');
    const from = words.find((w) => arrowAt < 0 || tokens.indexOf(w) < arrowAt);
    const to = arrowAt >= 0 ? words.find((w) => tokens.indexOf(w) > arrowAt) : undefined;
    return attachSyntax({
      kind: 'Alias' as const,
      keyword: tokens[0]?.text === 'rewrite' ? 'rewrite' as const : 'alias' as const,
      ...(from ? { from: this.word(from) } : {}),
      ...(to ? { to: this.word(to) } : {}),
      span: this.span(node),
    }, node) as Statement;
  }

  variableAssignment(node: SyntaxNode): Statement {
    const tokens = node.significantTokens();
    const rawName = tokens[0]?.text ?? '';
    const operator = (tokens[1]?.text ?? '=') as AssignmentOperator;
    const values = tokens.slice(2).filter((t) => t.kind === 'Word' || t.kind === 'QuotedString').map((t) => this.word(t));
    return attachSyntax({
      kind: 'VariableAssignment' as const, name: variableName(rawName), rawName, operator, values, span: this.span(node),
    }, node) as Statement;
  }

  booleanAssignment(node: SyntaxNode): Statement {
    const tokens = node.significantTokens();
    const rawName = tokens[0]?.text ?? '';
    const operator = (tokens[1]?.text ?? '=') as AssignmentOperator;
    const exprNode = node.childNodes().find((c) => c.kind !== 'Error');
    return attachSyntax({
      kind: 'BooleanAssignment' as const, name: variableName(rawName), rawName, operator,
      expression: exprNode ? this.expression(exprNode) : this.invalidExpression(node), span: this.span(node),
    }, node) as Statement;
  }

  conditional(node: SyntaxNode): Statement {
    const branches = node.childNodes().filter((c) => c.kind === 'ConditionalBranch').map((branch) => {
      const keywords = branch.significantTokens().filter((t) => t.kind === 'Keyword').map((t) => t.text);
      const keyword = keywords[0] === 'if' ? 'if' as const : keywords[1] === 'if' ? 'else if' as const : 'else' as const;
      const exprNode = branch.childNodes().find((c) => c.kind !== 'Block');
      const block = branch.childNodes().find((c) => c.kind === 'Block');
      return attachSyntax({
        kind: 'ConditionalBranch' as const,
        keyword,
        ...(keyword !== 'else' ? { condition: exprNode ? this.expression(exprNode) : this.invalidExpression(branch) } : {}),
        body: block ? this.statements(block) : [],
        span: this.span(branch),
      }, branch) as ConditionalBranch;
    });
    return attachSyntax({ kind: 'Conditional' as const, branches, span: this.span(node) }, node) as Statement;
  }

  invalidExpression(node: SyntaxNode): Expression {
    return { kind: 'InvalidExpression', raw: '', span: { file: this.file, offset: node.end, length: 0 } };
  }

  expression(node: SyntaxNode): Expression {
    const span = this.span(node);
    const kids = node.childNodes();
    switch (node.kind) {
      case 'AtomExpression': {
        const token = node.significantTokens()[0];
        if (!token) return { kind: 'InvalidExpression', raw: '', span };
        const raw = token.text;
        const lower = raw.toLowerCase();
        if (token.kind === 'Word' && (lower === 'true' || lower === 'false')) return { kind: 'BooleanLiteral', value: lower === 'true', raw, span };
        if (token.kind === 'Word' && raw.startsWith('$')) return { kind: 'BooleanVariable', name: variableName(raw), raw, span };
        return { kind: 'Operand', operand: this.operand(node), span };
      }
      case 'NotExpression':
        return { kind: 'Not', operand: kids[0] ? this.expression(kids[0]) : this.invalidExpression(node), span };
      case 'ParenExpression':
        return kids[0] ? this.expression(kids[0]) : this.invalidExpression(node);
      case 'BinaryExpression': {
        const op = node.significantTokens().find((t) => t.kind === 'Keyword')?.text === 'or' ? 'Or' as const : 'And' as const;
        return {
          kind: op,
          left: kids[0] ? this.expression(kids[0]) : this.invalidExpression(node),
          right: kids[1] ? this.expression(kids[1]) : this.invalidExpression(node),
          span,
        };
      }
      case 'CompareExpression': {
        const op = node.significantTokens().find((t) => t.kind === 'Operator' || t.kind === 'Keyword');
        const left = kids[0] ? this.operand(kids[0]) : undefined;
        const right = kids[1] ? this.operand(kids[1]) : undefined;
        if (!op || !left || !right) return { kind: 'InvalidExpression', raw: node.text(), span };
        return { kind: 'Compare', operator: op.text as CompareOperator, left, right, span };
      }
      case 'DefinedExpression': {
        const token = node.significantTokens().find((t) => t.kind === 'Word');
        if (!token) return { kind: 'InvalidExpression', raw: node.text(), span };
        const raw = token.text;
        return { kind: 'Defined', variable: { type: raw.startsWith('$') ? 'boolean' : 'set', name: variableName(raw), raw }, span };
      }
      default:
        return { kind: 'InvalidExpression', raw: node.text(), span };
    }
  }

  operand(atom: SyntaxNode): Operand {
    const token = atom.significantTokens()[0]!;
    const span = this.span(atom);
    if (token.kind === 'Word' && token.text.startsWith('@')) return { kind: 'SetVariable', name: variableName(token.text), raw: token.text, span };
    return { kind: 'Literal', word: this.word(token), span };
  }

  profile(node: SyntaxNode): Statement {
    const first = significant(node)[0];
    const form = first instanceof SyntaxToken
      ? first.kind === 'Caret' ? 'caret' as const : first.text === 'hat' ? 'hat' as const : 'profile' as const
      : 'path' as const;
    const nameToken = node.childNodes().find((c) => c.kind === 'ProfileName')?.significantTokens()[0];
    const attachToken = node.childNodes().find((c) => c.kind === 'Attachment')?.significantTokens()[0];
    const flags: Word[] = [];
    const xattrs: Condition[] = [];
    const identities: Word[] = [];
    for (const child of node.childNodes()) {
      if (child.kind === 'Flags') flags.push(...this.listWords(child));
      else if (child.kind === 'Xattrs') {
        const list = child.childNodes().find((c) => c.kind === 'List');
        if (list) xattrs.push(...list.childNodes().filter((c) => c.kind === 'Condition').map((c) => this.condition(c)));
      } else if (child.kind === 'Identities') identities.push(...this.listWords(child));
    }
    const block = node.childNodes().find((c) => c.kind === 'Block');
    const name = nameToken ? this.word(nameToken) : undefined;
    const profile = {
      kind: 'Profile' as const,
      form,
      isHat: form === 'hat' || form === 'caret',
      ...(name ? { name, unescapedName: unescape(name.value) } : {}),
      ...(attachToken ? { attachment: this.word(attachToken) } : {}),
      xattrs,
      flags,
      identities,
      body: block ? this.statements(block) : [],
      hasBody: Boolean(block),
      span: this.span(node),
    };
    return attachSyntax(profile, node) as Profile;
  }

  /** Words of a node holding `( … )` or a single value: list members, `k=v` items as one word each. */
  listWords(node: SyntaxNode): Word[] {
    const out: Word[] = [];
    const list = node.childNodes().find((c) => c.kind === 'List');
    const source = list ?? node;
    for (const child of source.children()) {
      if (child instanceof SyntaxToken) {
        if (child.kind === 'Word' || child.kind === 'QuotedString') {
          if (!list && (child.text === 'flags' || child.text === 'identities' || child.text === '+') && child.kind === 'Word' && child === source.significantTokens()[0]) continue;
          out.push(this.word(child));
        }
      } else if (child.kind === 'Condition') out.push(this.nodeWord(child));
    }
    // `flags=complain` (no list): drop the keyword token kinds, which are Keyword not Word.
    return out;
  }

  condition(node: SyntaxNode): Condition {
    const tokens = node.significantTokens();
    const name = tokens[0]?.text ?? '';
    const operator = tokens[1]?.kind === 'Keyword' ? 'in' as const : '=' as const;
    const list = node.childNodes().find((c) => c.kind === 'List');
    const values: Word[] = [];
    const conditions: Condition[] = [];
    if (list) {
      for (const child of list.children()) {
        if (child instanceof SyntaxToken) {
          if (child.kind === 'Word' || child.kind === 'QuotedString') values.push(this.word(child));
        } else if (child.kind === 'Condition') conditions.push(this.condition(child));
      }
    } else {
      const value = tokens.slice(2).find((t) => t.kind === 'Word' || t.kind === 'QuotedString');
      if (value) values.push(this.word(value));
    }
    return { name, operator, values, list: Boolean(list), conditions, span: this.span(node) };
  }

  prefix(node: SyntaxNode | undefined): RulePrefix {
    if (!node) return { audit: false, keywords: [] };
    const keywords: string[] = [];
    let audit = false;
    let access: RulePrefix['access'];
    let owner: RulePrefix['owner'];
    let priority: RulePrefix['priority'];
    for (const child of significant(node)) {
      if (child instanceof SyntaxNode) {
        if (child.kind === 'Priority') {
          const valueToken = child.significantTokens().find((t) => t.kind === 'Word');
          const raw = valueToken?.text ?? '';
          const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : undefined;
          priority = { raw, value, span: this.span(child) };
          keywords.push('priority');
        }
        continue;
      }
      const w = child.text;
      keywords.push(w);
      if (w === 'audit') audit = true;
      else if (w === 'allow' || w === 'deny' || w === 'prompt') access ??= w;
      else if (w === 'owner' || w === 'user' || w === 'other') owner ??= w;
    }
    return {
      ...(priority ? { priority } : {}), audit, ...(access ? { access } : {}), ...(owner ? { owner } : {}), keywords, span: this.span(node),
    };
  }

  rule(node: SyntaxNode): Rule {
    const parts = significant(node);
    const prefixNode = parts[0] instanceof SyntaxNode && parts[0].kind === 'Prefix' ? parts[0] : undefined;
    const args = prefixNode ? parts.slice(1) : parts;
    // Nodes begin and end with significant tokens (the parser leaves trivia outside), so no trimming.
    const base = { prefix: this.prefix(prefixNode), text: node.text(), span: this.span(node) };
    const kind = node.kind;
    // Drop the class keyword(s) and the final comma.
    let rest = args.filter((a) => !(a instanceof SyntaxToken && a.kind === 'Comma'));
    const leadingKeywords: string[] = [];
    while (rest[0] instanceof SyntaxToken && rest[0].kind === 'Keyword' && !['safe', 'unsafe', 'subset'].includes(rest[0].text)) {
      leadingKeywords.push(rest[0].text);
      rest = rest.slice(1);
    }
    const words = rest.filter((a): a is SyntaxToken => a instanceof SyntaxToken && (a.kind === 'Word' || a.kind === 'QuotedString'));
    const targetNode = rest.find((a): a is SyntaxNode => a instanceof SyntaxNode && a.kind === 'ExecTarget');
    const targetToken = targetNode?.significantTokens().find((t) => t.kind === 'Word' || t.kind === 'QuotedString');
    const target = targetToken ? this.word(targetToken) : undefined;
    const keywordsIn = rest.filter((a): a is SyntaxToken => a instanceof SyntaxToken && a.kind === 'Keyword').map((t) => t.text);
    const safety = keywordsIn.includes('unsafe') ? 'unsafe' as const : keywordsIn.includes('safe') ? 'safe' as const : undefined;
    const withTarget = target ? { target } : {};
    const withSafety = safety ? { safety } : {};
    let rule: Rule;
    switch (kind) {
      case 'FileRule': {
        let path: Word | undefined;
        const permissionWords: Word[] = [];
        const extra: Word[] = [];
        let leadingPermissions = false;
        for (const token of words) {
          const w = this.word(token);
          const c = token.text.charCodeAt(0);
          if (!path && (token.kind === 'QuotedString' || c === 47 || c === 64)) path = w;
          else if (token.kind === 'Word' && isPermissionWord(token.text)) {
            if (!path) leadingPermissions = true;
            permissionWords.push(w);
          } else extra.push(w);
        }
        const permissions = permissionWords.map((p) => p.raw).join('');
        const fileKeyword = leadingKeywords.includes('file');
        const subset = keywordsIn.includes('subset');
        if (leadingPermissions && /^[lL]$/.test(permissions) && (target || subset)) {
          rule = { kind: 'LinkRule', ...base, subset, leadingPermission: true, ...(path ? { link: path } : {}), ...withTarget, extra } as unknown as Rule;
          break;
        }
        const execMode = EXEC_MODE.exec(permissions)?.[0];
        rule = {
          kind: 'FileRule', ...base, fileKeyword, bare: fileKeyword && !path && permissionWords.length === 0 && extra.length === 0 && !target,
          ...(path ? { path } : {}), permissions, permissionWords, leadingPermissions, ...(execMode ? { execMode } : {}),
          ...withSafety, ...withTarget, extra,
        } as unknown as Rule;
        break;
      }
      case 'LinkRule': {
        const [link, ...extra] = words.map((t) => this.word(t));
        const lessEqual = rest.some((a) => a instanceof SyntaxToken && a.kind === 'Operator' && a.text === '<=');
        rule = { kind: 'LinkRule', ...base, subset: keywordsIn.includes('subset') || lessEqual, leadingPermission: false, ...(link ? { link } : {}), ...withTarget, extra } as unknown as Rule;
        break;
      }
      case 'CapabilityRule':
        rule = { kind: 'CapabilityRule', ...base, capabilities: words.map((t) => this.word(t)) } as unknown as Rule;
        break;
      case 'ChangeProfileRule': {
        const [exec, ...extra] = words.map((t) => this.word(t));
        rule = { kind: 'ChangeProfileRule', ...base, ...withSafety, ...(exec ? { exec } : {}), ...withTarget, extra } as unknown as Rule;
        break;
      }
      case 'RlimitRule': {
        const opAt = rest.findIndex((a) => a instanceof SyntaxToken && a.kind === 'Operator');
        const before = words.filter((t) => opAt < 0 || rest.indexOf(t) < opAt).map((t) => this.word(t));
        const after = opAt >= 0 ? words.filter((t) => rest.indexOf(t) > opAt) : [];
        const value = after.length ? joinWords(after.map((t) => this.word(t))) : undefined;
        const [resource, ...extra] = before.filter((w) => w.raw !== 'rlimit');
        rule = { kind: 'RlimitRule', ...base, ...(resource ? { resource } : {}), ...(value ? { value } : {}), extra } as unknown as Rule;
        break;
      }
      case 'AllRule':
        rule = { kind: 'AllRule', ...base } as unknown as Rule;
        break;
      case 'UnknownRule':
        rule = { kind: 'UnknownRule', ...base } as unknown as Rule;
        break;
      default: {
        const vocabulary = ACCESS_WORDS[kind];
        const access: Word[] = [];
        const plain: Word[] = [];
        const conditions: Condition[] = [];
        for (const a of rest) {
          if (a instanceof SyntaxNode) {
            if (a.kind === 'Condition') conditions.push(this.condition(a));
            else if (a.kind === 'List') {
              for (const t of a.children()) if (t instanceof SyntaxToken && (t.kind === 'Word' || t.kind === 'QuotedString')) access.push(this.word(t));
            }
          } else if (a.kind === 'Word' || a.kind === 'QuotedString') {
            if (vocabulary?.has(a.text)) access.push(this.word(a));
            else plain.push(this.word(a));
          }
        }
        const extraFields = kind === 'UmountRule' ? { keyword: leadingKeywords[0] === 'unmount' ? 'unmount' : 'umount' } : {};
        rule = { kind, ...base, access, words: plain, conditions, ...withTarget, ...extraFields } as unknown as unknown as Rule;
      }
    }
    return attachSyntax(rule, node) as Rule;
  }
}

function joinWords(words: Word[]): Word {
  if (words.length === 1) return words[0]!;
  const first = words[0]!;
  const last = words[words.length - 1]!;
  const raw = words.map((w) => w.raw).join(' ');
  return { raw, value: raw, quoted: false, span: { file: first.span.file, offset: first.span.offset, length: last.span.offset + last.span.length - first.span.offset } };
}

/** `@{HOME}` → `HOME`, `@HOME` → `HOME`, `${b}` → `b`, `$b` → `b`. */
export function variableName(raw: string): string {
  const body = raw.slice(1);
  return body.startsWith('{') && body.endsWith('}') ? body.slice(1, -1) : body;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', e: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Decode AppArmor escapes in a name: `\\ \" \NNN \xHH \dNNN \a \e \f \n \r \t`; any other `\c` is `c`. */
export function unescape(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\\' || i + 1 >= value.length) { out += c; continue; }
    const d = value[i + 1]!;
    let m: RegExpExecArray | null;
    if ((m = /^[0-7]{3}/.exec(value.slice(i + 1, i + 4)))) { out += String.fromCharCode(parseInt(m[0], 8)); i += 3; continue; }
    if (d === 'x' && (m = /^[0-9a-fA-F]{2}/.exec(value.slice(i + 2, i + 4)))) { out += String.fromCharCode(parseInt(m[0], 16)); i += 3; continue; }
    if (d === 'd' && (m = /^\d{3}/.exec(value.slice(i + 2, i + 5)))) { out += String.fromCharCode(Number(m[0]) & 0xff); i += 4; continue; }
    out += SIMPLE_ESCAPES[d] ?? d;
    i++;
  }
  return out;
}

/** The text of a node as printed (re-exported convenience for model users). */
export function nodeText(node: SyntaxNode): string {
  return printTree(node.green);
}
