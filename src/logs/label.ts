// Labels (policy/label's one parser) and permission sets, decoded once per distinct string (logs repeat the same few thousand).
import { hatOf, parseLabel as parseLabelText, type Label } from '../policy/label/index.js';
import type { PermissionSet } from './model.js';

const CACHE_LIMIT = 8192;

/**
 * A copy of `text` that shares no memory with the string it was sliced from. Values sliced from a line
 * keep the whole read chunk (a megabyte) alive; anything kept beyond one line (caches, summary groups)
 * must be detached, or memory grows with the file instead of with the distinct values.
 */
export function detach(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}

const labelCache = new Map<string, Label>();

/** policy's parseLabel, remembered per distinct text (logs repeat the same few labels) and detached from the line. */
export function parseLabel(text: string): Label {
  const cached = labelCache.get(text);
  if (cached) return cached;
  const label = parseLabelText(detach(text));
  if (labelCache.size >= CACHE_LIMIT) labelCache.clear();
  labelCache.set(label.text, label);
  return label;
}

export { hatOf };

/** Decoded masks, by spelling; word-class masks (`send`, `read create`) are cached apart from letter masks. */
const letterCache = new Map<string, PermissionSet>();
const wordCache = new Map<string, PermissionSet>();

/** Classes whose masks are words (`send receive`), not the file letters. */
const WORD_CLASSES = new Set(['net', 'network', 'unix', 'signal', 'ptrace', 'dbus', 'posix_mqueue', 'sysv_mqueue', 'io_uring', 'namespace', 'mount', 'userns']);

const FILE_LETTERS = /^[rwaxmklcdiIpPuUCNDL:]+$/;

/**
 * Decode a mask. File masks (`rw`, `mrwIxl`, the old `wc::`) become their letters; other masks (`read create`,
 * `send`, `tracedby`) their words. `klass` decides when known; otherwise the spelling does.
 */
export function parsePermissions(raw: string, klass?: string): PermissionSet {
  const wordClass = klass !== undefined && WORD_CLASSES.has(klass);
  const cache = wordClass ? wordCache : letterCache;
  const cached = cache.get(raw);
  if (cached) return cached;
  const words = wordClass || raw.includes(' ') || raw.includes(',') || !FILE_LETTERS.test(raw);
  const perms: string[] = [];
  if (words) {
    for (const word of raw.split(/[\s,]+/)) if (word && !perms.includes(word)) perms.push(detach(word));
  } else {
    for (const letter of raw) if (letter !== ':' && !perms.includes(letter)) perms.push(letter);
  }
  const set: PermissionSet = { raw: detach(raw), perms };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(set.raw, set);
  return set;
}

/** Union of two permission sets, keeping first-seen order; the raw text is the perms joined. */
export function unionPermissions(a: PermissionSet | undefined, b: PermissionSet | undefined): PermissionSet | undefined {
  if (!a) return b;
  if (!b || a === b) return a;
  let perms: string[] | undefined;
  for (const p of b.perms) {
    if (!a.perms.includes(p)) (perms ??= [...a.perms]).push(p);
  }
  if (!perms) return a;
  const wordy = perms.some((p) => p.length > 1);
  return { raw: perms.join(wordy ? ' ' : ''), perms };
}
