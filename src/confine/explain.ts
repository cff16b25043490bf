// `hatter confine explain`: for one hat, the kernel rules each backend would apply and what it cannot express.
import type { BlobStore, Diagnostic } from '../policy/index.js';
import { aareWideningOracle } from './aare-oracle.js';
import type { readHatRules } from './hat-rules.js';
import { labelOf, type BackendName } from './backend.js';
import { onexecCommand } from './apparmor.js';
import { findLauncher, launcherArgs, probeLandlock } from './launcher.js';
import { translateRequest } from './landlock-plan.js';
import type { GrantOrigin } from './landlock-translate.js';
import type { LandlockPathRule } from './launcher.js';
import type { WideningEntry } from './widening.js';
import { socketGrantName } from './sockets.js';

export const NEWEST_KNOWN_ABI = 7;

export interface LandlockExplanation {
  readonly backend: 'landlock';
  readonly label: string;
  readonly abi: number;
  /** Where the ABI came from: the running kernel, --abi, or an assumption. */
  readonly abiSource: 'kernel' | 'option' | 'assumed';
  readonly paths: readonly LandlockPathRule[];
  readonly grants: readonly GrantOrigin[];
  readonly network: { readonly bind: readonly number[]; readonly connect: readonly number[] } | null;
  readonly scoped: boolean;
  readonly widening: readonly WideningEntry[];
  /** Hat rules granted less than they say (owner rules, other processes' /proc, conditional network rules). */
  readonly narrowing: readonly WideningEntry[];
  /** Rights beneath the worker's own /proc/<pid>. */
  /** The launcher's -P entries (RIGHTS or RIGHTS:/SUB beneath the worker's own /proc/<pid>), or null. */
  readonly ownProc: readonly string[] | null;
  /** Capabilities kept in every set (names). */
  readonly capabilities: readonly string[];
  /** Sockets the worker may create ('all', or one line per grant). */
  readonly sockets: 'all' | readonly string[];
  /** The launcher arguments the supervisor would use (before the worker's own runtime grants). */
  readonly launcherArgs: readonly string[];
}

export interface AppArmorExplanation {
  readonly backend: 'apparmor';
  readonly label: string;
  /** What the launcher writes to /proc/self/attr/apparmor/exec before execve. */
  readonly attrExec: string;
  readonly launcherArgs: readonly string[];
  readonly notes: readonly string[];
}

export type Explanation = LandlockExplanation | AppArmorExplanation;

export interface ExplainOptions {
  readonly policyFile: string;
  readonly includeDirs?: readonly string[];
  readonly profile: string;
  readonly hat: string | null;
  readonly backends: readonly Exclude<BackendName, 'none'>[];
  /** Landlock ABI to explain for; default: the running kernel's, else the newest known. */
  readonly abi?: number;
  /** landlock.allowWidening of the configuration. */
  readonly allowWidening?: readonly string[];
  /** Where the exact widening answers are kept between runs (the compile cache, docs/cache.md). */
  readonly cache?: BlobStore;
  /** How the hat's rules are read (default readHatRules; the CLI's answers from the compile cache). */
  readonly readRules?: typeof readHatRules;
}

export function explainHat(options: ExplainOptions): { explanations: Explanation[]; diagnostics: Diagnostic[] } {
  const label = labelOf(options);
  const explanations: Explanation[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const backend of options.backends) {
    if (backend === 'landlock') {
      let abi = options.abi;
      let abiSource: LandlockExplanation['abiSource'] = 'option';
      if (abi === undefined) {
        const launcher = findLauncher();
        const probe = launcher ? probeLandlock(launcher) : undefined;
        if (probe && 'abi' in probe && probe.abi > 0) { abi = probe.abi; abiSource = 'kernel'; }
        else { abi = NEWEST_KNOWN_ABI; abiSource = 'assumed'; }
      }
      const request = { policyFile: options.policyFile, profile: options.profile, hat: options.hat, runtime: { read: [], write: [], exec: [] }, ...(options.includeDirs ? { includeDirs: options.includeDirs } : {}), ...(options.allowWidening ? { allowWidening: options.allowWidening } : {}) };
      const result = translateRequest(request, abi, options.cache ? aareWideningOracle({ store: options.cache }) : undefined, options.readRules);
      diagnostics.push(...result.diagnostics);
      if (!result.translation) continue;
      const t = result.translation;
      explanations.push({
        backend: 'landlock', label, abi, abiSource,
        paths: t.paths, grants: t.grants, network: t.network ?? null, scoped: t.scoped, widening: t.widening, narrowing: t.narrowing,
        ownProc: t.ownProc ?? null, capabilities: t.capabilities.names, sockets: t.sockets.all ? 'all' : t.sockets.grants.map(socketGrantName),
        launcherArgs: launcherArgs({
          landlock: { paths: t.paths, ...(t.network ? { network: t.network } : {}), scoped: t.scoped, ...(t.ownProc ? { ownProc: t.ownProc } : {}) },
          capabilities: t.capabilities.numbers, ...(t.sockets.all ? {} : { sockets: t.sockets.grants }),
        }),
      });
    } else {
      explanations.push({
        backend: 'apparmor', label,
        attrExec: onexecCommand(label),
        launcherArgs: launcherArgs({ apparmor: { label }, noNewPrivs: false }),
        notes: [
          `the kernel enforces ${label} exactly as written (globs, deny, owner, every rule class)`,
          `the supervisor must run under ${options.profile} (systemd AppArmorProfile=${options.profile}, no NoNewPrivileges=) with change_profile -> ${options.profile}//*`,
          `the policy must be loaded (apparmor_parser -r ${options.policyFile}, or hatter serve --load-policy); a missing hat is ENOENT at exec and the worker never runs`,
          'each worker\'s /proc/<pid>/attr/current is read back; a worker with any other label is refused',
        ],
      });
    }
  }
  return { explanations, diagnostics };
}
