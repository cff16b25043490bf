// The contract between proposing (what should change, as data) and editing (how the source text changes,
// through the lossless tree). Proposals carry PolicyEdits; applyEdits() turns them into FileChanges; only
// the CLI edge writes files.

/** One change to the policy source that an accepted proposal makes. */
export type PolicyEdit =
  /** Add a rule to a profile, hat or child profile, named by its label (`php-fpm//myblog`). */
  | { readonly kind: 'add-rule'; readonly profile: string; readonly rule: string; readonly comment?: string }
  /** Create an empty hat (`^name`) or child profile (`profile name`) inside `parent`, with these flags (e.g. ['complain']). */
  | { readonly kind: 'create-profile'; readonly parent: string; readonly name: string; readonly hat: boolean; readonly flags: readonly string[] };

/** A file's whole text before and after the edits (before is undefined for a file that edits create). */
export interface FileChange {
  readonly file: string;
  readonly before: string | undefined;
  readonly after: string;
}
