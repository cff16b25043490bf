// Public surface of policy/label: the one Label type, its parser and printer. Imports nothing, so the
// log reader's worker threads can take it without loading the rest of the policy toolkit.
export { parseLabel, printLabel, makeLabel, hatLabel, hatOf, profileAndHat, type Label } from './label.js';
export { shadowingLearningProfiles } from './shadow.js';
