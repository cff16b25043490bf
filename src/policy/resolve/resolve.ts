// resolvePolicy: one policy file (plus everything it includes) → profiles with flat, expanded rule
// lists. Walks statements in source order as apparmor_parser does: includes are inlined where they
// stand, variables and booleans are recorded as they appear, conditionals are decided when reached,
// and rule text is expanded at the end with the final variable values.
import * as posix from './paths.js';
import type { Diagnostic, Severity, SourceLocation } from '../diagnostic/index.js';
import type * as Ast from '../model/index.js';
import { evaluateCondition, type ConditionExpression } from './conditions.js';
import type { FileReader } from './files.js';
import { lookupInclude } from './includes.js';
import { parseBytes, type ParseCache, type ParsedFile } from './parse-cache.js';
import { parseFileMode } from './permissions.js';
import { escapeControlCharacters } from '../syntax/index.js';
import { filterSlashes } from './slashes.js';
import { hatLabel } from '../label/index.js';
import type {
  OwnerScope, ProfileKind, ResolvedPolicy, ResolvedProfile, ResolvedRule, ResolvedRulePrefix, ResolvedVariable, RuleDecision, RuleRef,
} from './types.js';
import { VariableTable, escapeProfileName, type BuiltinValues, type VariableProblem } from './variables.js';

export interface ResolveOptions {
  readonly reader: FileReader;
  /** Include search path for `<magic>` includes; default `/etc/apparmor.d`. */
  readonly includePaths?: readonly string[];
  /** Base of relative quoted/bare includes and of a relative input path (the parser's cwd). */
  readonly workingDirectory: string;
  /** The input's bytes when it does not come from the reader (stdin, a test case). */
  readonly bytes?: Uint8Array;
  /** Share across the files of one run so each include is parsed once. */
  readonly cache?: ParseCache;
}

export interface ResolveResult {
  readonly policy: ResolvedPolicy;
  readonly diagnostics: readonly Diagnostic[];
  /** True when the input file itself could not be read. */
  readonly unreadable: boolean;
  /**
   * Every file read, parsed, by the name its rules' `source.file` gives: a rule's or profile's syntax
   * is the statement at `source.offset` in `files.get(source.file)` (see syntaxAt).
   */
  readonly files: ReadonlyMap<string, ParsedFile>;
}

const DEFAULT_INCLUDE_PATHS = ['/etc/apparmor.d'];
const MAX_INCLUDE_DEPTH = 64;
/** apparmor_parser nests hats and children only a few levels; deeper is certainly a mistake. */
const MAX_PROFILE_DEPTH = 32;

interface FileContext {
  readonly file: ParsedFile;
  /** Include statements that led here, outermost first. */
  readonly chain: readonly SourceLocation[];
  /** Absolute paths of the files on the include stack, to detect cycles. */
  readonly stack: readonly string[];
}

interface PendingRule {
  readonly ast: Ast.Rule;
  readonly prefixes: readonly Ast.RulePrefix[];
  readonly context: FileContext;
}

interface PendingProfile {
  readonly ast: Ast.Profile;
  readonly context: FileContext;
  readonly kind: ProfileKind;
  readonly parent?: PendingProfile;
  readonly items: PendingRule[];
  readonly children: PendingProfile[];
  /** Files already included into this profile: including one again is a no-op. */
  readonly included: Set<string>;
}

type Scope = { readonly type: 'file'; readonly included: Set<string> } | { readonly type: 'profile'; readonly profile: PendingProfile };

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  readonly variables = new VariableTable();
  readonly aliases: { from: string; to: string }[] = [];
  readonly topLevel: PendingProfile[] = [];
  /** `hat parent//name {` and `profile parent//name {` at top level, attached after the walk. */
  readonly attachLater: PendingProfile[] = [];
  readonly files: string[] = [];
  readonly parsed = new Map<string, ParsedFile>();
  readonly reportedFiles = new Set<string>();
  /** Files already reported for rules outside a profile (one diagnostic per file is enough). */
  readonly outsideReported = new Set<string>();
  abi?: string;

  constructor(readonly options: ResolveOptions) {}

  /** Included files are shown relative to the working directory when the input was named relatively. */
  relativeDisplay = false;

  displayPath(path: string): string {
    if (!this.relativeDisplay) return path;
    const relative = posix.relative(this.options.workingDirectory, path);
    return relative && !relative.startsWith('../') ? relative : path;
  }

  get includePaths(): readonly string[] {
    return this.options.includePaths?.length ? this.options.includePaths : DEFAULT_INCLUDE_PATHS;
  }

  load(path: string, display: string, bytes?: Uint8Array, chain: readonly SourceLocation[] = []): ParsedFile | undefined {
    const cached = bytes ? undefined : this.options.cache?.get(path);
    let parsed = cached;
    if (!parsed) {
      const data = bytes ?? this.options.reader.readFile(path);
      if (!data) return undefined;
      parsed = parseBytes(data, path, display);
      if (!bytes) this.options.cache?.set(path, parsed);
    }
    if (!this.reportedFiles.has(path)) {
      this.reportedFiles.add(path);
      this.parsed.set(parsed.display, parsed);
      this.files.push(display);
      this.diagnostics.push(...parsed.diagnostics.map((d) => ({ ...d, file: display, ...(chain.length ? { includeChain: chain } : {}) })));
    }
    return parsed;
  }

  report(context: FileContext, span: Ast.Span | undefined, severity: Severity, code: string, message: string, hint?: string): void {
    const offset = span?.offset ?? 0;
    const { line, col } = context.file.lines.location(offset);
    this.diagnostics.push({
      file: displayName(context), line, col, offset, length: span?.length ?? 0, severity, code,
      message: escapeControlCharacters(message),
      ...(hint ? { hint: escapeControlCharacters(hint) } : {}),
      ...(context.chain.length ? { includeChain: context.chain } : {}),
    });
  }

  reportProblem(context: FileContext, span: Ast.Span | undefined, problem: VariableProblem, severity: Severity = 'error'): void {
    this.report(context, span, severity, problem.code, problem.message, problem.hint);
  }

  // ---- walking ------------------------------------------------------------------------------

  walk(statements: readonly Ast.Statement[], context: FileContext, scope: Scope, prefixes: readonly Ast.RulePrefix[]): void {
    for (const statement of statements) this.walkStatement(statement, context, scope, prefixes);
  }

  walkStatement(statement: Ast.Statement, context: FileContext, scope: Scope, prefixes: readonly Ast.RulePrefix[]): void {
    switch (statement.kind) {
      case 'Abi':
        this.walkAbi(statement, context);
        return;
      case 'Include':
        this.walkInclude(statement, context, scope, prefixes);
        return;
      case 'Alias':
        if (scope.type !== 'file') {
          this.report(context, statement.span, 'error', 'resolve/preamble-in-profile', `'${statement.keyword}' is allowed only at file level, before the profiles`);
          return;
        }
        if (statement.from && statement.to) this.aliases.push({ from: statement.from.value, to: statement.to.value });
        return;
      case 'VariableAssignment': {
        if (scope.type !== 'file') {
          this.report(context, statement.span, 'error', 'resolve/preamble-in-profile', `variable @{${statement.name}} can be assigned only at file level, not inside a profile`);
          return;
        }
        const problem = this.variables.assign(statement.name, statement.operator, statement.values.map((v) => v.value), ruleRef(context, statement.span));
        if (problem) this.reportProblem(context, statement.span, problem);
        return;
      }
      case 'BooleanAssignment': {
        if (scope.type !== 'file') {
          this.report(context, statement.span, 'error', 'resolve/preamble-in-profile', `boolean $${statement.name} can be assigned only at file level, not inside a profile`);
          return;
        }
        const value = this.evaluate(statement.expression, context);
        if (value === undefined) return;
        const problem = this.variables.assignBoolean(statement.name, statement.operator, value, ruleRef(context, statement.span));
        if (problem) this.reportProblem(context, statement.span, problem);
        return;
      }
      case 'Conditional':
        for (const branch of statement.branches) {
          const taken = branch.condition ? this.evaluate(branch.condition, context) : true;
          if (taken === undefined) return;
          if (taken) {
            this.walk(branch.body, context, scope, prefixes);
            return;
          }
        }
        return;
      case 'Profile':
        this.walkProfile(statement, context, scope);
        return;
      case 'QualifierBlock':
        if (scope.type === 'file') {
          this.report(context, statement.span, 'error', 'resolve/rule-outside-profile', 'rules (and qualifier blocks) must be inside a profile');
          return;
        }
        if (statement.prefix.priority) {
          this.report(context, statement.prefix.priority.span, 'error', 'check/priority-on-block', "priority is not allowed on rule blocks; put 'priority=' on each rule inside");
        }
        this.walk(statement.body, context, scope, [...prefixes, statement.prefix]);
        return;
      case 'SyntaxError':
        return;
      default:
        if (scope.type === 'file') {
          if (statement.kind !== 'UnknownRule' && !this.outsideReported.has(context.file.path)) {
            this.outsideReported.add(context.file.path);
            this.report(context, statement.span, 'error', 'resolve/rule-outside-profile', `rule '${abbreviate(statement.text)}' is outside any profile; rules must be inside a profile's { }`);
          }
          return;
        }
        scope.profile.items.push({ ast: statement, prefixes, context });
    }
  }

  walkAbi(statement: Ast.Abi, context: FileContext): void {
    if (statement.form === 'magic' && (statement.path === 'kernel' || statement.path === 'default')) return;
    if (!statement.path.trim()) {
      this.report(context, statement.span, 'error', 'resolve/empty-abi', "abi needs a features file name: 'abi <abi/4.0>,'");
      return;
    }
    const found = lookupInclude(statement.path, statement.form, this.includePaths, this.options.workingDirectory, this.options.reader);
    if (!found.found || found.files.length !== 1) {
      this.report(context, statement.span, 'error', 'resolve/abi-not-found', `Could not open '${statement.path}': the abi file was not found`, this.searchHint(statement.form));
      return;
    }
    this.abi ??= found.files[0];
  }

  searchHint(form: Ast.IncludeForm): string {
    return form === 'magic'
      ? `searched ${this.includePaths.join(', ')} (add directories with -I)`
      : `quoted and bare paths are relative to the working directory ${this.options.workingDirectory}`;
  }

  walkInclude(statement: Ast.Include, context: FileContext, scope: Scope, prefixes: readonly Ast.RulePrefix[]): void {
    if (!statement.path) {
      this.report(context, statement.span, 'error', 'resolve/empty-include', 'include needs a file or directory name');
      return;
    }
    const found = lookupInclude(statement.path, statement.form, this.includePaths, this.options.workingDirectory, this.options.reader);
    if (!found.found) {
      if (!statement.ifExists) {
        this.report(context, statement.span, 'error', 'resolve/include-not-found', `Could not open '${statement.path}'`, this.searchHint(statement.form));
      }
      return;
    }
    const included = scope.type === 'file' ? scope.included : scope.profile.included;
    const at = locationOf(context, statement.span);
    for (const path of found.files) {
      if (included.has(path)) continue; // a second include of the same file in one profile is a no-op
      if (context.stack.includes(path)) {
        this.report(context, statement.span, 'error', 'resolve/include-cycle', `include loop: '${statement.path}' includes itself through ${context.stack.map((p) => posix.basename(p)).join(' → ')}`);
        continue;
      }
      if (context.stack.length >= MAX_INCLUDE_DEPTH) {
        this.report(context, statement.span, 'error', 'resolve/include-too-deep', `includes nest more than ${MAX_INCLUDE_DEPTH} levels deep`);
        return;
      }
      included.add(path);
      const file = this.load(path, this.displayPath(path), undefined, [...context.chain, at]);
      if (!file) {
        this.report(context, statement.span, 'error', 'resolve/include-unreadable', `Could not open '${path}': the file cannot be read`);
        continue;
      }
      this.walk(file.policy.items, { file, chain: [...context.chain, at], stack: [...context.stack, path] }, scope, prefixes);
    }
  }

  walkProfile(statement: Ast.Profile, context: FileContext, scope: Scope): void {
    if (scope.type === 'file') {
      const pending: PendingProfile = { ast: statement, context, kind: statement.isHat ? 'hat' : 'profile', items: [], children: [], included: new Set() };
      const name = statement.name?.value ?? '';
      if (statement.isHat) {
        if (!hierarchical(name)) {
          this.report(context, statement.span, 'error', 'resolve/hat-outside-profile', `hat '${name}' is outside any profile; write it inside its profile or as 'hat PARENT//${name} {'`);
          return;
        }
        this.attachLater.push(pending);
      } else {
        this.topLevel.push(pending);
      }
      this.walk(statement.body, context, { type: 'profile', profile: pending }, []);
      return;
    }
    const parent = scope.profile;
    let depth = 0;
    for (let p: PendingProfile | undefined = parent; p; p = p.parent) depth++;
    if (depth >= MAX_PROFILE_DEPTH) {
      this.report(context, statement.span, 'error', 'resolve/profiles-too-deep', `hats and child profiles nest more than ${MAX_PROFILE_DEPTH} levels deep`);
      return;
    }
    if (statement.form === 'path') {
      this.report(context, statement.span, 'error', 'resolve/profile-in-profile', `'${statement.name?.value ?? ''} {' inside a profile: child profiles need the 'profile' keyword and hats '^' or 'hat'`);
      return;
    }
    const kind: ProfileKind = statement.isHat ? 'hat' : 'child';
    const pending: PendingProfile = { ast: statement, context, kind, parent, items: [], children: [], included: new Set() };
    parent.children.push(pending);
    this.walk(statement.body, context, { type: 'profile', profile: pending }, []);
  }

  evaluate(expression: Ast.Expression, context: FileContext): boolean | undefined {
    const converted = convertExpression(expression);
    if ('problem' in converted) {
      this.report(context, expression.span, 'error', 'resolve/bad-condition', converted.problem);
      return undefined;
    }
    const value = evaluateCondition(converted, this.variables);
    if (typeof value !== 'boolean') {
      this.reportProblem(context, expression.span, value);
      return undefined;
    }
    return value;
  }

  // ---- expansion ----------------------------------------------------------------------------

  finish(): ResolvedPolicy {
    for (const pending of this.attachLater) {
      const name = pending.ast.name?.value ?? '';
      const cut = name.lastIndexOf('//');
      const parentName = name.slice(0, cut);
      const parent = this.topLevel.find((p) => (p.ast.name?.value ?? '') === parentName);
      if (!parent) {
        this.report(pending.context, pending.ast.span, 'error', 'resolve/unknown-parent-profile', `profile '${parentName}' (the parent of hat '${name}') is not defined in this policy`);
        continue;
      }
      parent.children.push({ ...pending, parent });
    }
    // `profile parent//child {` at file level becomes a child of `parent` when that profile exists
    // here; otherwise it stays a profile with the hierarchical name (apparmor_parser accepts both).
    const topLevel = this.topLevel.filter((pending) => {
      const name = pending.ast.name?.value ?? '';
      if (pending.ast.form !== 'profile' || !hierarchical(name)) return true;
      const parentName = name.slice(0, name.lastIndexOf('//'));
      const parent = this.topLevel.find((p) => p !== pending && (p.ast.name?.value ?? '') === parentName);
      if (!parent) return true;
      parent.children.push({ ...pending, kind: 'child', parent });
      return false;
    });
    const profiles = topLevel.map((p) => this.buildProfile(p, undefined));
    this.checkDuplicateNames(profiles, topLevel);
    const variables: ResolvedVariable[] = [
      ...this.variables.setEntries().map((v) => ({ kind: 'set' as const, name: v.name, values: v.values, source: v.origin as RuleRef })),
      ...this.variables.booleanEntries().map((b) => ({ kind: 'boolean' as const, name: b.name, value: b.value, source: b.origin as RuleRef })),
    ];
    return { profiles, files: this.files, ...(this.abi ? { abi: this.abi } : {}), variables };
  }

  checkDuplicateNames(profiles: readonly ResolvedProfile[], pending: readonly PendingProfile[]): void {
    const seen = new Map<string, number>();
    profiles.forEach((profile, i) => {
      const key = profile.name.replace(/^:([^:]*):/, ':$1:');
      if (seen.has(key)) {
        const p = pending[i]!;
        const what = profile.kind === 'hat' ? 'hat' : profile.kind === 'child' ? 'child profile' : 'profile';
        this.report(p.context, p.ast.name?.span ?? p.ast.span, 'error', 'check/duplicate-profile', `${what} '${profile.name}' is defined more than once`);
      } else {
        seen.set(key, i);
      }
    });
  }

  buildProfile(pending: PendingProfile, parent: ResolvedProfile | undefined): ResolvedProfile {
    const { ast, context } = pending;
    let localName = ast.unescapedName ?? ast.name?.value ?? '';
    if (ast.name && /@\{/.test(ast.name.value)) {
      const expanded = this.variables.expand(ast.name.value);
      if (typeof expanded === 'string') localName = expanded;
      else this.reportProblem(context, ast.name.span, expanded.code === 'resolve/undefined-variable' && /profile_name/.test(expanded.message)
        ? { ...expanded, message: '@{profile_name} cannot be used in a profile name' } : expanded);
    }
    const written = ast.name?.value ?? '';
    const parentWritten = pending.parent?.ast.name?.value;
    if (parent && parentWritten !== undefined && written.startsWith(`${parentWritten}//`)) {
      localName = localName.slice(localName.lastIndexOf('//') + 2);
    }
    const name = parent ? hatLabel(parent.name, localName) : fullTopName(pending, localName);
    const builtins: BuiltinValues = { profile_name: escapeProfileName(name.replace(/^:[^:]*:/, '')) };
    let attachment: string | undefined;
    if (ast.attachment) {
      const expanded = this.expandWord(ast.attachment.value, builtins, context, ast.attachment.span);
      if (expanded !== undefined) attachment = filterSlashes(expanded);
    } else if (ast.form === 'path' && localName.startsWith('/')) {
      attachment = localName;
    } else if (pending.kind !== 'hat' && ast.form === 'profile' && localName.startsWith('/')) {
      attachment = localName;
    }
    const attachPath = attachment;
    if (attachment !== undefined) {
      // An alias also covers the attachment (apparmor_parser rewrites both), as an alternation.
      const aliased = this.aliases.filter((a) => attachment!.startsWith(a.from)).map((a) => filterSlashes(a.to + attachment!.slice(a.from.length)));
      if (aliased.length) attachment = `{${[attachment, ...aliased].join(',')}}`;
    }
    const withAttach: BuiltinValues = attachPath !== undefined ? { ...builtins, attach_path: attachPath, exec_path: attachPath } : builtins;
    const xattrs: Record<string, string> = {};
    for (const x of ast.xattrs) xattrs[x.name] = x.values.map((v) => v.value).join(' ');
    const flags = ast.flags.map((f) => f.value);
    const mode = (flags.find((f) => ['enforce', 'complain', 'kill', 'unconfined', 'default_allow', 'prompt'].includes(f)) ?? 'enforce') as ResolvedProfile['mode'];
    const rules: ResolvedRule[] = [];
    const children: ResolvedProfile[] = [];
    const profile: ResolvedProfile = {
      name, localName, kind: pending.kind, ...(attachment !== undefined ? { attachment } : {}), xattrs, flags, mode, rules, children,
      source: ruleRef(context, ast.span),
    };
    for (const item of pending.items) rules.push(...this.buildRules(item, withAttach));
    for (const child of pending.children) children.push(this.buildProfile(child, profile));
    this.checkDuplicateNames(children, pending.children);
    return profile;
  }

  expandWord(text: string, builtins: BuiltinValues, context: FileContext, span: Ast.Span): string | undefined {
    const expanded = this.variables.expand(text, builtins);
    if (typeof expanded === 'string') return expanded;
    this.reportProblem(context, span, expanded);
    return undefined;
  }

  buildRules(item: PendingRule, builtins: BuiltinValues): ResolvedRule[] {
    const { ast, context } = item;
    const prefix = mergePrefixes(item.prefixes, ast.prefix);
    const source = ruleRef(context, ast.span);
    const base = { prefix, source };
    const expand = (word: Ast.Word | undefined, path: boolean): string | undefined => {
      if (!word) return undefined;
      const value = this.expandWord(word.value, builtins, context, word.span);
      return value === undefined ? undefined : path ? filterSlashes(value) : value;
    };
    switch (ast.kind) {
      case 'FileRule': {
        const isDeny = prefix.decision === 'deny';
        if (ast.bare) {
          // `file,` is every file permission on every path, exec included as `ix` (apparmor_parser
          // compiles it to `/{**,} rwlkmix`, so it conflicts with a glob Px like any other rule).
          const exec = isDeny ? { transition: 'deny' as const, safe: false, text: 'x' } : { transition: 'inherit' as const, safe: false, text: 'ix' };
          return [{ class: 'file', ...base, pattern: '/{**,}', permissions: new Set(['r', 'w', 'l', 'k', 'm', 'x'] as const), exec }];
        }
        const mode = parseFileMode(ast.permissions, isDeny, ast.safety);
        if ('code' in mode) {
          this.report(context, ast.permissionWords[0]?.span ?? ast.span, 'error', mode.code, mode.message);
          return [];
        }
        for (const letter of mode.deprecated) {
          this.report(context, ast.permissionWords[0]?.span ?? ast.span, 'warning', 'check/deprecated-permission', `uppercase permission '${letter}' is deprecated; write '${letter.toLowerCase()}'${letter === 'X' ? ' with an exec qualifier' : ''}`);
        }
        if (!ast.path) {
          this.report(context, ast.span, 'error', 'check/missing-path', `file rule '${abbreviate(ast.text)}' has no path`, "write 'file PATH PERMS,' or bare 'file,'");
          return [];
        }
        const pattern = expand(ast.path, true);
        if (pattern === undefined) return [];
        const execTarget = ast.target ? this.expandWord(ast.target.value, builtins, context, ast.target.span) : undefined;
        const rules: ResolvedRule[] = [];
        const rule: ResolvedRule = {
          class: 'file', ...base, pattern, permissions: mode.permissions,
          ...(mode.exec ? { exec: mode.exec } : {}), ...(execTarget !== undefined ? { execTarget } : {}),
        };
        rules.push(rule);
        for (const alias of this.aliases) {
          if (pattern.startsWith(alias.from)) rules.push({ ...rule, pattern: filterSlashes(alias.to + pattern.slice(alias.from.length)), fromAlias: true });
        }
        return rules;
      }
      case 'LinkRule': {
        const pattern = expand(ast.link, true);
        const target = expand(ast.target, true);
        if (pattern === undefined || target === undefined) return [];
        return [{ class: 'link', ...base, pattern, target, subset: ast.subset }];
      }
      case 'CapabilityRule':
        return [{ class: 'capability', ...base, names: ast.capabilities.map((w) => w.value) }];
      case 'ChangeProfileRule': {
        const execCondition = ast.exec ? expand(ast.exec, true) : undefined;
        const target = ast.target ? expand(ast.target, false) : '**';
        if ((ast.exec && execCondition === undefined) || target === undefined) return [];
        return [{ class: 'change_profile', ...base, ...(execCondition !== undefined ? { execCondition } : {}), ...(ast.safety ? { safety: ast.safety } : {}), target }];
      }
      case 'RlimitRule':
        return [{ class: 'rlimit', ...base, resource: ast.resource?.value ?? '', value: ast.value?.value ?? '' }];
      case 'UnknownRule':
        return [];
      case 'AllRule':
        return [{ class: 'all', ...base, access: [], words: [], conditions: {} }];
      default: {
        const cls = CLASS_OF[ast.kind]!;
        const conditions: Record<string, string[]> = {};
        const add = (key: string, condition: Ast.Condition) => {
          const values: string[] = [];
          for (const value of condition.values) {
            const expanded = expand(value, PATH_CONDITIONS.has(`${cls}.${key}`));
            if (expanded !== undefined) values.push(expanded);
          }
          (conditions[key] ??= []).push(...values);
        };
        for (const condition of ast.conditions) {
          if (condition.conditions.length) for (const inner of condition.conditions) add(`${condition.name}.${inner.name}`, inner);
          else add(condition.name, condition);
        }
        const words: string[] = [];
        for (const word of ast.words) {
          const expanded = expand(word, PATH_WORD_CLASSES.has(cls));
          if (expanded !== undefined) words.push(expanded);
        }
        const target = ast.target ? expand(ast.target, cls !== 'pivot_root') : undefined;
        return [{ class: cls, ...base, access: ast.access.map((w) => w.value), words, conditions, ...(target !== undefined ? { target } : {}) }];
      }
    }
  }
}

const CLASS_OF: Readonly<Record<string, 'network' | 'unix' | 'dbus' | 'signal' | 'ptrace' | 'mount' | 'remount' | 'umount' | 'pivot_root' | 'userns' | 'io_uring' | 'mqueue'>> = {
  NetworkRule: 'network', UnixRule: 'unix', DbusRule: 'dbus', SignalRule: 'signal', PtraceRule: 'ptrace', MountRule: 'mount',
  RemountRule: 'remount', UmountRule: 'umount', PivotRootRule: 'pivot_root', UserNsRule: 'userns', IoUringRule: 'io_uring',
  MqueueRule: 'mqueue',
};
const PATH_WORD_CLASSES = new Set(['mount', 'remount', 'umount', 'pivot_root']);
const PATH_CONDITIONS = new Set(['dbus.path', 'unix.addr', 'unix.peer.addr', 'pivot_root.oldroot']);

function hierarchical(name: string): boolean {
  return name.includes('//');
}

function fullTopName(pending: PendingProfile, localName: string): string {
  const name = pending.ast.name?.value ?? localName;
  return hierarchical(name) ? name : localName;
}

function displayName(context: FileContext): string {
  return context.file.display;
}

function locationOf(context: FileContext, span: Ast.Span): SourceLocation {
  const { line, col } = context.file.lines.location(span.offset);
  return { file: displayName(context), line, col };
}

function ruleRef(context: FileContext, span: Ast.Span): RuleRef {
  const { line, col } = context.file.lines.location(span.offset);
  return { file: displayName(context), line, col, offset: span.offset, length: span.length, includeChain: context.chain };
}

function abbreviate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}

/** Block prefixes apply to every inner rule; the rule's own words are added on top. */
export function mergePrefixes(outer: readonly Ast.RulePrefix[], own: Ast.RulePrefix): ResolvedRulePrefix {
  let audit = false;
  let decision: RuleDecision = 'allow';
  let owner: OwnerScope = 'any';
  let priority = 0;
  for (const p of [...outer, own]) {
    if (p.audit) audit = true;
    if (p.access) decision = p.access;
    if (p.owner) owner = p.owner === 'other' ? 'other' : 'owner';
    if (p.priority?.value !== undefined) priority = p.priority.value;
  }
  return { audit, decision, owner, priority };
}

/** The model's expression AST → the evaluator's; bare operands are not conditions. */
function convertExpression(expression: Ast.Expression): ConditionExpression | { problem: string } {
  switch (expression.kind) {
    case 'BooleanLiteral': return { kind: 'literal', value: expression.value };
    case 'BooleanVariable': return { kind: 'boolean', name: expression.name };
    case 'Defined': return { kind: 'defined', target: expression.variable.type, name: expression.variable.name };
    case 'Not': {
      const operand = convertExpression(expression.operand);
      return 'problem' in operand ? operand : { kind: 'not', operand };
    }
    case 'And': case 'Or': {
      const left = convertExpression(expression.left);
      if ('problem' in left) return left;
      const right = convertExpression(expression.right);
      if ('problem' in right) return right;
      return { kind: expression.kind === 'And' ? 'and' : 'or', left, right };
    }
    case 'Compare': {
      const text = (o: Ast.Operand) => (o.kind === 'SetVariable' ? `@{${o.name}}` : o.word.value);
      return { kind: 'compare', operator: expression.operator, left: text(expression.left), right: text(expression.right) };
    }
    case 'Operand':
      return { problem: `'${expression.operand.kind === 'SetVariable' ? expression.operand.raw : expression.operand.word.raw}' is not a condition: use a boolean ($name), 'defined @{name}' or a comparison` };
    case 'InvalidExpression':
      return { problem: `'${expression.raw}' is not a valid condition` };
  }
}

/** Resolve one policy file and everything it includes. */
export function resolvePolicy(file: string, options: ResolveOptions): ResolveResult {
  const resolver = new Resolver(options);
  resolver.relativeDisplay = !file.startsWith('/');
  const path = file === '-' ? posix.join(options.workingDirectory, '<stdin>') : posix.resolve(options.workingDirectory, file);
  const parsed = resolver.load(path, file, options.bytes);
  if (!parsed) {
    const diagnostic: Diagnostic = { file, line: 1, col: 1, severity: 'error', code: 'resolve/unreadable-input', message: `cannot read '${file}'` };
    return { policy: { profiles: [], files: [], variables: [] }, diagnostics: [diagnostic], unreadable: true, files: new Map() };
  }
  const context: FileContext = { file: parsed, chain: [], stack: [path] };
  const scope: Scope = { type: 'file', included: new Set([path]) };
  resolver.walk(parsed.policy.items, context, scope, []);
  const policy = resolver.finish();
  return { policy, diagnostics: resolver.diagnostics, unreadable: false, files: resolver.parsed };
}
