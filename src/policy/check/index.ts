// Public surface of policy/check: apparmor_parser-compatible semantic checks and kernel feature sets.
//   const result = checkPolicy('usr.sbin.apache2', { reader, workingDirectory: '/etc/apparmor.d' });
//   result.ok, result.diagnostics (errors and warnings), result.policy (the resolved policy)
export { checkPolicy, dedupeDiagnostics, type CheckInput, type CheckOptions, type CheckResult } from './check.js';
export { FeatureSet, ALL_FEATURES, parseFeatureSet, type FeatureNode, type FeatureSetProblem } from './features.js';
export { createParseCache, type ParseCache } from '../resolve/index.js';
export * as keywordTables from '../vocabulary.js';
