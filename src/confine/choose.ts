// Picking a backend: `auto` prefers AppArmor when enabled and the policy is loaded, else Landlock, else
// refuses; `none` only when asked for by name.
import { labelOf, type BackendName, type ConfinementBackend, type ConfinementRequest } from './backend.js';
import { AppArmorBackend, type AppArmorBackendOptions } from './apparmor.js';
import { LandlockBackend, type LandlockBackendOptions } from './landlock.js';
import { NoneBackend } from './none.js';

export interface BackendOptions {
  readonly apparmor?: AppArmorBackendOptions;
  readonly landlock?: LandlockBackendOptions;
}

export function createBackend(name: BackendName, options: BackendOptions = {}): ConfinementBackend {
  switch (name) {
    case 'none': return new NoneBackend();
    case 'landlock': return new LandlockBackend(options.landlock);
    case 'apparmor': return new AppArmorBackend(options.apparmor);
  }
}

export async function chooseBackend(
  requested: 'auto' | BackendName,
  request?: ConfinementRequest,
  options: BackendOptions = {},
): Promise<{ backend?: ConfinementBackend; reason: string }> {
  if (requested !== 'auto') {
    const backend = createBackend(requested, options);
    const availability = await backend.probe();
    return availability.available
      ? { backend, reason: `${requested} (requested): ${availability.reason}` }
      : { reason: `backend ${requested} is not available: ${availability.reason}` };
  }
  const apparmor = new AppArmorBackend(options.apparmor);
  const apparmorAvailability = await apparmor.probe();
  let apparmorWhyNot = apparmorAvailability.reason;
  if (apparmorAvailability.available) {
    if (!request) return { backend: apparmor, reason: `apparmor: ${apparmorAvailability.reason}` };
    const profiles = await apparmor.loadedProfiles();
    const wanted = labelOf(request);
    if (profiles.has(wanted) || options.apparmor?.loadPolicy) return { backend: apparmor, reason: `apparmor: ${apparmorAvailability.reason}; ${wanted} ${profiles.has(wanted) ? 'is loaded' : 'will be loaded'}` };
    apparmorWhyNot = `AppArmor is enabled but ${wanted} is not loaded (use --load-policy)`;
  }
  const landlock = new LandlockBackend(options.landlock);
  const landlockAvailability = await landlock.probe();
  if (landlockAvailability.available) return { backend: landlock, reason: `landlock: ${landlockAvailability.reason} (apparmor: ${apparmorWhyNot})` };
  return { reason: `no confinement backend available (apparmor: ${apparmorWhyNot}; landlock: ${landlockAvailability.reason}); pass --backend none to run unconfined` };
}
