// Compile inline policies for evaluator tests (in memory; includes resolve against the given files).
import { checkPolicy } from '../../../src/policy/check/index.js';
import { compilePolicy, type CompileCache, type CompiledPolicy } from '../../../src/policy/eval/index.js';
import { memoryFileReader } from '../../../src/policy/resolve/index.js';

export function compileText(text: string, extraFiles: Record<string, string> = {}, cache?: CompileCache): CompiledPolicy {
  const reader = memoryFileReader({ '/policy/test': text, ...extraFiles });
  const result = checkPolicy('/policy/test', { reader, workingDirectory: '/policy', includePaths: ['/etc/apparmor.d'] });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`test policy does not check: ${errors.map((d) => `${d.line}:${d.col} ${d.message}`).join('; ')}\n${text}`);
  const { compiled, diagnostics } = compilePolicy(result.policy, cache ? { cache } : {});
  if (diagnostics.some((d) => d.severity === 'error')) throw new Error(`test policy does not compile: ${diagnostics[0]!.message}`);
  return compiled;
}

/** Wrap rules in `profile p { … }`. */
export const profile = (rules: string, name = 'p') => `profile ${name} {\n${rules}\n}\n`;
