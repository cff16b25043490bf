// Public surface of policy/model: the typed AST of one policy file.
//   const { cst, policy, diagnostics } = parsePolicyFile(text, file);   // parse + build in one call
//   const { policy } = buildPolicyModel(parsePolicy(text, file));       // or in two steps
// Nothing is expanded or resolved here (variables, includes, aliases stay raw): see policy/resolve.
// Every AST node has `span` (file, offset, length) and a non-enumerable `syntax` (its CST node).
export type * from './types.js';
export { buildPolicyModel, parsePolicyFile, unescape, variableName, type PolicyModel } from './build.js';
export { isRule, flattenBody, walkProfiles, topLevelProfiles, childProfiles, rulesOf } from './walk.js';
export { policyToJson } from './json.js';
export { normalizePolicy, canonicalPolicyText } from './normalize.js';
