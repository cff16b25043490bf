// Public surface of learn: audit events → needs → proposals (with alternatives, witnesses and tenant
// safety) → answers → PolicyEdits. Pure: the CLI reads files and writes the edited policy.
//   const needs = needsFromEvents(events, compiled);
//   const proposals = propose(needs, { policy: compiled, variables: loaded.resolved.variables, tenants });
//   const { edits } = applyAnswers(proposals, defaultAnswers(proposals));
export type * from './model.js';
export type { FileChange, PolicyEdit } from './edit-model.js';
export { MAX_SAMPLE_LINES } from './model.js';
export { mapLearningLabel, needsFromEvents, NeedCollector, parentForHat, type MappedLabel, type NeedOptions, type NeedStats } from './needs.js';
export { propose, Proposer, ruleToken, type Abstraction, type ProposeContext } from './propose.js';
export { TenantGuard } from './tenant.js';
export { applyAnswers, defaultAnswers, parseAnswers } from './answers.js';
export { Review, REVIEW_KEYS, renderGroup, renderReview, type ReviewKey } from './review.js';
