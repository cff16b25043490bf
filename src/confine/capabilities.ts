// The capabilities a hat grants, as AppArmor decides them: the union of its `capability` rules (a bare
// `capability,` or `all,` grants every one) minus its `deny capability` rules. The launcher keeps
// exactly these (-C) in every capability set of the worker, so root without them is an ordinary user.
import { keywordTables } from '../policy/check/index.js';
import type { HatOtherRule } from './hat-rules.js';

export interface GrantedCapabilities {
  /** Capability names (capabilities(7), lowercase, no CAP_), in kernel bit order. */
  readonly names: readonly string[];
  /** Their kernel numbers (bit positions). */
  readonly numbers: readonly number[];
}

const { CAPABILITIES } = keywordTables;

export function capabilityNumber(name: string): number | undefined {
  const index = CAPABILITIES.indexOf(name.toLowerCase().replace(/^cap_/, ''));
  return index < 0 ? undefined : index;
}

/** What `rules` grant (unknown names grant nothing: the checker reports them). */
export function grantedCapabilities(rules: readonly HatOtherRule[], extra: readonly string[] = []): GrantedCapabilities {
  const allowed = new Set<string>();
  const denied = new Set<string>();
  for (const rule of rules) {
    const every = rule.kind === 'file-all' || (rule.kind === 'capability' && rule.words.length === 0);
    if (rule.kind !== 'capability' && !(rule.kind === 'file-all' && !rule.deny)) continue;
    const target = rule.deny ? denied : allowed;
    for (const name of every ? CAPABILITIES : rule.words) target.add(name.toLowerCase());
  }
  for (const name of extra) allowed.add(name);
  const names = CAPABILITIES.filter((name) => allowed.has(name) && !denied.has(name));
  return { names, numbers: names.map((name) => CAPABILITIES.indexOf(name)) };
}

/** The launcher's -C argument: a hex mask with bit n for capability n. */
export function capabilityMask(numbers: readonly number[]): string {
  let mask = 0n;
  for (const n of numbers) mask |= 1n << BigInt(n);
  return `0x${mask.toString(16)}`;
}

/** Parse a /proc/PID/status capability line value (hex) into numbers. */
export function capabilityNumbers(hex: string): number[] {
  const mask = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let n = 0; n < 64; n++) if (mask & (1n << BigInt(n))) out.push(n);
  return out;
}

/**
 * The capability sets of a /proc/PID/status text that hold more than `allowed` (kernel numbers), e.g.
 * ['CapEff']. The bounding set is checked only when `bounding` (a server without CAP_SETPCAP cannot
 * lower it).
 */
export function capabilitySetsBeyond(status: string, allowed: readonly number[], bounding: boolean): string[] {
  const permitted = new Set(allowed);
  const sets = ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', ...(bounding ? ['CapBnd'] : [])];
  return sets.filter((set) => {
    const hex = new RegExp(`^${set}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
    return hex !== undefined && capabilityNumbers(hex).some((n) => !permitted.has(n));
  });
}
