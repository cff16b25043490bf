// The one interface every enforcement backend implements (none, landlock, apparmor). The server spawns
// every pool worker through a backend, so site code never runs before the kernel confines it.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { hatLabel, type Diagnostic } from '../policy/index.js';
import type { SocketGrant } from './sockets.js';

export type BackendName = 'none' | 'landlock' | 'apparmor';

export const BACKEND_NAMES: readonly BackendName[] = ['none', 'landlock', 'apparmor'];

export interface BackendAvailability {
  readonly available: boolean;
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** What the worker program itself must be able to use, beyond the hat's own rules. */
export interface RuntimeNeeds {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly exec: readonly string[];
  readonly bindPorts?: readonly number[];
  readonly connectPorts?: readonly number[];
  /** Capabilities the program needs beyond the hat's (e.g. a root PHP-FPM master: setuid, setgid). */
  readonly capabilities?: readonly string[];
  /** Sockets it creates beyond the hat's network rules (e.g. unix stream for strict mode). */
  readonly sockets?: readonly SocketGrant[];
}

/** What one pool asks for: the hat it runs in, and what its runtime needs beyond the hat's own rules. */
export interface ConfinementRequest {
  /** apparmor.d policy file (absent: no policy, e.g. backend none). */
  readonly policyFile?: string;
  readonly includeDirs?: readonly string[];
  /** Parent profile name, e.g. 'hatter' or 'apache2'. */
  readonly profile: string;
  /** Hat name; null = the parent profile itself. */
  readonly hat: string | null;
  readonly runtime: RuntimeNeeds;
  /** Hat rules the Landlock backend may widen (hatter.yaml landlock.allowWidening); others are narrowed. */
  readonly allowWidening?: readonly string[];
  readonly uid?: number;
  readonly gid?: number;
}

export interface PreparedConfinement {
  readonly backend: BackendName;
  /** 'profile//hat' (what /proc/<pid>/attr/current must show for apparmor). */
  readonly label: string;
  /** For the status page: ABI, rules count, widening summary... */
  readonly summary: Readonly<Record<string, unknown>>;
  /** Printed at startup (e.g. Landlock widening, 'UNCONFINED' for none). */
  readonly warnings: readonly string[];
}

export interface ConfinementBackend {
  readonly name: BackendName;
  /**
   * Set by `hatter serve --learn`'s recording backend (an unconfined `none` that observes): programs the
   * server would otherwise start directly (a PHP-FPM master) go through spawn() too, so they are recorded.
   */
  readonly observes?: boolean;
  probe(): Promise<BackendAvailability>;
  prepare(request: ConfinementRequest): Promise<{ prepared?: PreparedConfinement; diagnostics: readonly Diagnostic[] }>;
  /** Start a worker already confined before its first instruction (launcher before execve). stdio/ipc options pass through. */
  spawn(prepared: PreparedConfinement, command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  /** Check a running worker really is confined as prepared (apparmor: /proc/<pid>/attr/current; landlock: its status). */
  verify(prepared: PreparedConfinement, pid: number): Promise<{ readonly ok: boolean; readonly detail: string }>;
}

/** The label a request names: `profile` or `profile//hat`. */
export function labelOf(request: Pick<ConfinementRequest, 'profile' | 'hat'>): string {
  return hatLabel(request.profile, request.hat);
}

/** A diagnostic about the request itself (no source position in a policy file). */
export function requestDiagnostic(file: string, code: string, message: string, severity: Diagnostic['severity'] = 'error', hint?: string): Diagnostic {
  return { file, line: 1, col: 1, code, severity, message, ...(hint ? { hint } : {}) };
}

/** This process's executable and command line, read once (what a fork shows until it calls execve). */
let ownImage: Promise<{ readonly exe: string; readonly cmdline: string } | undefined> | undefined;

/**
 * The process `pid` (as `procRoot` shows it) is a fork of this one that has not called execve yet: it
 * runs this executable with this command line. spawn() returns before the child execs, and on a busy
 * machine /proc can show it there for a while; verify() must wait then, not judge the fork.
 */
export async function isUnexecutedFork(procRoot: string, pid: number): Promise<boolean> {
  ownImage ??= Promise.all([readlink('/proc/self/exe'), readFile('/proc/self/cmdline', 'latin1')])
    .then(([exe, cmdline]) => ({ exe, cmdline }), () => undefined);
  const own = await ownImage;
  if (own === undefined) return false;
  try {
    const [exe, cmdline] = await Promise.all([readlink(`${procRoot}/${pid}/exe`), readFile(`${procRoot}/${pid}/cmdline`, 'latin1')]);
    return exe === own.exe && cmdline === own.cmdline;
  } catch {
    return false;
  }
}

/**
 * Wait (up to 50 × 10 ms) until process `pid` is past its start: no longer a fork of this process that
 * has not called execve (isUnexecutedFork), and no longer running `launcher`. Returns the executable it
 * runs then, or undefined when it is still starting after 500 ms; throws when /proc does not show its
 * executable. The process only moves forward (fork, launcher, program), so what verify() reads of it
 * after this returns is the program's, never the fork's or the launcher's.
 */
export async function startedProgram(procRoot: string, pid: number, launcher: string | undefined): Promise<string | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (!(await isUnexecutedFork(procRoot, pid))) {
      const exe = await readlink(`${procRoot}/${pid}/exe`);
      if (exe !== launcher) return exe;
    }
    await delay(10);
  }
  return undefined;
}
