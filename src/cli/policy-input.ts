// What a command asks the policy loader for, and what it gets back: shared by load-policy.ts (the
// cache-first path) and load-fresh.ts (the full pipeline, loaded only on a miss), so neither imports
// the other's module for its types.
import type { Diagnostic } from '../policy/diagnostic/index.js';
import type { CompiledPolicy } from '../policy/eval/index.js';
import type { FeatureSet } from '../policy/check/index.js';
import type { ParseCache } from '../policy/resolve/index.js';

export interface PolicyInput {
  /** A path (relative to io.cwd; `-` for stdin), or a display name when `text` or `bytes` is given. */
  readonly file: string;
  readonly text?: string;
  readonly bytes?: Uint8Array;
}

export interface PolicyFileOptions {
  readonly includeDirs?: readonly string[];
  readonly features?: FeatureSet;
  readonly cache?: ParseCache;
}

export type CompiledPolicyLoad =
  | { readonly ok: true; readonly compiled: CompiledPolicy; readonly warnings: readonly Diagnostic[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };
