// The whole policy pipeline (read, parse, resolve, check, compile) on the real file system. Kept apart
// from load-policy.ts so that a command answered from the compile cache never loads the parser, the
// resolver or the checker: they are imported (await import) only when a load actually runs.
import { resolve } from 'node:path';
import { compilePolicy, type CompileCache } from '../policy/eval/index.js';
import { loadPolicy, type LoadedPolicy } from '../policy/load/index.js';
import { parseFeatureSet, type FeatureSet } from '../policy/check/index.js';
import type { FileReader } from '../policy/resolve/index.js';
import { nodeFileReader } from '../policy-node/index.js';
import type { CompiledPolicyLoad, PolicyFileOptions, PolicyInput } from './policy-input.js';
import { UsageError, type CliIo } from './io.js';

export { createParseCache } from '../policy/resolve/index.js';

export function parseFeatures(text: string, file: string): FeatureSet {
  const parsed = parseFeatureSet(text, file);
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

/** Load and compile; only a policy apparmor_parser accepts is compiled, as the kernel would only ever see one. */
export function loadAndCompile(io: CliIo, input: PolicyInput, reader: FileReader, options: PolicyFileOptions & { compileCache?: CompileCache }): CompiledPolicyLoad {
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
