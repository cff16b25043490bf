// From a confinement request to the Landlock grants the launcher applies, plus the exact widening.
import type { ConfinementRequest } from './backend.js';
import type { LandlockPathRule } from './launcher.js';
import type { Diagnostic } from '../policy/diagnostic.js';

/** Something the Landlock ruleset allows that the hat does not, or a hat rule it cannot keep. */
export interface WideningEntry {
  /** glob | deny | owner | metadata | rights | network | unix | runtime */
  readonly kind: string;
  /** Human one-liner, printed at startup and by `hatter confine explain`. */
  readonly summary: string;
  /** The Landlock grant responsible, when there is one. */
  readonly grant?: string;
  /** Where the hat rule came from (file:line), when known. */
  readonly source?: string;
  /** Example paths granted beyond the hat (from the AARE difference). */
  readonly witnesses?: readonly string[];
}

export interface LandlockTranslation {
  readonly abi: number;
  readonly paths: readonly LandlockPathRule[];
  readonly network?: { readonly bind: readonly number[]; readonly connect: readonly number[] };
  readonly scoped: boolean;
  readonly widening: readonly WideningEntry[];
}

/** Grants the worker's own runtime needs (program, libraries), outside the hat. */
export function runtimeGrants(runtime: ConfinementRequest['runtime']): LandlockPathRule[] {
  const rules: LandlockPathRule[] = [];
  for (const path of runtime.read) rules.push({ path, read: true, write: false, exec: false });
  for (const path of runtime.exec) rules.push({ path, read: true, write: false, exec: true });
  for (const path of runtime.write) rules.push({ path, read: true, write: true, exec: false });
  return rules;
}

export type HatTranslator = (request: ConfinementRequest, abi: number) => Promise<{ translation?: Omit<LandlockTranslation, 'abi'>; diagnostics: readonly Diagnostic[] }>;

let hatTranslator: HatTranslator | undefined;

/** Installed by landlock-translate.ts (keeps this module free of the policy toolchain). */
export function setHatTranslator(translator: HatTranslator): void {
  hatTranslator = translator;
}

export async function planLandlock(request: ConfinementRequest, abi: number): Promise<{ translation?: LandlockTranslation; diagnostics: readonly Diagnostic[] }> {
  const runtime = runtimeGrants(request.runtime);
  const ports = {
    bind: [...(request.runtime.bindPorts ?? [])],
    connect: [...(request.runtime.connectPorts ?? [])],
  };
  const runtimeWidening: WideningEntry[] = runtime.map((rule) => ({
    kind: 'runtime',
    summary: `runtime grant ${rightsText(rule)} ${rule.path} (needed by the worker program, not in the hat)`,
    grant: rule.path,
  }));
  if (!request.policyFile || !hatTranslator) {
    const diagnostics: Diagnostic[] = [];
    if (request.policyFile) {
      diagnostics.push({ file: request.policyFile, line: 1, col: 1, severity: 'warning', code: 'confine/policy-not-translated', message: 'the policy translator is not available in this build; only the runtime grants apply (narrower than the hat)' });
    }
    return {
      translation: {
        abi,
        paths: runtime,
        ...(abi >= 4 && (ports.bind.length || ports.connect.length) ? { network: ports } : {}),
        scoped: abi >= 6,
        widening: runtimeWidening,
      },
      diagnostics,
    };
  }
  const { translation, diagnostics } = await hatTranslator(request, abi);
  if (!translation) return { diagnostics };
  const network = translation.network
    ? { bind: [...new Set([...translation.network.bind, ...ports.bind])], connect: [...new Set([...translation.network.connect, ...ports.connect])] }
    : undefined;
  return {
    translation: {
      abi,
      paths: [...translation.paths, ...runtime],
      ...(network ? { network } : {}),
      scoped: translation.scoped,
      widening: [...translation.widening, ...runtimeWidening],
    },
    diagnostics,
  };
}

export function rightsText(rule: LandlockPathRule): string {
  return [rule.read ? 'r' : '', rule.write ? 'w' : '', rule.exec ? 'x' : ''].join('') || '-';
}
