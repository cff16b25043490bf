// checkPolicy: resolve a policy, then everything apparmor_parser rejects (policy-language.md §11):
// names and words per class, prefixes, AARE syntax, exec-mode conflicts, profile names and flags,
// and what the target kernel's feature set cannot enforce.
import type { Diagnostic, Severity } from '../diagnostic/index.js';
import { compilePattern, formatWitness, intersect, isEmpty, isExact, parseAare, type Automaton } from '../aare/index.js';
import type * as Ast from '../model/index.js';
import {
  escapeProfileName, indexSyntax, resolvePolicy, sameExec, VariableTable, type ParsedFile, type ResolveOptions,
  type ResolvedFileRule, type ResolvedPolicy, type ResolvedProfile, type ResolvedRule, type RuleRef, type SyntaxIndex,
} from '../resolve/index.js';
import { ALL_FEATURES, type FeatureSet } from './features.js';
import { checkCapabilityNames, checkFlags, checkRlimit, checkRuleFacts, type ConditionFact, type RuleProblem } from './rules.js';
import { escapeControlCharacters } from '../syntax/index.js';

export interface CheckOptions extends ResolveOptions {
  /** The kernel feature set to check against; default: the newest policy language. */
  readonly features?: FeatureSet;
}

export interface CheckResult {
  /** True when no diagnostic is an error. */
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly policy: ResolvedPolicy;
  /** The input itself could not be read. */
  readonly unreadable: boolean;
}

/** Classes whose rules may carry `owner`/`other`. */
const OWNER_CLASSES = new Set(['file', 'link']);
const PREFIX_RANK: Readonly<Record<string, number>> = { priority: 0, audit: 1, allow: 2, deny: 2, prompt: 2, owner: 3, user: 3, other: 3 };

/** What the check pass reads: the resolved policy and the parsed files its origins point into. */
export interface CheckInput {
  readonly resolved: ResolvedPolicy;
  readonly files: ReadonlyMap<string, ParsedFile>;
}

/**
 * The check pass over a loaded policy (see loadPolicy): everything apparmor_parser rejects that
 * resolution let through. Returns only the checker's own diagnostics.
 *
 * Given a file name instead, it resolves that file first and returns resolution's and the checker's
 * diagnostics together, as `hatter check` reports them.
 */
export function checkPolicy(input: CheckInput, options?: { readonly features?: FeatureSet }): Diagnostic[];
export function checkPolicy(file: string, options: CheckOptions): CheckResult;
export function checkPolicy(input: CheckInput | string, options: { readonly features?: FeatureSet } | CheckOptions = {}): Diagnostic[] | CheckResult {
  if (typeof input !== 'string') {
    const checker = new Checker(options.features ?? ALL_FEATURES, input);
    for (const profile of input.resolved.profiles) checker.checkProfile(profile, true);
    return checker.diagnostics;
  }
  const resolved = resolvePolicy(input, options as CheckOptions);
  const own = resolved.unreadable ? [] : checkPolicy({ resolved: resolved.policy, files: resolved.files }, options);
  const diagnostics = dedupeDiagnostics([...resolved.diagnostics, ...own]);
  return { ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics, policy: resolved.policy, unreadable: resolved.unreadable };
}

/** The same finding reached through two paths (an abstraction included twice) is reported once. */
export function dedupeDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}:${(d.includeChain ?? []).map((c) => `${c.file}:${c.line}`).join('>')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A rule's syntax and file, looked up from its origin, and the variables to expand more of it. */
interface RuleOrigin {
  readonly ast: Ast.Rule;
  readonly file: ParsedFile;
  readonly expand: (text: string) => string | { readonly code: string; readonly message: string };
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  private readonly automata = new Map<string, Automaton | undefined>();
  private readonly indexes = new Map<ParsedFile, SyntaxIndex>();
  private readonly variables: VariableTable;

  constructor(readonly features: FeatureSet, readonly input: CheckInput) {
    const sets = (input.resolved.variables ?? []).flatMap((v) => (v.kind === 'set' ? [v] : []));
    this.variables = VariableTable.fromValues(sets);
  }

  private syntaxOf(file: ParsedFile): SyntaxIndex {
    let index = this.indexes.get(file);
    if (!index) { index = indexSyntax(file); this.indexes.set(file, index); }
    return index;
  }

  profileOrigin(profile: ResolvedProfile): { ast: Ast.Profile; file: ParsedFile } | undefined {
    const file = this.input.files.get(profile.source.file);
    const ast = file && this.syntaxOf(file).profile(profile.source.offset);
    return file && ast ? { ast, file } : undefined;
  }

  ruleOrigin(rule: ResolvedRule, profile: ResolvedProfile): RuleOrigin | undefined {
    const file = this.input.files.get(rule.source.file);
    const ast = file && this.syntaxOf(file).rule(rule.source.offset);
    if (!file || !ast) return undefined;
    const builtins = {
      profile_name: escapeProfileName(profile.name.replace(/^:[^:]*:/, '')),
      ...(profile.attachment !== undefined ? { attach_path: profile.attachment, exec_path: profile.attachment } : {}),
    };
    return { ast, file, expand: (text) => this.variables.expand(text, builtins) };
  }

  at(ref: RuleRef, file: ParsedFile | undefined, span: { offset: number; length: number } | undefined, severity: Severity, problem: RuleProblem): void {
    let line = ref.line;
    let col = ref.col;
    if (file && span) ({ line, col } = file.lines.location(span.offset));
    this.diagnostics.push({
      file: ref.file, line, col, offset: span?.offset ?? ref.offset, length: span?.length ?? ref.length, severity,
      code: problem.code, message: escapeControlCharacters(problem.message),
      ...(problem.hint ? { hint: escapeControlCharacters(problem.hint) } : {}),
      ...(ref.includeChain.length ? { includeChain: ref.includeChain } : {}),
    });
  }

  checkProfile(profile: ResolvedProfile, topLevel: boolean): void {
    const origin = this.profileOrigin(profile);
    const ast = origin?.ast;
    const report = (span: Ast.Span | undefined, problem: RuleProblem, severity: Severity = 'error') => this.at(profile.source, origin?.file, span, severity, problem);
    if (ast) {
      const expandFlag = (text: string) => {
        const expanded = profile.rules.length ? this.ruleOrigin(profile.rules[0]!, profile)?.expand(text) : undefined;
        return typeof expanded === 'string' ? expanded : text.replace(/^@\{[^}]*\}/, '');
      };
      for (const problem of checkFlags(profile.flags, profile.kind === 'hat', expandFlag)) {
        const at = ast.flags.find((f) => f.value === problem.word) ?? ast.flags[0];
        report(at?.span ?? ast.span, problem);
      }
      if (ast.xattrs.length && ast.flags.length && ast.xattrs[0]!.span.offset > ast.flags[0]!.span.offset) {
        report(ast.xattrs[0]!.span, { code: 'check/xattrs-after-flags', message: 'xattrs=(…) must come before flags=(…) in a profile header' });
      }
      for (const identity of ast.identities) {
        if ((/\s/.test(identity.value) && !identity.value.startsWith('/')) || identity.value === '') report(identity.span, { code: 'check/bad-identity', message: `'${identity.raw}' is not a valid identity` });
      }
      const header = (ast.syntax?.text?.() ?? '').split('{', 1)[0]!;
      if (ast.flags.length === 0 && /flags\s*=\s*\(\s*\)|\(\s*\)\s*$/.test(header)) {
        report(ast.span, { code: 'check/empty-flags', message: 'flags=() is empty: remove it or name at least one flag' });
      }
      if (profile.kind === 'hat' && ast.xattrs.length) report(ast.xattrs[0]!.span, { code: 'check/xattrs-on-hat', message: `hat '${profile.localName}' cannot have xattrs: hats are entered by change_hat, not by exec` });
      if (ast.form === 'path' && topLevel) this.checkPathName(profile, ast, report);
      if (ast.form === 'profile' || ast.form === 'hat') this.checkNamespace(profile.localName, ast, report);
    }
    for (const rule of profile.rules) this.checkRule(rule, profile);
    this.checkExecConflicts(profile);
    this.checkChangeProfileConflicts(profile);
    for (const child of profile.children) this.checkProfile(child, false);
  }

  checkPathName(profile: ResolvedProfile, ast: Ast.Profile, report: (span: Ast.Span | undefined, p: RuleProblem) => void): void {
    const name = profile.localName;
    if (name.startsWith(':')) { this.checkNamespace(name, ast, report); return; }
    if (!name.startsWith('/')) {
      report(ast.name?.span ?? ast.span, { code: 'check/bad-profile-name', message: `profile name '${name}' must begin with '/', a namespace (:ns:name) or the keyword 'profile' or 'hat'`, hint: `write 'profile ${name} {'` });
    }
  }

  checkNamespace(name: string, ast: Ast.Profile, report: (span: Ast.Span | undefined, p: RuleProblem) => void): void {
    if (!name.startsWith(':')) return;
    const end = name.indexOf(':', 1);
    if (end < 0) { report(ast.name?.span ?? ast.span, { code: 'check/bad-namespace', message: `namespace in '${name}' is not terminated: write ':ns:name'` }); return; }
    if (end === 1) { report(ast.name?.span ?? ast.span, { code: 'check/bad-namespace', message: `empty namespace in '${name}'` }); return; }
    const rest = name.slice(end + 1).replace(/^\/\//, '');
    if (!rest) report(ast.name?.span ?? ast.span, { code: 'check/bad-namespace', message: `'${name}' names a namespace but no profile in it` });
  }

  checkRule(rule: ResolvedRule, profile: ResolvedProfile): void {
    const origin = this.ruleOrigin(rule, profile);
    if (!origin) return;
    const { ast, file } = origin;
    if ('fromAlias' in rule && rule.fromAlias) return;
    const report = (problem: RuleProblem, span?: Ast.Span, severity: Severity = 'error') => this.at(rule.source, file, span, severity, problem);
    this.checkPrefix(rule, ast, report);
    if (!this.features.supportsClass(rule.class) && rule.class !== 'all') {
      report({ code: 'check/unsupported-by-features', message: `${rule.class} rules are not supported by the feature set '${this.features.name}'; the kernel will not enforce this rule` }, undefined, 'warning');
    }
    switch (rule.class) {
      case 'file': this.checkFileRule(rule, origin, report); break;
      case 'link':
        if (ast.kind === 'LinkRule') {
          for (const extra of ast.extra) report({ code: 'check/unexpected-word', message: `unexpected '${extra.value}' in link rule` }, extra.span);
          if (!ast.link || !ast.target) report({ code: 'check/incomplete-link', message: "a link rule needs 'link LINK -> TARGET'" });
        }
        this.checkPattern(rule.pattern, 'path', rule, origin, 'link');
        this.checkPattern(rule.target, 'path', rule, origin, 'link target');
        break;
      case 'capability':
        if (ast.kind === 'CapabilityRule') {
          const written = ruleBodyWords(ast.text).slice(1);
          if (written.length > ast.capabilities.length) {
            const stray = written.filter((w) => !ast.capabilities.some((c) => c.raw === w));
            if (stray.length) report({ code: 'check/unexpected-word', message: `unexpected '${stray.join(' ')}' in capability rule: it takes only capability names` });
          }
          ast.capabilities.forEach((word) => {
            const problems = checkCapabilityNames([word.value]);
            for (const problem of problems) report(problem, word.span);
            if (!problems.length && this.features.has('caps/mask') && !this.features.lists('caps/mask', word.value)) {
              report({ code: 'check/unsupported-by-features', message: `capability ${word.value} is not known to the feature set '${this.features.name}'; that kernel will not mediate it` }, word.span, 'warning');
            }
          });
        }
        break;
      case 'rlimit':
        if (ast.kind === 'RlimitRule') {
          for (const extra of ast.extra) report({ code: 'check/unexpected-word', message: `unexpected '${extra.value}' in rlimit rule` }, extra.span);
          if (!ast.resource || !ast.value) report({ code: 'check/incomplete-rlimit', message: "an rlimit rule is 'set rlimit NAME <= VALUE,'" });
          else for (const problem of checkRlimit(ast.resource.value, ast.value.value)) report(problem, ast.value.span);
        }
        break;
      case 'change_profile': this.checkChangeProfile(rule, origin, report); break;
      default: {
        if (!('access' in rule)) break;
        if (ast.kind === 'AllRule') {
          if (ruleBodyWords(ast.text).length > 1) report({ code: 'check/all-takes-nothing', message: "'all' takes no access list or conditions: write 'all,'" });
          break;
        }
        const classAst = ast as Ast.NetworkRule;
        for (const problem of structuralProblems(classAst, file.text)) report(problem);
        if (rule.class === 'mount' || rule.class === 'remount' || rule.class === 'umount') {
          const keyword = classAst.words.find((w) => ['options', 'fstype', 'vfstype', 'in'].includes(w.value));
          if (keyword) report({ code: 'check/in-needs-list', message: `'${keyword.value}' here is not a condition: write 'options=(a b)' or 'options in (a b)' with parentheses` }, keyword.span);
        }
        const vocabulary = ACCESS_IN_WORDS[rule.class];
        const movedAccess = vocabulary ? rule.words.filter((w) => vocabulary.includes(w)) : [];
        const facts = {
          class: rule.class,
          access: [...rule.access, ...movedAccess],
          words: rule.words.filter((w) => !movedAccess.includes(w)),
          conditions: flattenConditions(classAst.conditions ?? [], origin),
          ...(rule.target !== undefined ? { target: rule.target } : {}),
        };
        for (const problem of checkRuleFacts(facts)) report(problem, problem.word !== undefined ? wordSpan(classAst, problem.word) : undefined, problem.severity ?? 'error');
        this.checkClassPatterns(rule, origin);
      }
    }
  }

  checkPrefix(rule: ResolvedRule, ast: Ast.Rule, report: (p: RuleProblem, span?: Ast.Span, severity?: Severity) => void): void {
    const keywords = ast.prefix.keywords;
    let rank = -1;
    const decisions = keywords.filter((k) => k === 'allow' || k === 'deny' || k === 'prompt');
    if (decisions.length > 1) report({ code: 'check/conflicting-prefix', message: `'${decisions.join(' ')}': a rule is either allow, deny or prompt` }, ast.prefix.span);
    else {
      for (const keyword of keywords) {
        const r = PREFIX_RANK[keyword.replace(/=.*/, '')] ?? -1;
        if (r <= rank) {
          report({ code: 'check/prefix-order', message: `rule prefixes must come in the order priority=, audit, allow/deny/prompt, owner/other ('${keywords.join(' ')}')` }, ast.prefix.span);
          break;
        }
        rank = r;
      }
    }
    if (rule.prefix.owner !== 'any' && !OWNER_CLASSES.has(rule.class)) {
      report({ code: 'check/owner-not-allowed', message: `'${rule.prefix.owner}' is not allowed on ${rule.class} rules; owner/other apply to file and link rules only` }, ast.prefix.span);
    }
    const priority = ast.prefix.priority;
    if (priority && (priority.value === undefined || !Number.isInteger(priority.value) || priority.value < -1000 || priority.value > 1000)) {
      report({ code: 'check/priority-range', message: `priority '${priority.raw}' must be an integer from -1000 to 1000` }, priority.span);
    }
  }

  checkFileRule(rule: ResolvedFileRule, origin: RuleOrigin, report: (p: RuleProblem, span?: Ast.Span, severity?: Severity) => void): void {
    const ast = origin.ast;
    if (ast.kind !== 'FileRule') return;
    for (const extra of ast.extra) report({ code: 'check/unexpected-word', message: `unexpected '${extra.value}' in file rule` }, extra.span);
    if (ast.bare) return;
    if (!ast.path) { report({ code: 'check/missing-path', message: 'file rule without a path' }); return; }
    if (!ast.permissions) { report({ code: 'check/missing-permissions', message: `file rule for '${ast.path.value}' has no permissions (r, w, a, l, k, m, ix, px …)` }, ast.path.span); return; }
    const raw = ast.path.value;
    if (!raw.startsWith('/') && !raw.startsWith('@{') && !raw.startsWith('"/') && !raw.startsWith('{')) {
      report({ code: 'check/relative-path', message: `'${raw}' is not an absolute path: file rules need a path starting with '/' or a variable` }, ast.path.span);
      return;
    }
    if (ast.target) {
      const exec = rule.exec;
      if (rule.permissions.has('l')) {
        // `PATH l -> TARGET` is a link rule; an exec mode may ride along, but not in the leading form.
        if (ast.leadingPermissions && exec) report({ code: 'check/link-with-exec', message: `the leading link form '${ast.permissions} PATH -> TARGET' cannot carry the exec mode '${exec.text}'; write 'link PATH -> TARGET,' and a separate exec rule` }, ast.target.span);
      } else if (!exec) {
        report({ code: 'check/target-without-exec', message: "'-> TARGET' needs an exec mode with a profile transition (px, cx, pix …) or a link permission" }, ast.target.span);
      } else if (exec.transition !== 'profile' && exec.transition !== 'child') {
        // apparmor_parser accepts a named target on ix/ux (it loads on a real kernel: test/kernel), so
        // this is a warning: the transition never looks the target up.
        report({ code: 'check/target-ignored', message: `'-> ${ast.target.value}' has no effect with '${exec.text}': only px and cx transitions look a target up` }, ast.target.span, 'warning');
      }

    }
    this.checkPattern(rule.pattern, 'path', rule, origin, 'path', ast.path);
  }

  checkChangeProfile(rule: Extract<ResolvedRule, { class: 'change_profile' }>, origin: RuleOrigin, report: (p: RuleProblem, span?: Ast.Span, severity?: Severity) => void): void {
    const ast = origin.ast;
    if (ast.kind !== 'ChangeProfileRule') return;
    for (const extra of ast.extra) report({ code: 'check/unexpected-word', message: `unexpected '${extra.value}' in change_profile rule` }, extra.span);
    if (ast.safety && !ast.exec) {
      report({ code: 'check/safety-without-exec', message: `'${ast.safety}' needs an exec condition: 'change_profile ${ast.safety} /path/to/exec -> target,'` });
    }
    if (ast.exec) {
      const raw = ast.exec.value;
      if (!raw.startsWith('/') && !raw.startsWith('@{') && !raw.startsWith('"/')) {
        report({ code: 'check/relative-path', message: `the exec condition '${raw}' must be an absolute path (starting with '/' or a variable)` }, ast.exec.span);
      }
      if (rule.execCondition !== undefined) this.checkPattern(rule.execCondition, 'path', rule, origin, 'exec condition');
    }
    if (rule.prefix.audit && rule.prefix.decision === 'allow') {
      report({ code: 'check/audit-ignored', message: "'audit' has no effect on change_profile rules and is dropped" }, ast.prefix.span, 'warning');
    }
    this.checkPattern(rule.target, 'glob_null', rule, origin, 'target');
  }

  checkClassPatterns(rule: Extract<ResolvedRule, { access: readonly string[] }>, origin: RuleOrigin): void {
    for (const [key, values] of Object.entries(rule.conditions)) {
      if (key === 'set' || key === 'options' || key === 'fstype' || key === 'vfstype' || key === 'type' || key === 'protocol' || key === 'ip' || key === 'port' || key.endsWith('.ip') || key.endsWith('.port')) continue;
      for (const value of values) this.checkPattern(value, 'glob_null', rule, origin, `${key}=`);
    }
    if (rule.class === 'mount' || rule.class === 'remount' || rule.class === 'umount' || rule.class === 'pivot_root') {
      for (const word of rule.words) this.checkPattern(word, 'path', rule, origin, 'path');
      if (rule.target !== undefined) this.checkPattern(rule.target, rule.class === 'pivot_root' ? 'glob_null' : 'path', rule, origin, 'target');
    }
  }

  /** AARE syntax: unbalanced braces/brackets, `{a}`, trailing `\`, nesting; reported once per pattern and place. */
  checkPattern(pattern: string, kind: 'path' | 'glob_null', rule: ResolvedRule, origin: RuleOrigin, what: string, word?: Ast.Word): void {
    // Point into the pattern when it was written literally (no variables, nothing filtered).
    const literal = word !== undefined && word.value === pattern;
    for (const d of patternProblems(pattern, kind)) {
      const span = literal ? { file: word!.span.file, offset: word!.span.offset + (word!.quoted ? 1 : 0) + d.at, length: Math.max(1, d.length) } : undefined;
      this.at(rule.source, origin.file, span, d.severity, { code: d.code, message: `${what} '${pattern}': ${d.message}` });
    }
  }

  // ---- exec conflicts (policy-semantics.md §5) --------------------------------------------------

  /** Two change_profile rules for the same exec and target must agree on safe/unsafe (default safe). */
  checkChangeProfileConflicts(profile: ResolvedProfile): void {
    const seen = new Map<string, Extract<ResolvedRule, { class: 'change_profile' }>>();
    for (const rule of profile.rules) {
      if (rule.class !== 'change_profile' || rule.execCondition === undefined || rule.prefix.decision !== 'allow') continue;
      const key = `${rule.execCondition}\0${rule.target}`;
      const other = seen.get(key);
      if (!other) { seen.set(key, rule); continue; }
      if ((other.safety ?? 'safe') !== (rule.safety ?? 'safe')) {
        this.at(rule.source, undefined, undefined, 'error', {
          code: 'check/conflicting-change-profile',
          message: `change_profile ${rule.execCondition} -> ${rule.target} is both ${other.safety ?? 'safe (the default)'} (line ${other.source.line}) and ${rule.safety ?? 'safe (the default)'}`,
        });
      }
    }
  }

  checkExecConflicts(profile: ResolvedProfile): void {
    const execRules = profile.rules.filter((r): r is ResolvedFileRule => r.class === 'file' && r.exec !== undefined && r.prefix.decision === 'allow' && r.exec.transition !== 'deny');
    if (execRules.length < 2) return;
    const exact: ResolvedFileRule[] = [];
    const globs: ResolvedFileRule[] = [];
    for (const rule of execRules) (isExact(rule.pattern) === false ? globs : exact).push(rule);
    // Exact rules: same string, same half, same priority, different mode.
    const byPath = new Map<string, ResolvedFileRule[]>();
    for (const rule of exact) {
      for (const path of literalStrings(rule.pattern)) {
        const list = byPath.get(path) ?? [];
        list.push(rule);
        byPath.set(path, list);
      }
    }
    const reported = new Set<ResolvedFileRule>();
    for (const [path, rules] of byPath) {
      for (let i = 1; i < rules.length; i++) {
        for (let j = 0; j < i; j++) {
          const a = rules[j]!;
          const b = rules[i]!;
          if (!halvesMeet(a, b) || a.prefix.priority !== b.prefix.priority) continue;
          if (sameExec(a.exec!, a.execTarget, b.exec!, b.execTarget)) continue;
          if (reported.has(b)) continue;
          reported.add(b);
          this.conflict(a, b, path);
        }
      }
    }
    // Globs: a conflict exists iff the languages of two rules with different modes intersect.
    for (let i = 1; i < globs.length; i++) {
      for (let j = 0; j < i; j++) {
        const a = globs[j]!;
        const b = globs[i]!;
        if (!halvesMeet(a, b) || a.prefix.priority !== b.prefix.priority) continue;
        if (sameExec(a.exec!, a.execTarget, b.exec!, b.execTarget)) continue;
        if (reported.has(b)) continue;
        if (!prefixesCompatible(a.pattern, b.pattern)) continue;
        const witness = this.overlap(a.pattern, b.pattern);
        if (witness === undefined) continue;
        reported.add(b);
        this.conflict(a, b, witness);
      }
    }
  }

  conflict(a: ResolvedFileRule, b: ResolvedFileRule, example: string): void {
    const mode = (r: ResolvedFileRule) => `${r.exec!.text}${r.execTarget ? ` -> ${r.execTarget}` : ''}`;
    this.at(b.source, undefined, undefined, 'error', {
      code: 'check/conflicting-exec-modes',
      message: `profile has merged rule with conflicting x modifiers: '${b.pattern} ${mode(b)}' and '${a.pattern} ${mode(a)}' (line ${a.source.line}${a.source.file !== b.source.file ? ` of ${a.source.file}` : ''}) both match '${example}'`,
      hint: 'give both rules the same exec mode, make one exact, or separate them with priority=',
    });
  }

  automaton(pattern: string): Automaton | undefined {
    if (this.automata.has(pattern)) return this.automata.get(pattern);
    const compiled = compilePattern(pattern, { kind: 'path', filterSlashes: false, maxStates: 20_000 });
    const automaton = compiled.ok ? compiled.automaton : undefined;
    this.automata.set(pattern, automaton);
    return automaton;
  }

  overlap(a: string, b: string): string | undefined {
    const x = this.automaton(a);
    const y = this.automaton(b);
    if (!x || !y) return undefined;
    try {
      const result = isEmpty(intersect(x, y));
      if (result.empty) return undefined;
      return result.witness ? formatWitness(result.witness) : '(a common path)';
    } catch {
      return undefined;
    }
  }
}

/** `owner` and `other` rules never meet; either meets an unqualified rule. */
function halvesMeet(a: ResolvedFileRule, b: ResolvedFileRule): boolean {
  return a.prefix.owner === 'any' || b.prefix.owner === 'any' || a.prefix.owner === b.prefix.owner;
}

/** The literal strings an exact pattern stands for (alternations expanded, escapes removed), capped. */
function literalStrings(pattern: string): string[] {
  let results = [''];
  const stack: { before: string[]; alternatives: string[][] }[] = [];
  let current = results;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) { current = current.map((s) => s + pattern[++i]); continue; }
    if (ch === '{') { stack.push({ before: current, alternatives: [] }); current = ['']; continue; }
    if (ch === ',' && stack.length) { stack[stack.length - 1]!.alternatives.push(current); current = ['']; continue; }
    if (ch === '}' && stack.length) {
      const frame = stack.pop()!;
      frame.alternatives.push(current);
      const joined: string[] = [];
      for (const b of frame.before) for (const alt of frame.alternatives) for (const a of alt) joined.push(b + a);
      current = joined.length > 4096 ? joined.slice(0, 4096) : joined;
      continue;
    }
    current = current.map((s) => s + ch);
  }
  results = current;
  return results;
}

/** Cheap pre-filter: two globs can overlap only if one literal prefix extends the other. */
function prefixesCompatible(a: string, b: string): boolean {
  const lit = (p: string) => {
    const m = /^[^*?[{\\]*/.exec(p);
    return m ? m[0] : '';
  };
  const x = lit(a);
  const y = lit(b);
  return x.startsWith(y) || y.startsWith(x);
}

function flattenConditions(conditions: readonly Ast.Condition[], origin: RuleOrigin): ConditionFact[] {
  const facts: ConditionFact[] = [];
  const expand = (word: Ast.Word) => {
    const value = origin.expand(word.value);
    return typeof value === 'string' ? value : word.value;
  };
  for (const c of conditions) {
    if (c.name === 'peer' && c.conditions.length) {
      for (const inner of c.conditions) facts.push({ key: inner.name, operator: inner.operator, values: inner.values.map(expand), list: inner.list, peer: true });
      continue;
    }
    facts.push({ key: c.name, operator: c.operator, values: c.values.map(expand), list: c.list, peer: false });
  }
  return facts;
}

/** Classes whose access words the model may leave among the plain words. */
const ACCESS_IN_WORDS: Readonly<Record<string, readonly string[]>> = {
  ptrace: ['read', 'readby', 'trace', 'tracedby', 'r', 'w', 'rw', 'write'],
  signal: ['send', 'receive', 'r', 'read', 'w', 'write', 'rw'],
};

/** Words of a rule after its prefix keywords, without the trailing comma (quotes and parens kept). */
function ruleBodyWords(text: string): string[] {
  const words = text.replace(/,\s*$/, '').split(/\s+/).filter(Boolean);
  let i = 0;
  while (i < words.length && /^(audit|allow|deny|prompt|owner|user|other|priority=.*)$/.test(words[i]!)) i++;
  return words.slice(i);
}

/** Shape problems the model keeps only in the text: access lists, nested conditions. */
function structuralProblems(ast: Ast.NetworkRule, fileText: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const first = ast.access[0];
  if (ast.access.length > 1 && first) {
    let i = first.span.offset - 1;
    while (i >= 0 && /\s/.test(fileText[i]!)) i--;
    if (fileText[i] !== '(' && fileText[i] !== ',') {
      problems.push({ code: 'check/access-list-needs-parentheses', message: `several access words need parentheses: (${ast.access.map((w) => w.value).join(' ')})` });
    }
  }
  const body = ruleBodyWords(ast.text).join(' ');
  const list = /^\S+\s*\(([^)]*)\)/.exec(body);
  if (list && list[1]!.includes('=')) problems.push({ code: 'check/condition-in-access-list', message: 'conditions (key=value) cannot go inside the access list ( … )' });
  const peerLists = ast.conditions.filter((c) => c.name === 'peer' && c.list).length;
  if (peerLists > 1) problems.push({ code: 'check/repeated-condition', message: `'peer=( … )' is given ${peerLists} times; a rule takes one list` });
  for (const c of ast.conditions) {
    if (c.conditions.length && c.name !== 'peer') problems.push({ code: 'check/nested-condition', message: `'${c.conditions[0]!.name}=' cannot appear inside ${c.name}=( … )` });
    if (c.name === 'peer' && c.conditions.length && c.values.length) problems.push({ code: 'check/unexpected-word', message: `unexpected '${c.values.map((v) => v.value).join(' ')}' in peer=( … ): it takes key=value pairs` });
    if (c.operator === 'in' && !c.list) problems.push({ code: 'check/in-needs-list', message: `'${c.name} in' needs a parenthesised list: ${c.name} in (a b)` });
    for (const inner of c.conditions) {
      if (inner.operator === 'in' && !inner.list) problems.push({ code: 'check/in-needs-list', message: `'${inner.name} in' needs a parenthesised list` });
    }
  }
  return problems;
}

/** AARE syntax problems of a pattern, remembered across checks: abstractions repeat the same patterns. */
type PatternProblem = { code: string; message: string; severity: Severity; at: number; length: number };
const patternCache = new Map<string, readonly PatternProblem[]>();
const PATTERN_CACHE_LIMIT = 100_000;

function patternProblems(pattern: string, kind: 'path' | 'glob_null'): readonly PatternProblem[] {
  const key = `${kind}\0${pattern}`;
  let problems = patternCache.get(key);
  if (!problems) {
    const parsed = parseAare(pattern, { kind, filterSlashes: false });
    problems = parsed.diagnostics.map((d) => ({
      code: d.code, message: d.message, severity: d.severity === 'error' ? 'error' as const : 'warning' as const,
      at: Math.max(0, d.col - 1), length: d.length ?? 1,
    }));
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
    patternCache.set(key, problems);
  }
  return problems;
}

/** Where a word of a class rule was written (access words, plain words, condition values). */
function wordSpan(ast: Ast.NetworkRule, word: string): Ast.Span | undefined {
  const direct = [...(ast.access ?? []), ...(ast.words ?? [])].find((w) => w.value === word);
  if (direct) return direct.span;
  const search = (conditions: readonly Ast.Condition[]): Ast.Span | undefined => {
    for (const c of conditions) {
      const hit = c.values.find((v) => v.value === word);
      if (hit) return hit.span;
      const inner = search(c.conditions);
      if (inner) return inner;
    }
    return undefined;
  };
  return search(ast.conditions ?? []);
}
