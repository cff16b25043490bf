// PHP-FPM masters whose hatter serve is gone. A supervisor stopped the usual ways (SIGTERM, SIGINT, a
// crash it can catch) stops its masters; one killed outright (SIGKILL, the OOM killer) cannot, and Node
// has no way to ask the kernel to do it (PR_SET_PDEATHSIG), so each master ran on with its children,
// holding memory and its site's socket. The supervisor now writes who it is (pid and start time) into
// the run root it makes for its masters, and each start of hatter serve stops the masters of roots whose
// supervisor is no longer running, then removes those roots.
//
// What the sweep may touch, since /tmp is shared: only roots named like ours, real directories owned by
// this uid, that carry an owner file naming a process that is gone (or was replaced by another with the
// same pid); and in them only processes of this uid whose command line is PHP-FPM's master title for a
// config file inside that root. A site's PHP code can write in its own run directory (the pid file, for
// instance), which is why pid files are not trusted: the process list is.
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killMasterAndChildren, processIds, statFields } from './php-fpm.js';

export const PHP_FPM_ROOT_PREFIX = 'hatter-php-fpm-';
/** In each run root: "<pid> <start time>" of the supervisor that made it. */
const OWNER_FILE = 'supervisor';

/** A new run root for this supervisor's PHP-FPM masters, marked as this process's. */
export function createPhpFpmRoot(parent = tmpdir()): string {
  const root = mkdtempSync(join(parent, PHP_FPM_ROOT_PREFIX));
  writeFileSync(join(root, OWNER_FILE), `${process.pid} ${startTimeOf(process.pid) ?? 0}\n`, { mode: 0o600 });
  return root;
}

export interface StaleRoot {
  readonly root: string;
  /** The supervisor that made it, no longer running. */
  readonly supervisorPid: number;
  /** The PHP-FPM masters found and killed (with their children). */
  readonly masters: readonly number[];
}

/** Stop the masters of run roots under `parent` left by supervisors no longer running; remove the roots. */
export function sweepStalePhpFpm(parent = tmpdir()): StaleRoot[] {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = readdirSync(parent).filter((name) => name.startsWith(PHP_FPM_ROOT_PREFIX));
  } catch {
    return [];
  }
  const stale: { root: string; supervisorPid: number }[] = [];
  for (const name of names) {
    const root = join(parent, name);
    try {
      const info = lstatSync(root);
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
    } catch {
      continue;
    }
    const owner = readOwner(root);
    // No owner file: another tool's directory, or one being made right now. Left alone.
    if (owner === undefined || isRunning(owner.pid, owner.startTime)) continue;
    stale.push({ root, supervisorPid: owner.pid });
  }
  if (stale.length === 0) return [];
  const masters = phpFpmMasters(uid);
  return stale.map(({ root, supervisorPid }) => {
    const inRoot = masters.filter((m) => m.config.startsWith(root + '/')).map((m) => m.pid);
    for (const pid of inRoot) killMasterAndChildren(pid);
    rmSync(root, { recursive: true, force: true });
    return { root, supervisorPid, masters: inRoot };
  });
}

function readOwner(root: string): { pid: number; startTime: number } | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, OWNER_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const match = /^(\d+) (\d+)\n$/.exec(text);
  return match ? { pid: Number(match[1]), startTime: Number(match[2]) } : undefined;
}

function isRunning(pid: number, startTime: number): boolean {
  const now = startTimeOf(pid);
  return now !== undefined && (startTime === 0 || now === startTime);
}

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22); undefined: not running. */
export function startTimeOf(pid: number): number | undefined {
  const value = Number(statFields(pid)?.[19]);
  return Number.isFinite(value) ? value : undefined;
}

/** PHP-FPM masters of this uid, by the title they give themselves: "php-fpm: master process (CONFIG)". */
function phpFpmMasters(uid: number | undefined): { pid: number; config: string }[] {
  const found: { pid: number; config: string }[] = [];
  const ownUid = uid === undefined ? undefined : new RegExp(`^Uid:\\s+${uid}\\s`, 'm');
  for (const pid of processIds()) {
    try {
      if (ownUid && !ownUid.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) continue;
      // The title is written over the arguments: the first string is all of it (spaces may pad it).
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.trimEnd();
      const match = /^php-fpm: master process \((\/.*)\)$/.exec(title);
      if (match) found.push({ pid, config: match[1]! });
    } catch { /* exited meanwhile */ }
  }
  return found;
}
