// Public surface of policy/resolve: includes, variables, booleans, conditionals, aliases → resolved
// policy with source chains.
//   const { policy, diagnostics } = resolvePolicy('/etc/apparmor.d/usr.sbin.apache2', { reader, workingDirectory: '/' });
//   policy.profiles[0].children[0].rules[0].source  → file:line:col and the include chain
export { resolvePolicy, type ResolveOptions, type ResolveResult } from './resolve.js';
export type {
  ResolvedPolicy, ResolvedProfile, ResolvedRule, ResolvedFileRule, ResolvedLinkRule, ResolvedCapabilityRule,
  ResolvedChangeProfileRule, ResolvedRlimitRule, ResolvedGenericRule, RuleRef, ResolvedRulePrefix, RuleDecision, OwnerScope,
  ProfileKind, ExecMode, ExecTransition, FilePermission,
} from './types.js';
export { parseFileMode, sameExec, type ParsedFileMode } from './permissions.js';
export { memoryFileReader, snapshotFileReader, type FileReader, type FileKind } from './files.js';
export { lookupInclude, skippedEntry, alphasortCompare, type IncludeLookup } from './includes.js';
export { VariableTable, escapeProfileName, splitReferences, BUILTIN_VARIABLES, type BuiltinValues } from './variables.js';
export { evaluateCondition, parseInteger, type ConditionExpression, type ComparisonOperator } from './conditions.js';
export { createParseCache, parseBytes, parseText, type ParseCache, type ParsedFile } from './parse-cache.js';
export { indexSyntax, type SyntaxIndex } from './syntax-index.js';
export type { ResolvedVariable } from './types.js';
