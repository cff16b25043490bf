// Atomic file replacement: write a temporary file next to the target, fsync it, give it the
// target's mode (and owner, when we may), then rename it over the target. A crash or a full disk
// leaves either the old file or the new one, never a truncated mix.
import { chmodSync, chownSync, closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** File mode for a new file (default 0o644). An existing file keeps its own mode. */
  readonly mode?: number;
}

export function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  let existing: { mode: number; uid: number; gid: number } | undefined;
  try {
    const st = statSync(path);
    existing = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch {
    existing = undefined;
  }
  // Short enough for any name up to NAME_MAX: at most 100 characters of the original name are kept.
  const tmp = join(dirname(path), `.${basename(path).slice(0, 100)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = existing?.mode ?? options.mode ?? 0o644;
  const fd = openSync(tmp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw error;
  }
  closeSync(fd);
  try {
    chmodSync(tmp, mode); // the umask applied at open; restore the exact mode
    if (existing && typeof process.getuid === 'function' && process.getuid() === 0) {
      try { chownSync(tmp, existing.uid, existing.gid); } catch { /* keep our ownership */ }
    }
    renameSync(tmp, path);
  } catch (error) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw error;
  }
}
