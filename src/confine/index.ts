// Public surface of confine: enforcement backends (none, landlock, apparmor) behind one interface.
export {
  BACKEND_NAMES, labelOf, parseLabel,
  type BackendName, type BackendAvailability, type RuntimeNeeds, type ConfinementRequest, type PreparedConfinement, type ConfinementBackend,
} from './backend.js';
export { NoneBackend, UNCONFINED_WARNING } from './none.js';
export { LandlockBackend, type LandlockBackendOptions, type LandlockPrepared } from './landlock.js';
export { AppArmorBackend, parseCurrentLabel, parseProfilesList, onexecCommand, type AppArmorBackendOptions, type AppArmorPrepared, type AppArmorRoots } from './apparmor.js';
export { createBackend, chooseBackend, type BackendOptions } from './choose.js';
export { findLauncher, launcherArgs, nodeRuntimeNeeds, probeLandlock, resolveCommand, LAUNCHER_SETUP_FAILURE, type LandlockPathRule, type LaunchPlan, type LandlockProbe } from './launcher.js';
export { planLandlock, runtimeGrants, type LandlockTranslation, type WideningEntry } from './landlock-plan.js';
