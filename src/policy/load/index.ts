// Public surface of policy/load: the staged loader every tool starts from, and the projections of its
// result that several layers share (finding a profile by label).
//   const loaded = loadPolicy('/etc/apparmor.d/usr.sbin.apache2', reader);
//   loaded.diagnostics; loaded.resolved.profiles[0].rules[0].source → file:line:col through includes
export { loadPolicy, type LoadOptions, type LoadedPolicy } from './load.js';
export { findProfile, allProfiles } from './find.js';
