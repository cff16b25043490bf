// How every command reads a policy: loadPolicy (read, parse, resolve, check) on the real file system,
// then, for the commands that answer questions about it (query, diff), compilation. One place, so
// every command reports the checker's diagnostics the same way: errors stop, warnings print.
import { resolve } from 'node:path';
import {
  compilePolicy, createParseCache, formatDiagnostic, loadPolicy, parseFeatureSet, shareFileAutomata,
  type CompileCache, type CompiledPolicy, type Diagnostic, type FeatureSet, type FileReader, type LoadedPolicy, type ParseCache,
} from '../policy/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { loadThroughCache } from './load-cache.js';
import { UsageError, type CliIo } from './io.js';

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

export function readFeatures(io: CliIo, file: string | undefined): FeatureSet | undefined {
  if (!file) return undefined;
  const bytes = nodeFileReader().readFile(resolve(io.cwd, file));
  if (!bytes) throw new UsageError(`cannot read features file '${file}'`);
  const parsed = parseFeatureSet(Buffer.from(bytes).toString('utf8'), file);
  if (!('root' in parsed)) throw new UsageError(`features file '${file}' is malformed: ${parsed.message}`);
  return parsed;
}

/** Load a policy file (or text) from the command line's point of view: relative to io.cwd, -I dirs. */
export function loadPolicyFile(io: CliIo, input: PolicyInput, options: PolicyFileOptions = {}, reader: FileReader = nodeFileReader()): LoadedPolicy {
  // The name as the user wrote it: diagnostics then name files the way the user named them.
  return loadPolicy(input.file, reader, {
    workingDirectory: io.cwd,
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.includeDirs?.length ? { includePaths: options.includeDirs.map((d) => resolve(io.cwd, d)) } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(input.bytes ? { bytes: input.bytes } : input.text !== undefined ? { bytes: Buffer.from(input.text, 'utf8') } : {}),
  });
}

/**
 * Load and compile: the one function `hatter query` and `hatter diff` get their automata from (a
 * compile cache hooks in here). Only a policy apparmor_parser accepts is compiled, as the kernel
 * would only ever see one.
 */
export function loadCompiledPolicy(io: CliIo, input: PolicyInput, options: PolicyFileOptions & { compileCache?: CompileCache } = {}): CompiledPolicyLoad {
  const store = options.compileCache?.store;
  const keyParts = { file: resolve(io.cwd, input.file), display: input.file, cwd: io.cwd, text: input.text ?? (input.bytes ? Buffer.from(input.bytes).toString('base64') : null), includeDirs: options.includeDirs ?? [], features: options.features ?? null };
  // Answered from the compile cache's store when nothing the load read has changed (load-cache.ts). A
  // recorded load gets a parse cache of its own: files parsed by another load would not be recorded.
  return loadThroughCache(store, keyParts, nodeFileReader(), (reader) => loadAndCompile(io, input, reader, store ? { ...options, cache: createParseCache() } : options), {
    cacheable: (loaded) => loaded.ok,
    revive: (loaded) => (loaded.ok && options.compileCache ? { ...loaded, compiled: shareFileAutomata(loaded.compiled, options.compileCache) } : loaded),
  });
}

function loadAndCompile(io: CliIo, input: PolicyInput, reader: FileReader, options: PolicyFileOptions & { compileCache?: CompileCache }): CompiledPolicyLoad {
  const loaded = loadPolicyFile(io, input, options, reader);
  if (loaded.unreadable) {
    return { ok: false, diagnostics: loaded.diagnostics.length ? loaded.diagnostics : [{ file: input.file, line: 1, col: 1, severity: 'error', code: 'query/unreadable', message: `cannot read '${input.file}'` }] };
  }
  if (!loaded.ok) return { ok: false, diagnostics: loaded.diagnostics.filter((d) => d.severity === 'error') };
  const { compiled, diagnostics } = compilePolicy(loaded.resolved, options.compileCache ? { cache: options.compileCache } : {});
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) return { ok: false, diagnostics: errors };
  return { ok: true, compiled, warnings: loaded.diagnostics.filter((d) => d.severity !== 'error') };
}

export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}
