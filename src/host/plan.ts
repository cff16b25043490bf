// File plans: what a host command will do to the file system, computed purely and carried out by the
// CLI's edge (atomic writes, backups). Every file hatter writes starts with a header line that records
// the SHA-256 of the rest, so a later run can tell a file hatter wrote from one edited by hand.
import { createHash } from 'node:crypto';

export type FilePlan =
  /** Write `content` (atomically); `previous` is what is there now (kept as a backup when hand-edited). */
  | { readonly path: string; readonly action: 'write'; readonly content: string; readonly previous?: string; readonly handEdited?: boolean; readonly mode?: number }
  /** A symbolic link (Debian's sites-enabled/ and disable/ conventions). */
  | { readonly path: string; readonly action: 'symlink'; readonly target: string }
  /** A directory hatter creates (PHP session and temp directories), owned by `owner`. */
  | { readonly path: string; readonly action: 'mkdir'; readonly mode: number; readonly owner?: string }
  /** Remove a file or link hatter wrote (`previous` is its current text, for --dry-run and backups). */
  | { readonly path: string; readonly action: 'delete'; readonly previous?: string; readonly handEdited?: boolean }
  /** Remove a directory hatter created, only when it is empty (nothing is ever lost). */
  | { readonly path: string; readonly action: 'rmdir' };

/** The comment leader of each kind of file hatter writes. */
export type CommentStyle = '#' | ';';

const HEADER = /^([#;]) hatter: (.*?) sha256=([0-9a-f]{64})\n/;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `body` with hatter's header line: what it is, and the hash of the body. */
export function withHeader(style: CommentStyle, what: string, body: string): string {
  return `${style} hatter: ${what} sha256=${sha256(body)}\n${body}`;
}

export type Authorship =
  | { readonly by: 'hatter'; readonly what: string }
  | { readonly by: 'hand-edited'; readonly what: string }
  | { readonly by: 'other' };

/** Who wrote this text: hatter (header hash matches), hatter then someone by hand, or someone else. */
export function authorship(text: string): Authorship {
  const m = HEADER.exec(text);
  if (!m) return { by: 'other' };
  return sha256(text.slice(m[0].length)) === m[3] ? { by: 'hatter', what: m[2]! } : { by: 'hand-edited', what: m[2]! };
}

/**
 * `after` with its hatter header brought up to date when `before` was hatter's, unchanged since: an
 * edit hatter makes itself (a mode flag) keeps the file hatter's. Anything else is returned as is.
 */
export function keepAuthorship(before: string, after: string): string {
  const m = HEADER.exec(before);
  if (!m || authorship(before).by !== 'hatter' || !after.startsWith(m[0])) return after;
  return withHeader(m[1] as CommentStyle, m[2]!, after.slice(m[0].length));
}
