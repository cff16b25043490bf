// Carrying out a host file plan (src/host/plan.ts) under an optional prefix: atomic writes, a backup of
// every file that was edited by hand before it is replaced or removed, links and directories. Checks
// first that every target directory can be written, so a plan is carried out whole or not at all
// (short of a crash or a full disk in the middle).
import { accessSync, constants, copyFileSync, existsSync, lstatSync, mkdirSync, rmdirSync, symlinkSync, unlinkSync, chownSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import type { Diagnostic } from '../policy/index.js';
import { backupPathOf, underPrefix, type FilePlan } from '../host/index.js';
import { writeFileAtomic } from './atomic-write.js';

/** The nearest existing ancestor of `path` (where a missing directory would be created). */
function existingAncestor(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Can this process create and replace files in the directory `dir` (an existing one)? */
export type WriteAccess = (dir: string) => boolean;

/** access(2) with W_OK|X_OK: root passes it everywhere except on a read-only file system. */
export const canWriteDirectory: WriteAccess = (dir) => {
  try { accessSync(dir, constants.W_OK | constants.X_OK); return true; } catch { return false; }
};

/**
 * Diagnostics for plan entries whose directory this process cannot write. `canWrite` is the one seam
 * to the file system's permissions, so tests can refuse a directory even when they run as root.
 */
export function checkWritable(plan: readonly FilePlan[], prefix: string | undefined, canWrite: WriteAccess = canWriteDirectory): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const p of plan) {
    const dir = existingAncestor(dirname(underPrefix(prefix, p.path)));
    if (seen.has(dir)) continue;
    seen.add(dir);
    if (!canWrite(dir)) {
      out.push({ file: underPrefix(prefix, p.path), line: 1, col: 1, severity: 'error', code: 'host/not-writable', message: `cannot write in ${dir} (permission denied)`, hint: 'run as root, or try it first under a scratch copy with --prefix DIR' });
    }
  }
  return out;
}

function backupPath(path: string): string {
  const first = backupPathOf(path);
  let candidate = first;
  for (let i = 1; existsSync(candidate); i++) candidate = `${first}.${i}`;
  return candidate;
}

function uidOf(user: string): number | undefined {
  try { return Number(execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()); } catch { return undefined; }
}

/** Carry out the plan; returns one line per change (what --dry-run prints without doing it). */
export function applyPlan(plan: readonly FilePlan[], prefix: string | undefined, options: { dryRun?: boolean } = {}): string[] {
  const done: string[] = [];
  for (const p of plan) {
    const at = underPrefix(prefix, p.path);
    switch (p.action) {
      case 'write': {
        const backup = p.handEdited ? backupPath(at) : undefined;
        done.push(`${p.previous === undefined ? 'create' : 'replace'} ${p.path}${backup ? ` (backup ${backup})` : ''}`);
        if (options.dryRun) break;
        mkdirSync(dirname(at), { recursive: true });
        if (backup) copyFileSync(at, backup);
        writeFileAtomic(at, p.content, { mode: p.mode ?? 0o644 });
        break;
      }
      case 'symlink':
        done.push(`link ${p.path} -> ${p.target}`);
        if (options.dryRun) break;
        mkdirSync(dirname(at), { recursive: true });
        try { if (lstatSync(at).isSymbolicLink()) unlinkSync(at); } catch { /* absent */ }
        symlinkSync(p.target, at);
        break;
      case 'mkdir': {
        done.push(`mkdir ${p.path} (mode ${p.mode.toString(8)}${p.owner ? `, owner ${p.owner}` : ''})`);
        if (options.dryRun) break;
        mkdirSync(at, { recursive: true, mode: p.mode });
        const uid = p.owner !== undefined ? uidOf(p.owner) : undefined;
        if (uid !== undefined && process.getuid?.() === 0) { try { chownSync(at, uid, -1); } catch { /* keep root's */ } }
        break;
      }
      case 'delete': {
        const backup = p.handEdited ? backupPath(at) : undefined;
        done.push(`remove ${p.path}${backup ? ` (backup ${backup})` : ''}`);
        if (options.dryRun) break;
        if (backup) copyFileSync(at, backup);
        try { unlinkSync(at); } catch (error) { if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; }
        break;
      }
      case 'rmdir':
        if (!existsSync(at)) break;
        if (readdirSync(at).length > 0) { done.push(`keep ${p.path} (not empty)`); break; }
        done.push(`remove ${p.path}/`);
        if (options.dryRun) break;
        rmdirSync(at);
        break;
    }
  }
  return done;
}
