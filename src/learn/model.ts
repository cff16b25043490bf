// The learning model: what a profile needed (Need, from audit events), what hatter proposes for it
// (ProposalGroup with Alternatives, each carrying the PolicyEdits it makes) and what the user answered
// (Answer). Plain data, so proposals print as JSON, answers come back as JSON, and the review's state
// machine, the CLI and the tests all share one vocabulary.
import type { PolicyEdit } from './edit-model.js';

/** Where a need was seen: counts and times, and a few line numbers to show (never every event). */
export interface NeedSightings {
  /** Events that produced this need. */
  readonly count: number;
  /** Milliseconds since the epoch of the first and last timed event, when any was timed. */
  readonly first?: number;
  readonly last?: number;
  /** Up to MAX_SAMPLE_LINES sightings (`file:line`), first seen first. */
  readonly samples: readonly string[];
}

/** The rule classes learning proposes rules for. */
export type NeedClass =
  | 'file' | 'exec' | 'capability' | 'network' | 'unix' | 'signal' | 'ptrace' | 'change_hat' | 'change_profile'
  | 'mount' | 'dbus';

interface NeedBase extends NeedSightings {
  /** Stable identity: equal keys are the same need (dedupe while streaming). */
  readonly key: string;
  /**
   * The label of the profile, hat or child that needs it, in the policy's terms: a learning label
   * (`php-fpm//null-myblog`) already mapped back to the hat it stands for (`php-fpm//myblog`).
   */
  readonly profile: string;
  /** The label as logged, when it differs from `profile` (a learning label). */
  readonly loggedLabel?: string;
  /** The profile does not exist yet in the policy (a hat that must be created: see the hat stub proposals). */
  readonly missingProfile?: boolean;
  /** Only allowed because of complain mode (ALLOWED events), or denied (DENIED). */
  readonly denied: boolean;
}

/** A file access: path and permission letters (r w a l k m), `owner` when fsuid == ouid in every event. */
export interface FileNeed extends NeedBase {
  readonly class: 'file';
  readonly path: string;
  /** Sorted, deduplicated file letters without x (`rw`, `m`, `k`). */
  readonly permissions: string;
  readonly owner: boolean;
}

/** An exec of `path` (the `x` of a file access), with the transition the kernel logged when it did. */
export interface ExecNeed extends NeedBase {
  readonly class: 'exec';
  readonly path: string;
  /** The logged `target=` (`php-fpm//null-/usr/bin/dash` in complain mode), mapped like profile labels. */
  readonly target?: string;
  readonly owner: boolean;
}

export interface CapabilityNeed extends NeedBase {
  readonly class: 'capability';
  readonly capability: string;
}

/** network, unix, signal, ptrace, mount and dbus: access words and the object's fields. */
export interface GenericNeed extends NeedBase {
  readonly class: 'network' | 'unix' | 'signal' | 'ptrace' | 'mount' | 'dbus';
  readonly access: readonly string[];
  /** The fields decide() takes for the class (`family`, `type`, `peer`, `signal`, `bus`, `path` …). */
  readonly fields: Readonly<Record<string, string>>;
}

/** A change_hat into a hat the profile lacks (the kernel logged the attempt), or a change_profile. */
export interface ChangeNeed extends NeedBase {
  readonly class: 'change_hat' | 'change_profile';
  /** change_hat: the hat name; change_profile: the target label (learning labels mapped back). */
  readonly target: string;
}

export type Need = FileNeed | ExecNeed | CapabilityNeed | GenericNeed | ChangeNeed;

/** What kind of answer an alternative is; the review's single keys pick among these. */
export type AlternativeKind =
  | 'exact' // the rule as logged
  | 'variable' // with tunables variables (@{pid}, @{HOME}, @{PROC} …)
  | 'glob' // last path component or extension
  | 'site-glob' // `**` up to a directory the site owns
  | 'abstraction' // include an existing abstraction that covers the group
  | 'inherit' // exec: ix
  | 'profile' // exec: Px (an existing profile)
  | 'child' // exec: Cx to a child profile (created empty, in complain mode)
  | 'unconfined' // exec: Ux (only with --allow-ux)
  | 'deny' // deny
  | 'audit-deny' // audit deny
  | 'fixup' // a learning-label fix-up (change_profile -> P//*, signal peer=P//*, a missing hat stub)
  | 'ignore'; // change nothing

/** A concrete string the alternative grants that no event asked for: "this glob also grants r on …". */
export interface Witness {
  /** The path (or label) the alternative also allows. */
  readonly subject: string;
  /** The permissions it allows there (`r`, `rw`, `x`). */
  readonly permissions: string;
  /** The tenant whose area the witness lies in, when it crosses into another tenant. */
  readonly tenant?: string;
  /** One line for people. */
  readonly message: string;
}

export interface Alternative {
  readonly kind: AlternativeKind;
  /** The rule text(s) as they would appear in the profile, for display (`/srv/www/a/** r`). */
  readonly rules: readonly string[];
  /** What the alternative does to the policy source (learn-edit's applyEdits turns these into file changes). */
  readonly edits: readonly PolicyEdit[];
  /** How many of the group's needs it covers (all of them, except for an abstraction that covers some). */
  readonly covers: number;
  /** Something it grants beyond the events, when it grants more (shortest witness first). */
  readonly beyond?: Witness;
  /** It reaches another tenant's area: never the default, needs an explicit override. */
  readonly crossesTenant?: Witness;
  /** Only offered behind a flag (Ux without --allow-ux is not offered at all; this marks overrides). */
  readonly needsOverride?: boolean;
  /** One line for people: why this alternative, what it means. */
  readonly note?: string;
}

export interface ProposalGroup {
  /** Stable id within one run (`g1`, `g2`, …): answers refer to it. */
  readonly id: string;
  /** The profile, hat or child the rules go into (its label). */
  readonly profile: string;
  /** The tenant (site) that profile belongs to, when the configuration says. */
  readonly tenant?: string;
  readonly class: NeedClass;
  /** What the group is about, for people (`r on /srv/www/a/index.php`, `exec /usr/bin/dash`). */
  readonly title: string;
  /** The needs it answers. */
  readonly needs: readonly Need[];
  /** Alternatives in order of preference; `defaultIndex` is the safest (never one that crosses tenants). */
  readonly alternatives: readonly Alternative[];
  /** The alternative `--apply` accepts; -1 when no alternative is safe to accept without a person (then ignored). */
  readonly defaultIndex: number;
  /** Automatic learning-label fix-ups are accepted by --apply together with the group they belong to. */
  readonly automatic?: boolean;
}

/** What a person (or a script, through --answers) decided for one group. */
export type Answer =
  | { readonly group: string; readonly action: 'accept'; readonly alternative?: number; readonly override?: boolean }
  | { readonly group: string; readonly action: 'ignore' };

/** Proposals for one run: the groups, and what could not become a need (diagnostics). */
export interface Proposals {
  readonly groups: readonly ProposalGroup[];
  /** Profiles the needs name that are in complain mode (the CLI says so, as the issue asks). */
  readonly complainProfiles: readonly string[];
}

export const MAX_SAMPLE_LINES = 3;
