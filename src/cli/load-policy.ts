// Shared by `hatter query` and `hatter diff`: read, resolve, check and compile one policy file (or
// policy text), the way the kernel would only ever see a policy apparmor_parser accepts.
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../policy/diagnostic.js';
import { checkPolicy, createParseCache, parseFeatureSet, type FeatureSet, type ParseCache } from '../policy/check/index.js';
import { compilePolicy, shareFileAutomata, type CompileCache, type CompiledPolicy } from '../policy/eval/index.js';
import type { FileReader } from '../policy/resolve/index.js';
import { nodeFileReader } from '../policy/resolve/node-file-reader.js';
import { loadThroughCache } from './load-cache.js';
import { UsageError, type CliIo } from './io.js';

export interface PolicyInput {
  /** A path, or a display name when `text` is given. */
  readonly file: string;
  readonly text?: string;
}

export type LoadedPolicy =
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

type LoadOptions = { includeDirs?: readonly string[]; features?: FeatureSet; cache?: ParseCache; compileCache?: CompileCache };

/** Read, resolve, check and compile; answered from the compile cache's store when nothing read has changed (load-cache.ts). */
export function loadPolicy(io: CliIo, input: PolicyInput, options: LoadOptions = {}): LoadedPolicy {
  const store = options.compileCache?.store;
  const keyParts = { file: resolve(io.cwd, input.file), display: input.file, cwd: io.cwd, text: input.text ?? null, includeDirs: options.includeDirs ?? [], features: options.features ?? null };
  // A recorded load gets a parse cache of its own: files parsed by another load would not be recorded.
  return loadThroughCache(store, keyParts, nodeFileReader(), (reader) => loadUncached(io, input, reader, store ? { ...options, cache: createParseCache() } : options), {
    cacheable: (loaded) => loaded.ok,
    revive: (loaded) => (loaded.ok && options.compileCache ? { ...loaded, compiled: shareFileAutomata(loaded.compiled, options.compileCache) } : loaded),
  });
}

function loadUncached(io: CliIo, input: PolicyInput, reader: FileReader, options: LoadOptions): LoadedPolicy {
  const file = resolve(io.cwd, input.file);
  const result = checkPolicy(file, {
    reader,
    workingDirectory: io.cwd,
    cache: options.cache ?? createParseCache(),
    ...(options.includeDirs?.length ? { includePaths: options.includeDirs.map((d) => resolve(io.cwd, d)) } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(input.text !== undefined ? { bytes: Buffer.from(input.text, 'utf8') } : {}),
  });
  if (result.unreadable) {
    return { ok: false, diagnostics: result.diagnostics.length ? result.diagnostics : [{ file: input.file, line: 1, col: 1, severity: 'error', code: 'query/unreadable', message: `cannot read '${input.file}'` }] };
  }
  if (!result.ok) return { ok: false, diagnostics: result.diagnostics.filter((d) => d.severity === 'error') };
  const { compiled, diagnostics } = compilePolicy(result.policy, options.compileCache ? { cache: options.compileCache } : {});
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) return { ok: false, diagnostics: errors };
  return { ok: true, compiled, warnings: result.diagnostics.filter((d) => d.severity !== 'error') };
}

export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}
