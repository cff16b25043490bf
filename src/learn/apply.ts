// Accepted proposals become text: applyEdits() places each PolicyEdit in the policy source through the
// lossless syntax tree. Pure: it reads the texts it is given and returns whole-file changes; the CLI edge
// (src/cli/learn-write.ts) previews, validates and writes them.
//
// Every change is an insertion: the original bytes of every file stay as they were, new lines go where a
// reader would look for them (after the last rule of the same kind, before a closing brace, after the last
// sibling hat), indented like their neighbours. A rule that is already there (equal after normalization)
// is not added again, so applying the same edits twice changes nothing the second time.
import { makeDiagnostic, LineIndex, type Diagnostic } from '../policy/diagnostic/index.js';
import { findProfile, loadPolicy } from '../policy/load/index.js';
import { buildPolicyModel, canonicalPolicyText } from '../policy/model/index.js';
import { formatPolicy } from '../policy/format/index.js';
import { lookupInclude, memoryFileReader, skippedEntry, type FileReader, type ResolvedPolicy, type ResolvedProfile } from '../policy/resolve/index.js';
import { escapeControlCharacters, parsePolicy, RULE_KINDS, SyntaxNode, SyntaxToken, type NodeKind } from '../policy/syntax/index.js';
import type { FileChange, PolicyEdit } from './edit-model.js';

export interface ApplyOptions {
  /** The policy's entry file, as loadPolicy was given it (an absolute path, a key of `files`). */
  readonly entry: string;
  /** Include search path for `<magic>` includes (default /etc/apparmor.d), as the loader used it. */
  readonly includePaths?: readonly string[];
  /** Base of relative includes (default `/`). */
  readonly workingDirectory?: string;
  /** The resolved policy of exactly these texts, when the caller has it (saves loading them again). */
  readonly resolved?: ResolvedPolicy;
}

export interface ApplyResult {
  /** One change per file that the edits touch or create, in the order first touched. */
  readonly changes: readonly FileChange[];
  /** Edits that could not be placed (nothing is changed for them). Never thrown. */
  readonly diagnostics: readonly Diagnostic[];
}

const DEFAULT_INCLUDE_PATHS = ['/etc/apparmor.d'];
/** One indentation step where a block has nothing to copy it from (the formatter's step). */
const INDENT_STEP = '  ';

/** Place every edit; see the header. `files` holds each policy file's text by the path the loader used. */
export function applyEdits(files: ReadonlyMap<string, string>, edits: readonly PolicyEdit[], options: ApplyOptions): ApplyResult {
  return new EditSession(files, options).run(edits);
}

/** A new hat or child profile, rendered once all edits are known (rules aimed at it go inside). */
interface PendingProfile {
  readonly label: string;
  readonly name: string;
  readonly hat: boolean;
  readonly flags: readonly string[];
  readonly rules: string[];
  readonly ruleKeys: Set<string>;
  readonly children: PendingProfile[];
}

interface Insertion {
  readonly offset: number;
  readonly text: string;
  readonly order: number;
}

/** A place to insert lines: an offset, the indentation of the lines, and what wraps them. */
interface Anchor {
  readonly file: string;
  readonly offset: number;
  readonly indent: string;
  /** Text before the lines (a line break when the anchor is mid-line). */
  readonly before: string;
  /** Text after the lines (the closing brace's indentation when it shared a line with the block). */
  readonly after: string;
}

/** A parsed rule as an edit gives it: its canonical text, kind, whether it denies, and its comparison key. */
interface NewRule {
  readonly text: string;
  readonly kind: NodeKind;
  readonly deny: boolean;
  readonly key: string;
}

class EditSession {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly insertions = new Map<string, Insertion[]>();
  /** Files the edits create (local/ overrides): path → their lines. */
  private readonly created = new Map<string, { header: string; rules: string[]; keys: Set<string> }>();
  private readonly touched: string[] = [];
  private readonly trees = new Map<string, SyntaxNode>();
  private readonly pending = new Map<string, PendingProfile>();
  /** Top-level pending profiles (their parent exists), by parent label, in creation order. */
  private readonly pendingRoots: PendingProfile[] = [];
  private readonly existingKeys = new Map<ResolvedProfile, Set<string>>();
  private order = 0;
  private resolved: ResolvedPolicy = { profiles: [], files: [] };
  private readonly includePaths: readonly string[];
  private readonly workingDirectory: string;

  constructor(private readonly files: ReadonlyMap<string, string>, private readonly options: ApplyOptions) {
    this.includePaths = options.includePaths?.length ? options.includePaths : DEFAULT_INCLUDE_PATHS;
    this.workingDirectory = options.workingDirectory ?? '/';
  }

  run(edits: readonly PolicyEdit[]): ApplyResult {
    if (edits.length === 0) return { changes: [], diagnostics: [] };
    this.resolved = this.options.resolved ?? this.load();
    // Creations first, so rules aimed at a new hat land inside it whatever the edits' order.
    const creations = edits.filter((e): e is Extract<PolicyEdit, { kind: 'create-profile' }> => e.kind === 'create-profile');
    const depth = (label: string) => label.split('//').length;
    for (const edit of [...creations].sort((a, b) => depth(a.parent) - depth(b.parent))) this.createProfile(edit);
    for (const edit of edits) if (edit.kind === 'add-rule') this.addRule(edit);
    for (const root of this.pendingRoots) this.placeProfile(root);
    return { changes: this.changes(), diagnostics: this.diagnostics };
  }

  private load(): ResolvedPolicy {
    const record: Record<string, string> = {};
    for (const [path, text] of this.files) record[path] = text;
    const loaded = loadPolicy(this.options.entry, memoryFileReader(record), { includePaths: this.includePaths, workingDirectory: this.workingDirectory });
    return loaded.resolved;
  }

  // ---- edits --------------------------------------------------------------------------------------

  private createProfile(edit: Extract<PolicyEdit, { kind: 'create-profile' }>): void {
    const label = `${edit.parent}//${edit.name}`;
    if (!validProfileName(edit.name)) {
      this.report('learn-edit/bad-profile-name', `cannot create ${edit.hat ? 'hat' : 'child profile'} '${printable(edit.name)}' in '${printable(edit.parent)}': the name is empty or holds a line break, quote, brace or NUL`);
      return;
    }
    const badFlag = edit.flags.find((f) => !/^[A-Za-z0-9_.=/-]+$/.test(f));
    if (badFlag !== undefined) {
      this.report('learn-edit/bad-flag', `cannot create '${printable(label)}' with flag '${printable(badFlag)}'`);
      return;
    }
    if (this.pending.has(label) || findProfile(this.resolved.profiles, label)) return; // already there: nothing to do
    const profile: PendingProfile = { label, name: edit.name, hat: edit.hat, flags: edit.flags, rules: [], ruleKeys: new Set(), children: [] };
    const parentPending = this.pending.get(edit.parent);
    if (parentPending) {
      parentPending.children.push(profile);
    } else {
      const parent = findProfile(this.resolved.profiles, edit.parent);
      if (!parent) {
        this.report('learn-edit/unknown-profile', `cannot create '${printable(label)}': profile '${printable(edit.parent)}' is not in the policy`);
        return;
      }
      if (this.ambiguous(edit.parent)) return;
      this.pendingRoots.push(profile);
    }
    this.pending.set(label, profile);
  }

  private addRule(edit: Extract<PolicyEdit, { kind: 'add-rule' }>): void {
    const rule = parseNewRule(edit.rule);
    if (typeof rule === 'string') {
      this.report('learn-edit/bad-rule', `cannot add '${printable(edit.rule)}' to '${printable(edit.profile)}': ${rule}`);
      return;
    }
    const comment = edit.comment === undefined ? undefined : `# ${printable(edit.comment).trim()}`;
    const lines = comment ? [comment, rule.text] : [rule.text];
    const pending = this.pending.get(edit.profile);
    if (pending) {
      if (pending.ruleKeys.has(rule.key)) return;
      pending.ruleKeys.add(rule.key);
      pending.rules.push(...lines);
      return;
    }
    const profile = findProfile(this.resolved.profiles, edit.profile);
    if (!profile) {
      this.report('learn-edit/unknown-profile', `cannot add '${printable(rule.text)}': profile '${printable(edit.profile)}' is not in the policy`);
      return;
    }
    if (this.ambiguous(edit.profile)) return;
    const keys = this.keysOf(profile);
    if (keys.has(rule.key)) return;
    const located = this.locate(profile);
    if (!located) return;
    // an include the block already has (its rules are inlined, so keysOf does not see the statement)
    if (rule.kind === 'Include' && located.block.childNodes().some((s) => s.kind === 'Include' && includeKey(s) === rule.key)) return;
    const local = this.localOverride(located.block);
    keys.add(rule.key);
    if (local?.kind === 'create') {
      const file = this.created.get(local.path) ?? { header: `# Site-specific additions and overrides for '${printable(profile.name)}', created by hatter learn.\n`, rules: [], keys: new Set<string>() };
      if (!this.created.has(local.path)) { this.created.set(local.path, file); this.touch(local.path); }
      file.rules.push(...lines);
      return;
    }
    const anchor = local?.kind === 'file'
      ? this.ruleAnchorInFile(local.path, rule)
      : this.ruleAnchorInBlock(located.file, located.block, located.node, rule);
    if (anchor) this.insert(anchor, lines);
  }

  /** Labels defined twice (the resolver reports that too) cannot be edited safely. */
  private ambiguous(label: string): boolean {
    let count = 0;
    const walk = (list: readonly ResolvedProfile[]) => { for (const p of list) { if (p.name === label) count++; walk(p.children); } };
    walk(this.resolved.profiles);
    if (count > 1) {
      this.report('learn-edit/ambiguous-profile', `profile '${printable(label)}' is defined ${count} times; not editing it`);
      return true;
    }
    return false;
  }

  /** Comparison keys of the rules a profile already has (its own and its includes'). */
  private keysOf(profile: ResolvedProfile): Set<string> {
    let keys = this.existingKeys.get(profile);
    if (!keys) {
      keys = new Set();
      for (const rule of profile.rules) {
        const text = this.files.get(rule.source.file)?.slice(rule.source.offset, rule.source.offset + rule.source.length);
        if (text === undefined) continue;
        const parsed = parseNewRule(text);
        if (typeof parsed !== 'string') keys.add(parsed.key);
      }
      this.existingKeys.set(profile, keys);
    }
    return keys;
  }

  // ---- finding things in the tree -----------------------------------------------------------------

  private tree(file: string): SyntaxNode | undefined {
    let root = this.trees.get(file);
    if (!root) {
      const text = this.files.get(file);
      if (text === undefined) return undefined;
      root = new SyntaxNode(parsePolicy(text, file).root);
      this.trees.set(file, root);
    }
    return root;
  }

  /** The Profile node and its Block for a resolved profile, in the file that defines it. */
  private locate(profile: ResolvedProfile): { file: string; node: SyntaxNode; block: SyntaxNode } | undefined {
    const file = profile.source.file;
    const root = this.tree(file);
    if (!root) {
      this.report('learn-edit/unreadable-file', `profile '${printable(profile.name)}' is defined in ${printable(file)}, whose text was not given`);
      return undefined;
    }
    const node = profileNodeAt(root, profile.source.offset);
    const block = node?.childNodes().find((c) => c.kind === 'Block');
    const close = block?.children().at(-1);
    if (!node || !block || !(close instanceof SyntaxToken) || close.kind !== 'RBrace') {
      this.report('learn-edit/no-profile-block', `profile '${printable(profile.name)}' in ${printable(file)} has no complete '{ … }' body to edit`, file, profile.source.offset);
      return undefined;
    }
    return { file, node, block };
  }

  /** Where the profile's `include if exists <local/…>` points: an existing file, or one to create. */
  private localOverride(block: SyntaxNode): { kind: 'file' | 'create'; path: string } | undefined {
    for (const include of block.childNodes()) {
      const target = includeTarget(include);
      if (!target || !/(^|\/)local\/[^/]+$/.test(target.name)) continue;
      const found = lookupInclude(target.name, target.magic ? 'magic' : 'quoted', this.includePaths, this.workingDirectory, this.reader());
      if (found.found) {
        if (found.files.length !== 1 || found.ignored.length) continue; // a directory: keep to the profile itself
        const path = found.files[0]!;
        return this.created.has(path) ? { kind: 'create', path } : { kind: 'file', path };
      }
      if (target.ifExists && found.tried[0]) return { kind: 'create', path: found.tried[0] };
    }
    return undefined;
  }

  /**
   * Debian's layout (php-fpm.d/, apache2.d/): the parent includes a directory with one file per hat. A new
   * hat whose siblings live there gets a file of its own in that directory, named after it.
   */
  private fileInIncludedDirectory(parent: ResolvedProfile, sibling: ResolvedProfile, name: string): string | undefined {
    if (sibling.source.file === parent.source.file || !/^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/.test(name) || skippedEntry(name)) return undefined;
    const directory = sibling.source.file.slice(0, sibling.source.file.lastIndexOf('/'));
    const path = `${directory}/${name}`;
    if (this.files.has(path) || this.created.has(path)) return undefined;
    const root = this.tree(parent.source.file);
    const block = root && profileNodeAt(root, parent.source.offset)?.childNodes().find((c) => c.kind === 'Block');
    for (const include of block?.childNodes() ?? []) {
      const target = includeTarget(include);
      if (!target) continue;
      const candidates = target.magic && !target.name.startsWith('/')
        ? this.includePaths.map((dir) => `${dir.replace(/\/+$/, '')}/${target.name.replace(/\/+$/, '')}`)
        : [target.name.replace(/\/+$/, '')];
      const first = candidates.find((c) => this.reader().kind(c) !== undefined);
      if (first === directory && this.reader().kind(first) === 'directory') return path;
    }
    return undefined;
  }

  private readerCache: FileReader | undefined;

  /** The given texts (and the files these edits create) as the loader would see them. */
  private reader(): FileReader {
    if (!this.readerCache || this.created.size) {
      const record: Record<string, string> = {};
      for (const [path, text] of this.files) record[path] = text;
      for (const path of this.created.keys()) record[path] = '';
      this.readerCache = memoryFileReader(record);
    }
    return this.readerCache;
  }

  // ---- anchors ------------------------------------------------------------------------------------

  /** Where a rule goes in a profile's block: after its kind's last rule, else before nested profiles, else before `}`. */
  private ruleAnchorInBlock(file: string, block: SyntaxNode, profileNode: SyntaxNode, rule: NewRule): Anchor | undefined {
    const text = this.files.get(file)!;
    const statements = block.childNodes();
    const sameKind = statements.filter((s) => s.kind === rule.kind && isDeny(s) === rule.deny);
    const last = sameKind.at(-1);
    if (last) return afterNode(file, text, last, lineIndent(text, last.offset) ?? this.innerIndent(text, block, profileNode));
    const indent = this.innerIndent(text, block, profileNode);
    const firstNested = statements.findIndex((s) => s.kind === 'Profile');
    if (firstNested > 0) return afterNode(file, text, statements[firstNested - 1]!, indent);
    if (firstNested === 0) {
      const nested = statements[0]!;
      const start = lineStart(text, nested.offset);
      if (lineIndent(text, nested.offset) !== undefined) return { file, offset: start, indent, before: '', after: '' };
    }
    return beforeClose(file, text, block, profileNode, indent);
  }

  /** A local/ override file holds rules only: after its kind's last rule, else at the end. */
  private ruleAnchorInFile(file: string, rule: NewRule): Anchor | undefined {
    const root = this.tree(file);
    const text = this.files.get(file);
    if (!root || text === undefined) return undefined;
    const statements = root.childNodes();
    const sameKind = statements.filter((s) => s.kind === rule.kind && isDeny(s) === rule.deny).at(-1);
    const anyRule = statements.filter((s) => RULE_KINDS.has(s.kind)).at(-1);
    const indent = (anyRule && lineIndent(text, anyRule.offset)) ?? '';
    if (sameKind) return afterNode(file, text, sameKind, lineIndent(text, sameKind.offset) ?? indent);
    const needsBreak = text.length > 0 && !text.endsWith('\n');
    return { file, offset: text.length, indent, before: needsBreak ? '\n' : '', after: '' };
  }

  /** Indentation for a block's direct statements: copied from one of them, else the header's plus one step. */
  private innerIndent(text: string, block: SyntaxNode, profileNode: SyntaxNode): string {
    for (const statement of block.childNodes()) {
      const indent = lineIndent(text, statement.offset);
      if (indent !== undefined && lineStart(text, statement.offset) > lineStart(text, profileNode.offset)) return indent;
    }
    return (lineIndent(text, profileNode.offset) ?? '') + INDENT_STEP;
  }

  /** A new hat or child: after its last existing sibling (whatever file that is in), else at the end of the parent's block. */
  private placeProfile(profile: PendingProfile): void {
    const parentLabel = profile.label.slice(0, profile.label.length - profile.name.length - 2);
    const parent = findProfile(this.resolved.profiles, parentLabel)!;
    const sibling = parent.children.at(-1);
    const ownFile = sibling && this.fileInIncludedDirectory(parent, sibling, profile.name);
    if (ownFile) {
      this.created.set(ownFile, { header: '', rules: renderProfile(profile, ''), keys: new Set() });
      this.touch(ownFile);
      return;
    }
    if (sibling) {
      const located = this.locate(sibling);
      if (!located) return;
      const text = this.files.get(located.file)!;
      const indent = lineIndent(text, located.node.offset) ?? '';
      const anchor = afterNode(located.file, text, located.node, indent);
      this.insert({ ...anchor, before: `${anchor.before}\n` }, renderProfile(profile, ''));
      return;
    }
    const located = this.locate(parent);
    if (!located) return;
    const text = this.files.get(located.file)!;
    const anchor = beforeClose(located.file, text, located.block, located.node, this.innerIndent(text, located.block, located.node));
    const hasStatements = located.block.childNodes().length > 0;
    this.insert({ ...anchor, before: `${anchor.before}${hasStatements ? '\n' : ''}` }, renderProfile(profile, ''));
  }

  // ---- output -------------------------------------------------------------------------------------

  private insert(anchor: Anchor, lines: readonly string[]): void {
    const eol = (this.files.get(anchor.file) ?? '').includes('\r\n') ? '\r\n' : '\n';
    const body = lines.map((line) => (line === '' ? eol : `${anchor.indent}${line}${eol}`)).join('');
    const before = anchor.before.replace(/\n/g, eol);
    let list = this.insertions.get(anchor.file);
    if (!list) { list = []; this.insertions.set(anchor.file, list); this.touch(anchor.file); }
    list.push({ offset: anchor.offset, text: `${before}${body}${anchor.after}`, order: this.order++ });
  }

  private touch(file: string): void {
    if (!this.touched.includes(file)) this.touched.push(file);
  }

  private changes(): FileChange[] {
    const out: FileChange[] = [];
    for (const file of this.touched) {
      const created = this.created.get(file);
      if (created) {
        out.push({ file, before: undefined, after: created.header + created.rules.map((r) => `${r}\n`).join('') });
        continue;
      }
      const before = this.files.get(file)!;
      const list = [...(this.insertions.get(file) ?? [])].sort((a, b) => a.offset - b.offset || a.order - b.order);
      let after = '';
      let at = 0;
      for (const insertion of list) {
        after += before.slice(at, insertion.offset) + insertion.text;
        at = insertion.offset;
      }
      after += before.slice(at);
      if (after !== before) out.push({ file, before, after });
    }
    return out;
  }

  private report(code: string, message: string, file = this.options.entry, offset?: number): void {
    const text = this.files.get(file);
    if (text !== undefined && offset !== undefined) {
      this.diagnostics.push(makeDiagnostic(file, new LineIndex(text), offset, 0, 'error', code, message));
    } else {
      this.diagnostics.push({ file, line: 1, col: 1, severity: 'error', code, message });
    }
  }
}

// ---- helpers (pure, over text and tree) -----------------------------------------------------------

/** One rule as text: canonical, its kind, deny or not, and a key that ignores spelling differences. */
function parseNewRule(source: string): NewRule | string {
  if (/[\r\n\0]/.test(source)) return 'a rule is one line';
  const trimmed = source.trim();
  if (!trimmed) return 'the rule is empty';
  // an include (the abstraction alternatives) takes no comma; every other rule ends with one
  const include = /^#?include\b/.test(trimmed);
  const withComma = include || trimmed.endsWith(',') ? trimmed : `${trimmed},`;
  const parsed = parsePolicy(`${withComma}\n`, '<rule>');
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return `it does not parse (${parsed.diagnostics[0]!.message})`;
  const statements = new SyntaxNode(parsed.root).childNodes();
  const rule = statements[0];
  if (statements.length !== 1 || !rule) return 'it is not exactly one rule';
  const text = formatPolicy(parsed).text.trim();
  if (rule.kind === 'Include') {
    // only search-path includes (`<abstractions/php>`, what the abstraction alternatives offer): a quoted
    // path could pull any file into the profile
    const target = includeTarget(rule);
    if (!target?.magic || target.ifExists || rule.significantTokens()[0]?.text !== 'include') return 'only `include <name>` of an abstraction can be added';
    return { text, kind: rule.kind, deny: false, key: includeKey(rule)! };
  }
  if (!RULE_KINDS.has(rule.kind) || rule.kind === 'UnknownRule') return 'it is not exactly one rule';
  const key = canonicalPolicyText(buildPolicyModel(parsed).policy);
  return { text, kind: rule.kind, deny: isDeny(rule), key };
}

/** `include <name>` / `include "name"`: the same key however the include was spelled. */
function includeKey(node: SyntaxNode): string | undefined {
  const target = includeTarget(node);
  return target && `include ${target.magic ? `<${target.name}>` : `"${target.name}"`}`;
}

/** An include statement's target: the name inside `<…>` or quotes, whether it is magic, whether `if exists`. */
function includeTarget(node: SyntaxNode): { name: string; magic: boolean; ifExists: boolean } | undefined {
  if (node.kind !== 'Include') return undefined;
  const token = node.significantTokens().find((t) => t.kind === 'IncludePath' || t.kind === 'QuotedString' || t.kind === 'Word');
  if (!token) return undefined;
  const wrapped = token.kind === 'IncludePath' || token.kind === 'QuotedString';
  return {
    name: wrapped ? token.text.slice(1, -1) : token.text,
    magic: token.kind === 'IncludePath',
    ifExists: node.significantTokens().some((t) => t.text === 'exists'),
  };
}

function isDeny(rule: SyntaxNode): boolean {
  const prefix = rule.childNodes().find((c) => c.kind === 'Prefix');
  return prefix?.significantTokens().some((t) => t.text === 'deny') ?? false;
}

/** The Profile node that starts at `offset` (the resolver's source offset of a profile). */
function profileNodeAt(root: SyntaxNode, offset: number): SyntaxNode | undefined {
  const stack: SyntaxNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (offset < node.offset || offset >= node.end) continue;
    if (node.kind === 'Profile' && node.trimmedRange().start === offset) return node;
    stack.push(...node.childNodes());
  }
  return undefined;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The blanks from the start of the line to `offset`, or undefined when something else precedes it on its line. */
function lineIndent(text: string, offset: number): string | undefined {
  const prefix = text.slice(lineStart(text, offset), offset);
  return /^[ \t]*$/.test(prefix) ? prefix : undefined;
}

/** After a statement: at the start of the next line when only blanks or a comment follow it on its line. */
function afterNode(file: string, text: string, node: SyntaxNode, indent: string): Anchor {
  let p = node.end;
  while (p < text.length && (text[p] === ' ' || text[p] === '\t')) p++;
  if (text[p] === '#') while (p < text.length && text[p] !== '\n') p++;
  if (text[p] === '\r' && text[p + 1] === '\n') p++;
  if (text[p] === '\n') return { file, offset: p + 1, indent, before: '', after: '' };
  if (p >= text.length) return { file, offset: text.length, indent, before: '\n', after: '' };
  // More follows on the same line: start a new line right after the statement.
  return { file, offset: node.end, indent, before: '\n', after: '' };
}

/** Before a block's closing brace: on the line above it, or, when the brace shares a line, breaking that line. */
function beforeClose(file: string, text: string, block: SyntaxNode, profileNode: SyntaxNode, indent: string): Anchor {
  const close = block.children().at(-1)!;
  const braceIndent = lineIndent(text, close.offset);
  if (braceIndent !== undefined) return { file, offset: lineStart(text, close.offset), indent, before: '', after: '' };
  return { file, offset: close.offset, indent, before: '\n', after: lineIndent(text, profileNode.offset) ?? '' };
}

/** `^name flags=(complain) {` … `}`, as the formatter prints a profile head, with its rules and children. */
function renderProfile(profile: PendingProfile, indent: string): string[] {
  const head = `${profile.hat ? '^' : 'profile '}${quoteName(profile.name)}${profile.flags.length ? ` flags=(${profile.flags.join(' ')})` : ''} {`;
  const inner = `${indent}${INDENT_STEP}`;
  const lines = [`${indent}${head}`, ...profile.rules.map((r) => `${inner}${r}`)];
  for (const child of profile.children) {
    if (lines.length > 1) lines.push('');
    lines.push(...renderProfile(child, inner));
  }
  lines.push(`${indent}}`);
  return lines;
}

function validProfileName(name: string): boolean {
  return name.length > 0 && !/[\0\r\n"{}]/.test(name) && !name.includes('//');
}

function quoteName(name: string): string {
  return /^[A-Za-z0-9_./:@+-]+$/.test(name) ? name : `"${name}"`;
}

/** Text from an edit, quoted in a message or a comment: control characters escaped, one line. */
const printable = escapeControlCharacters;
