// What `hatter lint` reports: findings are diagnostics (file:line:col through includes, stable code,
// severity) with, for the rules that have one, a mechanical fix as text edits on the lossless source.
import type { Diagnostic, Severity } from '../policy/index.js';

/** One rule of the rule set: its code never changes; docs/lint.md has a section with the same anchor. */
export interface LintRuleInfo {
  readonly code: string;
  /** The severity findings get (a few rules report less severely outside site hats; the finding says). */
  readonly severity: Severity;
  /** One line: what the rule finds. */
  readonly title: string;
  /** True when `--fix` can repair it mechanically. */
  readonly fixable: boolean;
  /** Needs the web configuration (--apache, --fpm, --config) or a tenant model to say anything. */
  readonly needsWeb: boolean;
}

/** Replace `length` UTF-16 units at `offset` of the file's decoded text with `replacement`. */
export interface TextEdit {
  /** The file's absolute path, as the loader read it. */
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  readonly replacement: string;
}

export interface LintFix {
  /** What the fix does, in words ("insert 'owner'"). */
  readonly description: string;
  readonly edits: readonly TextEdit[];
}

export interface LintFinding extends Diagnostic {
  /** The profile or hat the finding is about, when it is about one. */
  readonly profile?: string;
  readonly fix?: LintFix;
}
