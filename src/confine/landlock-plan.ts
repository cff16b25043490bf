// From a confinement request to the Landlock grants the launcher applies, plus the exact widening.
import { labelOf, type ConfinementRequest } from './backend.js';
import type { LandlockPathRule } from './launcher.js';
import { lstatSync, opendirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join } from 'node:path';
import { readHatRules, type HatRules } from './hat-rules.js';
import { aareWideningOracle } from './aare-oracle.js';
import { EXPANSION_LIMITS, translateHat, type DirectoryEntry, type HatTranslation } from './landlock-translate.js';
import type { WideningEntry, WideningOracle } from './widening.js';
import type { Diagnostic } from '../policy/index.js';
import type { SocketGrant } from './sockets.js';

export type { WideningEntry } from './widening.js';

export interface LandlockTranslation {
  readonly abi: number;
  readonly paths: readonly LandlockPathRule[];
  readonly network?: { readonly bind: readonly number[]; readonly connect: readonly number[] };
  readonly scoped: boolean;
  readonly widening: readonly WideningEntry[];
  /** For explain: which hat rules each grant came from (absent without a policy file). */
  readonly grants?: HatTranslation['grants'];
  readonly narrowing: HatTranslation['narrowing'];
  readonly ownProc?: readonly string[];
  readonly capabilities: HatTranslation['capabilities'];
  readonly sockets: HatTranslation['sockets'];
}

/** Grants the worker's own runtime needs (program, libraries), outside the hat. */
export function runtimeGrants(runtime: ConfinementRequest['runtime']): LandlockPathRule[] {
  const rules: LandlockPathRule[] = [];
  for (const path of runtime.read) rules.push({ path, read: true, write: false, exec: false });
  for (const path of runtime.exec) rules.push({ path, read: true, write: false, exec: true });
  for (const path of runtime.write) rules.push({ path, read: true, write: true, exec: false });
  return rules;
}

function runtimeKernelNeeds(runtime: ConfinementRequest['runtime'], allowWidening?: readonly string[]): { runtimeCapabilities?: readonly string[]; runtimeSockets?: readonly SocketGrant[]; allowWidening?: readonly string[] } {
  if (allowWidening?.length) return { ...runtimeKernelNeeds(runtime), allowWidening };
  return { ...(runtime.capabilities ? { runtimeCapabilities: runtime.capabilities } : {}), ...(runtime.sockets ? { runtimeSockets: runtime.sockets } : {}) };
}

function isDirectory(path: string): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch {
    return undefined;
  }
}

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function kindOf(entry: Dirent | Stats): DirectoryEntry['kind'] {
  return entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'symlink' : entry.isFile() ? 'file' : 'other';
}

/** At most `max` + 1 entries of a directory (the walk stops past `max`), symlinks not followed. */
function list(dir: string, max: number): DirectoryEntry[] | undefined {
  let handle;
  try {
    handle = opendirSync(dir);
  } catch {
    return undefined;
  }
  const entries: DirectoryEntry[] = [];
  try {
    for (let entry = handle.readSync(); entry && entries.length <= max; entry = handle.readSync()) {
      // Some file systems do not say the type in the directory (DT_UNKNOWN): ask lstat then.
      const known = entry.isDirectory() || entry.isSymbolicLink() || entry.isFile() || entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice();
      entries.push({ name: entry.name, kind: kindOf(known ? entry : lstatSync(join(dir, entry.name))) });
    }
  } catch {
    return undefined;
  } finally {
    handle.closeSync();
  }
  return entries;
}

let defaultOracle: WideningOracle | undefined = aareWideningOracle();

/** Install the exact widening computation (the AARE engine adapter). */
export function setWideningOracle(oracle: WideningOracle | undefined): void {
  defaultOracle = oracle;
}

/** One answer per path for the whole translation (it asks about the same grants many times). */
function memoized<T>(lookup: (path: string) => T): (path: string) => T {
  const answers = new Map<string, T>();
  return (path) => {
    if (answers.has(path)) return answers.get(path)!;
    const answer = lookup(path);
    answers.set(path, answer);
    return answer;
  };
}

/** `list` once per directory for the whole translation (several globs of a hat walk the same trees). */
function memoizedList(): (dir: string, max: number) => readonly DirectoryEntry[] | undefined {
  const lookup = memoized((dir: string) => list(dir, EXPANSION_LIMITS.entries));
  return (dir) => lookup(dir);
}

/**
 * The hat's rules from the policy file, as Landlock grants. `readRules` reads them (the CLI passes one
 * that answers from the compile cache).
 */
export function translateRequest(request: ConfinementRequest, abi: number, oracle: WideningOracle | undefined = defaultOracle, readRules: typeof readHatRules = readHatRules): { translation?: HatTranslation; rules?: HatRules; diagnostics: Diagnostic[] } {
  const runtime = runtimeGrants(request.runtime);
  const { rules, diagnostics } = readRules(request.policyFile!, request.profile, request.hat, { ...(request.includeDirs ? { includeDirs: request.includeDirs } : {}) });
  if (!rules || diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const translation = translateHat(rules, { abi, isDirectory: memoized(isDirectory), realpath: memoized(realpath), list: memoizedList(), runtime, ...runtimeKernelNeeds(request.runtime, request.allowWidening), ...(oracle ? { oracle } : {}) });
  return { translation, rules, diagnostics };
}

export async function planLandlock(request: ConfinementRequest, abi: number): Promise<{ translation?: LandlockTranslation; diagnostics: readonly Diagnostic[] }> {
  const ports = {
    bind: [...(request.runtime.bindPorts ?? [])],
    connect: [...(request.runtime.connectPorts ?? [])],
  };
  // Without a policy file the hat is empty: the worker gets its runtime grants and nothing else.
  const result = request.policyFile
    ? translateRequest(request, abi)
    : { translation: translateHat({ label: labelOf(request), files: [], others: [] }, { abi, isDirectory, realpath, runtime: runtimeGrants(request.runtime), ...runtimeKernelNeeds(request.runtime, request.allowWidening), ...(defaultOracle ? { oracle: defaultOracle } : {}) }), diagnostics: [] };
  const { translation, diagnostics } = result;
  if (!translation) return { diagnostics };
  const network = translation.network
    ? { bind: [...new Set([...translation.network.bind, ...ports.bind])], connect: [...new Set([...translation.network.connect, ...ports.connect])] }
    : undefined;
  return {
    translation: {
      abi,
      paths: translation.paths,
      ...(network ? { network } : {}),
      scoped: translation.scoped,
      widening: translation.widening,
      grants: translation.grants,
      narrowing: translation.narrowing,
      ...(translation.ownProc ? { ownProc: translation.ownProc } : {}),
      capabilities: translation.capabilities,
      sockets: translation.sockets,
    },
    diagnostics,
  };
}

export function rightsText(rule: LandlockPathRule): string {
  return [rule.read ? 'r' : '', rule.write ? 'w' : '', rule.exec ? 'x' : ''].join('') || '-';
}
