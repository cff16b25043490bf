// How every command reads a policy: loadPolicy (read, parse, resolve, check) on the real file system,
// then, for the commands that answer questions about it (query, diff), compilation. One place, so
// every command reports the checker's diagnostics the same way: errors stop, warnings print.
//
// This module stays light: a load answered from the compile cache needs only the cache, the codec and
// the compiled model. The parser, resolver and checker (load-fresh.ts) are imported when a load runs.
import { resolve } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../policy/diagnostic/index.js';
import { shareFileAutomata, type CompileCache } from '../policy/eval/index.js';
import type { FeatureSet } from '../policy/check/index.js';
import type { ParseCache } from '../policy/resolve/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import { loadThroughCacheAsync } from './load-cache.js';
import { UsageError, type CliIo } from './io.js';

export type { CompiledPolicyLoad, PolicyFileOptions, PolicyInput } from './policy-input.js';
import type { CompiledPolicyLoad, PolicyFileOptions, PolicyInput } from './policy-input.js';

export async function readFeatures(io: CliIo, file: string | undefined): Promise<FeatureSet | undefined> {
  if (!file) return undefined;
  const bytes = nodeFileReader().readFile(resolve(io.cwd, file));
  if (!bytes) throw new UsageError(`cannot read features file '${file}'`);
  const { parseFeatures } = await import('./load-fresh.js');
  return parseFeatures(Buffer.from(bytes).toString('utf8'), file);
}

/** A parse cache for several loads in one run (loaded with the parser). */
export async function newParseCache(): Promise<ParseCache> {
  return (await import('./load-fresh.js')).createParseCache();
}

/**
 * Load and compile: the one function `hatter query` and `hatter diff` get their automata from (a
 * compile cache hooks in here). Only a policy apparmor_parser accepts is compiled, as the kernel
 * would only ever see one.
 */
export async function loadCompiledPolicy(io: CliIo, input: PolicyInput, options: PolicyFileOptions & { compileCache?: CompileCache } = {}): Promise<CompiledPolicyLoad> {
  const store = options.compileCache?.store;
  const keyParts = { file: resolve(io.cwd, input.file), display: input.file, cwd: io.cwd, text: input.text ?? (input.bytes ? Buffer.from(input.bytes).toString('base64') : null), includeDirs: options.includeDirs ?? [], features: options.features ?? null };
  // Answered from the compile cache's store when nothing the load read has changed (load-cache.ts). A
  // recorded load gets a parse cache of its own: files parsed by another load would not be recorded.
  return loadThroughCacheAsync(store, keyParts, nodeFileReader(), async (reader) => {
    const fresh = await import('./load-fresh.js');
    return fresh.loadAndCompile(io, input, reader, store ? { ...options, cache: fresh.createParseCache() } : options);
  }, {
    cacheable: (loaded) => loaded.ok,
    revive: (loaded) => (loaded.ok && options.compileCache ? { ...loaded, compiled: shareFileAutomata(loaded.compiled, options.compileCache) } : loaded),
  });
}

export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
}
