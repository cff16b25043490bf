// mod_apparmor's per-request candidate list (hats-and-web.md §2 and §6): pure, no I/O.

/** `current` is upstream 2.9 onward; `2.8.95` is the older documented order, still in circulation. */
export type HatOrder = 'current' | '2.8.95';

export const HAT_ORDERS: readonly HatOrder[] = ['current', '2.8.95'];

/** The literal last-resort name mod_apparmor always appends. */
export const DEFAULT_URI_HAT = 'DEFAULT_URI';

/** The hat every prefork child sits in between requests. */
export const UNTRUSTED_INPUT_HAT = 'HANDLING_UNTRUSTED_INPUT';

export interface HatVectorInput {
  readonly hatName?: string;        // AAHatName from the merged per-directory config
  readonly defaultHatName?: string; // AADefaultHatName of the matched vhost (not inherited from the main server)
  readonly serverName: string;      // the matched vhost's configured ServerName (never the Host header)
  readonly uri: string;             // decoded, normalized path, no query string
}

/** Which source produced each name, for explanations. */
export type HatSource = 'AAHatName' | 'AADefaultHatName' | 'ServerName' | 'ServerName-URI' | 'URI' | 'DEFAULT_URI';

export interface HatCandidate {
  readonly name: string;
  readonly source: HatSource;
}

/** The vector with the origin of each name. */
export function hatCandidates(input: HatVectorInput, order: HatOrder = 'current'): HatCandidate[] {
  const out: HatCandidate[] = [];
  if (input.hatName !== undefined) out.push({ name: input.hatName, source: 'AAHatName' });
  const serverDefault: HatCandidate = input.defaultHatName !== undefined
    ? { name: input.defaultHatName, source: 'AADefaultHatName' }
    : { name: input.serverName, source: 'ServerName' };
  if (order === '2.8.95') {
    out.push({ name: input.uri, source: 'URI' });
    out.push(serverDefault);
  } else {
    out.push(serverDefault);
    // Always the ServerName, even when AADefaultHatName is set.
    out.push({ name: `${input.serverName}-${input.uri}`, source: 'ServerName-URI' });
    out.push({ name: input.uri, source: 'URI' });
  }
  out.push({ name: DEFAULT_URI_HAT, source: 'DEFAULT_URI' });
  return out;
}

/** mod_apparmor's candidate list, in order, at most 5 names. */
export function hatVector(input: HatVectorInput, order: HatOrder = 'current'): string[] {
  return hatCandidates(input, order).map((c) => c.name);
}
