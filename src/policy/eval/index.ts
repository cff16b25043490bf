// Public surface of policy/eval: what a profile or hat allows, why, and what an edit changed.
//   const { compiled } = compilePolicy(resolvedPolicy);
//   decide(compiled, 'apache2//alice.example', { class: 'file', path: '/srv/www/bob/wp-config.php', permissions: 'r' })
//     → { allowed, bits: [{ bit, outcome, log, rules }], exec?, grantedBy, deniedBy, noRuleMatched, notes }
//   diffPolicies(compiledBefore, compiledAfter) → per profile and class: equal, or witnesses with summaries
export { compilePolicy, createCompileCache, shareFileAutomata, normalizeAccess, normalizeRlimit, CLASS_ACCESS, FILE_BITS } from './compile.js';
export type { CompileCache, CompiledPolicy, CompiledProfile, FileBit, FileEntry, FileGroup, LinkEntry, MediatedClass } from './compile.js';
export { decide, UnknownRequestError, resolveFileBits, finishBit, execOf, type BitResolution } from './decide.js';
export { diffPolicies, type DiffOptions } from './diff.js';
export type {
  AccessRequest, AccessClass, BitDecision, ClassDiff, Decision, DiffWitness, ExecDecision, PolicyDiff, ProfileDiff, ProfileModeName,
} from './types.js';
