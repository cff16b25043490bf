// The resolved policy: what the evaluator and the confinement backends consume. Includes are
// inlined, variables expanded, conditionals decided and aliases applied; every rule remembers where
// it came from (file:line:col through each include).
import type { SourceLocation } from '../diagnostic/index.js';
import type { ExecMode, FilePermission } from './permissions.js';

export type { ExecMode, ExecTransition, FilePermission } from './permissions.js';

/** Where a rule (or profile) was written, and the include statements that brought it in. */
export interface RuleRef extends SourceLocation {
  /** Offset and length of the rule's text in its file. */
  readonly offset: number;
  readonly length: number;
  /** Include statements that led to this file, outermost first. Empty for the top-level file. */
  readonly includeChain: readonly SourceLocation[];
}

/** `allow` (default), `deny` or `prompt`. */
export type RuleDecision = 'allow' | 'deny' | 'prompt';
/** `owner` (alias `user`) applies to the file-owner half only, `other` to the other half. */
export type OwnerScope = 'any' | 'owner' | 'other';

export interface ResolvedRulePrefix {
  readonly audit: boolean;
  readonly decision: RuleDecision;
  readonly owner: OwnerScope;
  /** −1000..1000, default 0. */
  readonly priority: number;
}

interface RuleBase {
  readonly prefix: ResolvedRulePrefix;
  readonly source: RuleRef;
}

/** A file rule: `PATH PERMS [-> TARGET]`, with variables expanded and slashes filtered. */
export interface ResolvedFileRule extends RuleBase {
  readonly class: 'file';
  /** One AARE for the rule; several variable values appear as `{a,b}`. Bare `file,` is `/{**,}` with rwlkm + ix. */
  readonly pattern: string;
  readonly permissions: ReadonlySet<FilePermission>;
  /** Present when the permissions include `x`. */
  readonly exec?: ExecMode;
  /** `-> TARGET` for px/cx rules (a profile name), expanded. */
  readonly execTarget?: string;
  /** True when this rule is the copy an `alias` produced. */
  readonly fromAlias?: boolean;
}

/** `link [subset] LINK -> TARGET,` (also `LINK l -> TARGET,`). */
export interface ResolvedLinkRule extends RuleBase {
  readonly class: 'link';
  readonly pattern: string;
  readonly target: string;
  readonly subset: boolean;
}

export interface ResolvedCapabilityRule extends RuleBase {
  readonly class: 'capability';
  /** Capability names (no `CAP_`); empty means every capability. */
  readonly names: readonly string[];
}

export interface ResolvedChangeProfileRule extends RuleBase {
  readonly class: 'change_profile';
  /** Exec condition (path AARE) when given. */
  readonly execCondition?: string;
  readonly safety?: 'safe' | 'unsafe';
  /** Target label AARE; `**` when omitted. */
  readonly target: string;
}

export interface ResolvedRlimitRule extends RuleBase {
  readonly class: 'rlimit';
  readonly resource: string;
  /** As written (`1024`, `10MB`, `infinity`). */
  readonly value: string;
}

/**
 * Every other class (network, unix, dbus, signal, ptrace, mount, remount, umount, pivot_root, userns,
 * io_uring, mqueue, all): the access words and `key=value` conditions, expanded.
 */
export interface ResolvedGenericRule extends RuleBase {
  readonly class: 'network' | 'unix' | 'dbus' | 'signal' | 'ptrace' | 'mount' | 'remount' | 'umount' | 'pivot_root'
    | 'userns' | 'io_uring' | 'mqueue' | 'all';
  /** Access words (`send`, `receive`, …); empty means the class default (everything). */
  readonly access: readonly string[];
  /** Bare words after the access list (network domain/type/protocol, mqueue name, mount source …). */
  readonly words: readonly string[];
  /** `key=value` conditions; `peer=(…)` conditions appear with a `peer.` prefix. */
  readonly conditions: Readonly<Record<string, readonly string[]>>;
  /** `-> TARGET` (mount point, pivot_root profile), when present. */
  readonly target?: string;
}

export type ResolvedRule =
  | ResolvedFileRule
  | ResolvedLinkRule
  | ResolvedCapabilityRule
  | ResolvedChangeProfileRule
  | ResolvedRlimitRule
  | ResolvedGenericRule;

export type ProfileKind = 'profile' | 'hat' | 'child';

export interface ResolvedProfile {
  /** Full hierarchical name: `apache2//DEFAULT_URI`, `apache2///app/index.php`. */
  readonly name: string;
  /** The name as written in its own header (`DEFAULT_URI`). */
  readonly localName: string;
  readonly kind: ProfileKind;
  /** Attachment AARE (expanded); a path-named profile without one attaches to its name. */
  readonly attachment?: string;
  readonly xattrs: Readonly<Record<string, string>>;
  /** Flags as written (`complain`, `attach_disconnected.path=/x`). */
  readonly flags: readonly string[];
  /** The one profile mode among the flags; `enforce` when none. */
  readonly mode: 'enforce' | 'complain' | 'kill' | 'unconfined' | 'default_allow' | 'prompt';
  /** Rules in source order, includes inlined. */
  readonly rules: readonly ResolvedRule[];
  /** Hats and child profiles, in source order. */
  readonly children: readonly ResolvedProfile[];
  readonly source: RuleRef;
}

/** A variable as the policy left it: `@{NAME}` sets (values unexpanded, as apparmor_parser keeps them) and `$NAME` booleans. */
export type ResolvedVariable =
  | { readonly kind: 'set'; readonly name: string; readonly values: readonly string[]; readonly source: RuleRef }
  | { readonly kind: 'boolean'; readonly name: string; readonly value: boolean; readonly source: RuleRef };

export interface ResolvedPolicy {
  /** Top-level profiles (children nested inside). */
  readonly profiles: readonly ResolvedProfile[];
  /** Every file read, in first-read order (the input first). */
  readonly files: readonly string[];
  /** The feature ABI the policy asked for with `abi`, if any. */
  readonly abi?: string;
  /** Variables and booleans in force at the end of the walk (rules were expanded with these). */
  readonly variables?: readonly ResolvedVariable[];
}
