// The typed AST of one policy file, built from the CST by buildPolicyModel. Nothing here is expanded
// or resolved: variables, aliases and includes stay as written (raw text) for policy/resolve. Every
// node keeps its source span and the CST node it came from (`syntax`, non-enumerable so JSON output
// and deep equality ignore it).
import type { SyntaxNode } from '../syntax/index.js';

/** Where a node sits in its file. Offsets and lengths count UTF-16 code units of the decoded text. */
export interface Span {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

export interface AstBase {
  readonly span: Span;
  /** The CST node (non-enumerable). Edits (learn/) and precise diagnostics (check/) start here. */
  readonly syntax: SyntaxNode;
}

/** A word as written. `raw` is the exact source text (quotes included); `value` drops surrounding quotes but keeps escapes raw. */
export interface Word {
  readonly raw: string;
  readonly value: string;
  readonly quoted: boolean;
  readonly span: Span;
}

// ---- file level -------------------------------------------------------------------------------

export interface Policy extends AstBase {
  readonly kind: 'Policy';
  readonly file: string;
  /** Statements in source order: preamble items, profiles, and rules (files included into profiles hold bare rules). */
  readonly items: readonly Statement[];
}

export type Statement =
  | Abi | Include | Alias | VariableAssignment | BooleanAssignment | Conditional
  | Profile | QualifierBlock | Rule | SyntaxError;

export type IncludeForm = 'magic' | 'quoted' | 'bare';

export interface Abi extends AstBase {
  readonly kind: 'Abi';
  readonly form: IncludeForm;
  /** Path without `<>`/quotes, escapes raw; '' when missing. */
  readonly path: string;
}

export interface Include extends AstBase {
  readonly kind: 'Include';
  readonly form: IncludeForm;
  readonly path: string;
  readonly ifExists: boolean;
  /** Written as `#include` (deprecated). */
  readonly hashInclude: boolean;
}

export interface Alias extends AstBase {
  readonly kind: 'Alias';
  readonly keyword: 'alias' | 'rewrite';
  readonly from?: Word;
  readonly to?: Word;
}

export type AssignmentOperator = '=' | '+=' | '?=' | ':=';

export interface VariableAssignment extends AstBase {
  readonly kind: 'VariableAssignment';
  /** Name without `@{}`: `HOME`. */
  readonly name: string;
  /** As written: `@{HOME}` or `@HOME`. */
  readonly rawName: string;
  readonly operator: AssignmentOperator;
  /** Values in order; `""` gives a quoted empty value. */
  readonly values: readonly Word[];
}

export interface BooleanAssignment extends AstBase {
  readonly kind: 'BooleanAssignment';
  /** Name without `$`/`${}`. */
  readonly name: string;
  readonly rawName: string;
  readonly operator: AssignmentOperator;
  readonly expression: Expression;
}

// ---- conditionals -----------------------------------------------------------------------------

export interface Conditional extends AstBase {
  readonly kind: 'Conditional';
  /** `if`, then each `else if`, then an optional final `else` (condition undefined). */
  readonly branches: readonly ConditionalBranch[];
}

export interface ConditionalBranch extends AstBase {
  readonly kind: 'ConditionalBranch';
  readonly keyword: 'if' | 'else if' | 'else';
  readonly condition?: Expression;
  readonly body: readonly Statement[];
}

export type Expression =
  | { readonly kind: 'BooleanLiteral'; readonly value: boolean; readonly raw: string; readonly span: Span }
  | { readonly kind: 'BooleanVariable'; readonly name: string; readonly raw: string; readonly span: Span }
  | { readonly kind: 'Defined'; readonly variable: VariableRef; readonly span: Span }
  | { readonly kind: 'Not'; readonly operand: Expression; readonly span: Span }
  | { readonly kind: 'And' | 'Or'; readonly left: Expression; readonly right: Expression; readonly span: Span }
  | { readonly kind: 'Compare'; readonly operator: CompareOperator; readonly left: Operand; readonly right: Operand; readonly span: Span }
  /** A bare operand where a condition was expected (`if @{x} {`, `if foo {`): the checker rejects it. */
  | { readonly kind: 'Operand'; readonly operand: Operand; readonly span: Span }
  | { readonly kind: 'InvalidExpression'; readonly raw: string; readonly span: Span };

export type CompareOperator = '==' | '!=' | 'in' | '>' | '>=' | '<' | '<=';

export interface VariableRef {
  readonly type: 'set' | 'boolean';
  readonly name: string;
  readonly raw: string;
}

export type Operand =
  | { readonly kind: 'SetVariable'; readonly name: string; readonly raw: string; readonly span: Span }
  | { readonly kind: 'Literal'; readonly word: Word; readonly span: Span };

// ---- profiles ---------------------------------------------------------------------------------

export type ProfileForm =
  /** `profile NAME …` */
  | 'profile'
  /** `/path/name …` or `"/quoted"` or `:ns:name` without a keyword */
  | 'path'
  /** `hat NAME …` */
  | 'hat'
  /** `^NAME …` */
  | 'caret';

export interface Profile extends AstBase {
  readonly kind: 'Profile';
  readonly form: ProfileForm;
  /** True for `hat` and `^` forms. */
  readonly isHat: boolean;
  /** Name as written (Word.value keeps escapes; `a//b` stays one name). Undefined when missing (a syntax error). */
  readonly name?: Word;
  /** Name with quotes removed and escapes decoded. */
  readonly unescapedName?: string;
  readonly attachment?: Word;
  readonly xattrs: readonly Condition[];
  /** Flag words as written, e.g. `complain`, `attach_disconnected.path=/x`. */
  readonly flags: readonly Word[];
  readonly identities: readonly Word[];
  readonly body: readonly Statement[];
  /** Whether the body `{ … }` is present. */
  readonly hasBody: boolean;
}

// ---- rules ------------------------------------------------------------------------------------

export type AccessQualifier = 'allow' | 'deny' | 'prompt';
export type OwnerQualifier = 'owner' | 'user' | 'other';

/** `priority=N audit allow|deny|prompt owner|user|other`. Every field is undefined/false when absent. */
export interface RulePrefix {
  readonly priority?: { readonly raw: string; readonly value: number | undefined; readonly span: Span };
  readonly audit: boolean;
  readonly access?: AccessQualifier;
  readonly owner?: OwnerQualifier;
  /** All prefix keywords in order, to detect duplicates/conflicts (`deny allow`, `audit audit`). */
  readonly keywords: readonly string[];
  readonly span?: Span;
}

/** `key=value`, `key=(a b)`, `key in (a b)`; peer=(…)/xattrs=(…) nest conditions. */
export interface Condition {
  readonly name: string;
  readonly operator: '=' | 'in';
  /** Plain values (single value or list members). */
  readonly values: readonly Word[];
  /** Whether the value was a parenthesised list. */
  readonly list: boolean;
  /** Nested `key=value` items of a list such as `peer=(label=x addr=y)`. */
  readonly conditions: readonly Condition[];
  readonly span: Span;
}

export interface RuleBase extends AstBase {
  readonly prefix: RulePrefix;
  /** The rule's source text without surrounding trivia. */
  readonly text: string;
}

/** Access words of the classes that take them: `send`, `(send receive)`, `r`, `rw`. */
export interface AccessList {
  readonly access: readonly Word[];
}

/**
 * Generic view of class rules: bare words (access words, domains, types), conditions, `-> target`.
 * Kept raw: the checker validates words against the class's vocabulary.
 */
export interface ClassArguments extends AccessList {
  /** Bare words after the class keyword that are not access words or conditions, in order. */
  readonly words: readonly Word[];
  readonly conditions: readonly Condition[];
  readonly target?: Word;
}

export interface FileRule extends RuleBase {
  readonly kind: 'FileRule';
  /** Written with the `file` keyword. */
  readonly fileKeyword: boolean;
  /** `file,` alone (all file access). */
  readonly bare: boolean;
  readonly path?: Word;
  /** Permission token(s) as written, e.g. `rw`, `mrPx`; `''` when missing. */
  readonly permissions: string;
  readonly permissionWords: readonly Word[];
  /** Permissions written before the path (`r /foo,`). */
  readonly leadingPermissions: boolean;
  /** The exec part of the permissions (`ix`, `Px`, `pux`, `x`…), if any. */
  readonly execMode?: string;
  readonly safety?: 'safe' | 'unsafe';
  readonly target?: Word;
  /** Words the grammar did not expect (extra paths etc.), for the checker to report. */
  readonly extra: readonly Word[];
}

export interface LinkRule extends RuleBase {
  readonly kind: 'LinkRule';
  /** `subset` (or its spelling `<=`): the link may only grant what the target already has. */
  readonly subset: boolean;
  /** `l` leading-permission form (`l /a -> /b,`) rather than `link`. */
  readonly leadingPermission: boolean;
  readonly link?: Word;
  readonly target?: Word;
  readonly extra: readonly Word[];
}

export interface CapabilityRule extends RuleBase {
  readonly kind: 'CapabilityRule';
  /** Empty for bare `capability,` (all capabilities). */
  readonly capabilities: readonly Word[];
}

export interface NetworkRule extends RuleBase, ClassArguments { readonly kind: 'NetworkRule' }
export interface UnixRule extends RuleBase, ClassArguments { readonly kind: 'UnixRule' }
export interface DbusRule extends RuleBase, ClassArguments { readonly kind: 'DbusRule' }
export interface SignalRule extends RuleBase, ClassArguments { readonly kind: 'SignalRule' }
export interface PtraceRule extends RuleBase, ClassArguments { readonly kind: 'PtraceRule' }
export interface MqueueRule extends RuleBase, ClassArguments { readonly kind: 'MqueueRule' }
export interface IoUringRule extends RuleBase, ClassArguments { readonly kind: 'IoUringRule' }
export interface UserNsRule extends RuleBase, ClassArguments { readonly kind: 'UserNsRule' }

/** mount: `words` holds the source (if any); remount/umount: the mount point; pivot_root: the new root. */
export interface MountRule extends RuleBase, ClassArguments { readonly kind: 'MountRule' }
export interface RemountRule extends RuleBase, ClassArguments { readonly kind: 'RemountRule' }
export interface UmountRule extends RuleBase, ClassArguments { readonly kind: 'UmountRule'; readonly keyword: 'umount' | 'unmount' }
export interface PivotRootRule extends RuleBase, ClassArguments { readonly kind: 'PivotRootRule' }

export interface ChangeProfileRule extends RuleBase {
  readonly kind: 'ChangeProfileRule';
  readonly safety?: 'safe' | 'unsafe';
  /** The exec condition (path), if written. */
  readonly exec?: Word;
  /** The `->` target label, if written (no target means `**`). */
  readonly target?: Word;
  readonly extra: readonly Word[];
}

export interface RlimitRule extends RuleBase {
  readonly kind: 'RlimitRule';
  readonly resource?: Word;
  /** Value as written after `<=` (`1024`, `10MB`, `infinity`); tokens joined by one space if split. */
  readonly value?: Word;
  readonly extra: readonly Word[];
}

export interface AllRule extends RuleBase { readonly kind: 'AllRule' }

/** Text the parser could not read as a rule; a syntax diagnostic was reported for it. */
export interface UnknownRule extends RuleBase { readonly kind: 'UnknownRule' }

export type Rule =
  | FileRule | LinkRule | CapabilityRule | NetworkRule | UnixRule | DbusRule | SignalRule | PtraceRule
  | MountRule | RemountRule | UmountRule | PivotRootRule | ChangeProfileRule | RlimitRule | UserNsRule
  | IoUringRule | MqueueRule | AllRule | UnknownRule;

export type RuleKind = Rule['kind'];

/** `audit { … }`, `deny owner { … }`: the prefix applies to each inner rule. */
export interface QualifierBlock extends AstBase {
  readonly kind: 'QualifierBlock';
  readonly prefix: RulePrefix;
  readonly body: readonly Statement[];
}

/** A piece of text that is not a statement (stray `}`, `{`, garbage); a syntax diagnostic covers it. */
export interface SyntaxError extends AstBase {
  readonly kind: 'SyntaxError';
  readonly text: string;
}
