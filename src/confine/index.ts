// Public surface of confine: enforcement backends (none, landlock, apparmor) behind one interface.
export {
  BACKEND_NAMES, labelOf,
  type BackendName, type BackendAvailability, type RuntimeNeeds, type ConfinementRequest, type PreparedConfinement, type ConfinementBackend,
} from './backend.js';
export { NoneBackend, UNCONFINED_WARNING } from './none.js';
export { LandlockBackend, wideningWarnings, type LandlockBackendOptions, type LandlockPrepared } from './landlock.js';
export { AppArmorBackend, parseCurrentLabel, parseProfilesList, onexecCommand, type AppArmorBackendOptions, type AppArmorPrepared, type AppArmorRoots } from './apparmor.js';
export { createBackend, chooseBackend, type BackendOptions } from './choose.js';
export { findLauncher, intendedFds, kernelAuditEnabled, launcherArgs, nodeRuntimeNeeds, elfInterpreter, probeLandlock, resolveCommand, LAUNCHER_SETUP_FAILURE, type LandlockPathRule, type LaunchPlan, type LandlockProbe } from './launcher.js';
export { planLandlock, runtimeGrants, type LandlockTranslation, type WideningEntry } from './landlock-plan.js';
export { translateRequest, setWideningOracle, rightsText } from './landlock-plan.js';
export { translateHat, expandAlternations, coveringPath, rightsOf, type HatTranslation, type GrantOrigin, type RightClass, type TranslateOptions, type WideningOracle } from './landlock-translate.js';
export { aareWideningOracle, literalPattern } from './aare-oracle.js';
export { readHatRules, hatRulesOf, type HatRules, type HatFileRule, type HatOtherRule } from './hat-rules.js';
export { explainHat, NEWEST_KNOWN_ABI, type Explanation, type LandlockExplanation, type AppArmorExplanation, type ExplainOptions } from './explain.js';
export * from './change-hat.js';
export { grantedCapabilities, capabilityMask, capabilityNumber, capabilityNumbers, type GrantedCapabilities } from './capabilities.js';
export { grantedSockets, socketGrantText, socketGrantName, socketNeed, ADDRESS_FAMILIES, SOCKET_TYPES, type SocketGrant, type SocketPolicy } from './sockets.js';
export { loadIntoKernel, learningShadows, type KernelLoadOptions, type KernelLoadResult } from './kernel-load.js';
