// loadPolicy: the one way into a policy. Every tool that reads a policy (check, query, diff, serve,
// which-hat, the confinement backends) starts here, so they all see the same resolved policy and
// the same diagnostics. Stages, each a pure function over the previous one's data:
//   1. read and parse: the entry and every file it includes, through the FileReader → files
//   2. resolve: includes inlined, variables expanded, conditionals decided → resolved (with origins)
//   3. check: apparmor_parser's semantic checks over the resolved policy → diagnostics
import type { Diagnostic } from '../diagnostic/index.js';
import { ALL_FEATURES, checkPolicy, dedupeDiagnostics, type FeatureSet } from '../check/index.js';
import { resolvePolicy, type FileReader, type ParseCache, type ParsedFile, type ResolvedPolicy } from '../resolve/index.js';

export interface LoadOptions {
  /** Include search path for `<magic>` includes; default `/etc/apparmor.d`. */
  readonly includePaths?: readonly string[];
  /** Base of relative includes and of a relative entry; default `/`. */
  readonly workingDirectory?: string;
  /** The entry's bytes when they do not come from the reader (stdin, an editor buffer). */
  readonly bytes?: Uint8Array;
  /** Share across loads of one run so each include is parsed once. */
  readonly cache?: ParseCache;
  /** Kernel feature set the checker checks against; default: the newest policy language. */
  readonly features?: FeatureSet;
}

export interface LoadedPolicy {
  /** Every file read, parsed, by the name origins use (`source.file`). */
  readonly files: ReadonlyMap<string, ParsedFile>;
  /** Profiles, hats, children, rules and variables, each with its origin (`source`: file, span, include chain). */
  readonly resolved: ResolvedPolicy;
  /** Syntax, resolution and check diagnostics, in that order, each reported once. */
  readonly diagnostics: readonly Diagnostic[];
  /** No diagnostic is an error: what apparmor_parser would load. */
  readonly ok: boolean;
  /** The entry itself could not be read (then `resolved` is empty). */
  readonly unreadable: boolean;
}

/** Load a policy file and everything it includes. Never throws: problems are diagnostics. */
export function loadPolicy(entry: string, reader: FileReader, options: LoadOptions = {}): LoadedPolicy {
  const resolution = resolvePolicy(entry, {
    reader,
    workingDirectory: options.workingDirectory ?? '/',
    ...(options.includePaths ? { includePaths: options.includePaths } : {}),
    ...(options.bytes ? { bytes: options.bytes } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  });
  const files = resolution.files;
  const checked = resolution.unreadable ? [] : checkPolicy({ resolved: resolution.policy, files }, { features: options.features ?? ALL_FEATURES });
  const diagnostics = dedupeDiagnostics([...resolution.diagnostics, ...checked]);
  return { files, resolved: resolution.policy, diagnostics, ok: !diagnostics.some((d) => d.severity === 'error'), unreadable: resolution.unreadable };
}
