// What the Landlock translation reports and the exact-widening interface it asks: shared by the
// translation (landlock-translate), the plan (landlock-plan) and the AARE adapter (aare-oracle), so that
// none of them imports another in a cycle.

/** Something the Landlock ruleset allows that the hat does not, or a hat rule it cannot keep. */
export interface WideningEntry {
  /** glob | deny | owner | metadata | rights | network | unix | runtime | symlink | signal */
  readonly kind: string;
  /** Human one-liner, printed at startup and by `hatter confine explain`. */
  readonly summary: string;
  /** The Landlock grant responsible, when there is one. */
  readonly grant?: string;
  /** Where the hat rule came from (file:line), when known. */
  readonly source?: string;
  /** Example paths granted beyond the hat (from the AARE difference). */
  readonly witnesses?: readonly string[];
}

/** Exact set algebra over AppArmor path patterns (the AARE engine), when available. */
export interface WideningOracle {
  /** Paths matched by some `granted` pattern and by no `allowed` pattern, or by a `denied` one: empty, or the shortest example. Undefined when it cannot tell. */
  beyond(granted: readonly string[], allowed: readonly string[], denied: readonly string[]): { readonly empty: boolean; readonly witnesses: readonly string[] } | undefined;
  /** Does some path matched by `subject` stay allowed (by `allowed` and no `denied`)? Undefined when it cannot tell. */
  overlaps(subject: readonly string[], allowed: readonly string[], denied: readonly string[]): boolean | undefined;
  /** A matcher of one pattern against concrete paths (for expanding a glob on the host); undefined when it cannot compile it. */
  matcher?(pattern: string): PathMatcher | undefined;
}

/** One pattern against concrete paths; directories are given with their trailing slash, as AppArmor names them. */
export interface PathMatcher {
  matches(path: string): boolean;
  /** Does the pattern match every path longer than `prefix` (`dir/`: everything beneath; `dir/**` does not match `dir/` itself)? */
  coversAll(prefix: string): boolean;
  /** Could the pattern match some path longer than `prefix` (is walking beneath `dir/` worth it)? */
  reachesBeyond(prefix: string): boolean;
}

export { literalPattern } from '../policy/aare/index.js';
