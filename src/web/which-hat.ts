// One call for "which hat does this request run in": request mapping, the vector and mod_apparmor's
// selection together, as `hatter which-hat` and the server use them.
import type { ApacheConfig } from './apache-config.js';
import { apacheLogLine, selectHat, type HatSelection, type ProfileTree } from './hat-resolver.js';
import { hatCandidates, type HatCandidate, type HatOrder } from './hat-vector.js';
import { mapRequest, type MapOptions, type RequestMapping, type RequestTarget } from './request-map.js';

export interface WhichHatOptions {
  readonly order?: HatOrder;
  readonly map?: MapOptions;
}

export type WhichHatResult =
  | {
    readonly ok: true;
    readonly mapping: RequestMapping;
    readonly candidates: readonly HatCandidate[];
    readonly selection: HatSelection;
    /** mod_apparmor's NOTICE lines for deprecated Imm* directives in the configuration. */
    readonly notices: readonly string[];
  }
  | { readonly ok: false; readonly status: 400 | 404; readonly reason: string; readonly notices: readonly string[] };

export function whichHat(config: ApacheConfig, target: RequestTarget, profile: ProfileTree | 'unconfined', options: WhichHatOptions = {}): WhichHatResult {
  const notices = config.deprecatedDirectives.map((d) => apacheLogLine('notice', `${d} is deprecated, please use ${d === 'ImmHatName' ? 'AAHatName' : 'AADefaultHatName'} instead`));
  const mapping = mapRequest(config, target, options.map);
  if (!mapping.ok) return { ok: false, status: mapping.status, reason: mapping.reason, notices };
  const candidates = hatCandidates(mapping.vectorInput, options.order ?? 'current');
  const selection = selectHat(profile, candidates.map((c) => c.name), mapping.vectorInput);
  return { ok: true, mapping, candidates, selection, notices };
}
