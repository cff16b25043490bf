// Requests, decisions and diffs: what `decide()` and `diffPolicies()` answer. A decision is data that
// says why (the rules that granted or removed each permission, with their source chains), following
// policy-semantics.md for how rules combine.
import type { ExecMode, RuleRef } from '../resolve/index.js';

export type ProfileModeName = 'enforce' | 'complain' | 'kill' | 'unconfined' | 'default_allow' | 'prompt';

/** One access the kernel would mediate. Permission/access words are per class (see docs/query.md). */
export type AccessRequest =
  | { readonly class: 'file'; readonly path: string; readonly permissions: string; readonly owner?: boolean }
  | { readonly class: 'link'; readonly path: string; readonly target: string; readonly owner?: boolean }
  | { readonly class: 'capability'; readonly name: string }
  /** `unsafe`: the change keeps the environment (needs a rule with the `unsafe` keyword). */
  | { readonly class: 'change_profile'; readonly target: string; readonly exec?: string; readonly unsafe?: boolean }
  | {
    readonly class: 'network' | 'unix' | 'dbus' | 'signal' | 'ptrace' | 'mount' | 'remount' | 'umount' | 'pivot_root'
      | 'userns' | 'io_uring' | 'mqueue';
    /** Access words (`send`, `receive`, `create` …); normalized per class (`r` → `receive` for signals). */
    readonly access: readonly string[];
    /** The object: e.g. `family`, `type`, `protocol` for network; `signal`, `peer` for signal; `peer` for ptrace. */
    readonly fields: Readonly<Record<string, string>>;
  };

export type AccessClass = AccessRequest['class'];

/** How one permission bit was decided. */
export interface BitDecision {
  readonly bit: string;
  /** `unmatched`: no rule mentions the bit; the profile mode decides (enforce: denied). */
  readonly outcome: 'allow' | 'deny' | 'prompt' | 'unmatched';
  /** Allowed (after the profile mode: complain permits unmatched bits). */
  readonly allowed: boolean;
  /** Logged: `audit` (an audit rule allowed it, or the audit flag), `denied`, `allowed-complain`, `quiet`, or `none`. */
  readonly log: 'audit' | 'denied' | 'allowed-complain' | 'killed' | 'quiet' | 'none';
  /** The rules at the winning priority that decided the bit. */
  readonly rules: readonly RuleRef[];
  /** True when the bit is implied (m from an allowed ix). */
  readonly implied?: boolean;
}

export interface ExecDecision {
  readonly mode: ExecMode;
  /** `-> TARGET` or, for px/cx without one, the attachment-based lookup (`(attachment)`). */
  readonly target?: string;
  readonly rules: readonly RuleRef[];
}

export interface Decision {
  readonly label: string;
  readonly class: AccessClass;
  readonly mode: ProfileModeName;
  /** Every requested bit allowed (after the profile mode). */
  readonly allowed: boolean;
  readonly bits: readonly BitDecision[];
  /** For file requests with `x`: the transition the exec takes. */
  readonly exec?: ExecDecision;
  readonly grantedBy: readonly RuleRef[];
  readonly deniedBy: readonly RuleRef[];
  /** Some requested bit matched no rule at all (the implicit deny). */
  readonly noRuleMatched: boolean;
  /** Notes a person should read (e.g. complain mode permits, kill mode kills). */
  readonly notes: readonly string[];
}

/** A request the two policies decide differently, with both decisions. */
export interface DiffWitness {
  readonly request: AccessRequest;
  readonly before: Decision;
  readonly after: Decision;
  /** Bits allowed after but not before, and the reverse. */
  readonly gained: readonly string[];
  readonly lost: readonly string[];
  /** Other changes at this request (audit, quiet, exec transition). */
  readonly changed: readonly string[];
  /** One line for people: `gained: w on /srv/www/a/uploads/x (owner)`. */
  readonly summary: string;
}

export interface ClassDiff {
  readonly class: AccessClass | 'rlimit' | 'flags' | 'profile';
  readonly equal: boolean;
  readonly witnesses: readonly DiffWitness[];
  /** For classes without requests (rlimit, flags, presence): what differs, in words. */
  readonly notes: readonly string[];
}

export interface ProfileDiff {
  readonly label: string;
  readonly equal: boolean;
  readonly classes: readonly ClassDiff[];
}

export interface PolicyDiff {
  readonly equal: boolean;
  readonly profiles: readonly ProfileDiff[];
}
