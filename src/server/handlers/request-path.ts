// Mapping a request target onto a handler's root without ever leaving it. The path is split on '/',
// each segment percent-decoded exactly once, and refused when it decodes to NUL, to '/' or to '..'.
// The file found is then resolved with realpath (symlinks followed) and must still lie inside the
// root's own realpath. The worker is confined by the kernel as well; this check is what keeps one
// location's root from reading the rest of its own site.
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { sep } from 'node:path';
import { failInternally, sendStatus } from './respond.js';

export interface RequestTarget {
  /** The path as sent, still percent-encoded, without the query. */
  readonly rawPath: string;
  /** The query string without '?', as sent ('' when absent). */
  readonly query: string;
}

export type PathRefusal = { readonly refused: 400 | 403 | 404 };

export function splitTarget(url: string | undefined): RequestTarget | PathRefusal {
  const target = url ?? '';
  if (!target.startsWith('/')) return { refused: 400 }; // absolute-form and '*' never reach a file handler
  const hash = target.indexOf('#');
  const withoutFragment = hash >= 0 ? target.slice(0, hash) : target;
  const q = withoutFragment.indexOf('?');
  return q >= 0
    ? { rawPath: withoutFragment.slice(0, q), query: withoutFragment.slice(q + 1) }
    : { rawPath: withoutFragment, query: '' };
}

/** The most targets a TargetMemo keeps (it starts afresh when full) and the longest one it keeps. */
const REMEMBERED_TARGETS = 1024;
const MAX_REMEMBERED_TARGET = 1024;

/**
 * What a handler's fast lane made of request targets it has seen, by target as sent: mapping one again
 * (split, decode, join) was a few per cent of a small request's CPU. Bounded in number and in the
 * length of a target kept (longer ones are mapped afresh each time), so that a client sending long
 * unique URLs cannot make it megabytes.
 */
export class TargetMemo<T> {
  private readonly entries = new Map<string, T>();

  get(url: string): T | undefined {
    return this.entries.get(url);
  }

  remember(url: string, value: T): void {
    if (url.length > MAX_REMEMBERED_TARGET) return;
    if (this.entries.size >= REMEMBERED_TARGETS) this.entries.clear();
    this.entries.set(url, value);
  }

  forget(url: string): void {
    this.entries.delete(url);
  }
}

/** Where a directory named without its trailing slash is redirected to: the slash added, the query kept. */
export function redirectLocation(target: RequestTarget): string {
  return target.rawPath + '/' + (target.query ? `?${target.query}` : '');
}

/**
 * The decoded segments of `rawPath` below `locationPrefix` ('/static/a%20b/c' under '/static/' is
 * ['a b', 'c'], mounted at '/static'), like Apache's Alias. A path outside the prefix (a regex
 * location) maps whole, mounted at ''.
 */
export function pathSegments(rawPath: string, locationPrefix: string): MappedPath | PathRefusal {
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment = raw;
    if (raw.includes('%')) {
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return { refused: 400 };
      }
    }
    if (segment.includes('\0')) return { refused: 400 };
    if (segment.includes('/')) return { refused: 404 }; // an encoded slash, refused as Apache does by default
    if (segment === '.') continue;
    if (segment === '..') return { refused: 403 };
    segments.push(segment);
  }
  const prefix = locationPrefix.split('/').filter((s) => s !== '');
  if (prefix.length > 0 && prefix.length <= segments.length && prefix.every((s, i) => segments[i] === s)) {
    return { segments: segments.slice(prefix.length), mount: '/' + prefix.join('/') };
  }
  return { segments, mount: '' };
}

export interface MappedPath {
  /** Decoded path segments below the mount point. */
  readonly segments: readonly string[];
  /** The decoded URL path the handler's root is mounted at ('' for the top). */
  readonly mount: string;
}

export function isRefusal(value: unknown): value is PathRefusal {
  return typeof value === 'object' && value !== null && 'refused' in value;
}

/** Is `candidate` (a realpath) the root itself or below it? */
export function isInside(rootReal: string, candidate: string): boolean {
  return candidate === rootReal || candidate.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);
}

/**
 * realpath(path), refused when it escapes `rootReal` or does not exist. Synchronous on purpose, like
 * the other per-request file system calls of the handlers: on a local file system a syscall costs a
 * microsecond or two, a round trip through libuv's thread pool far more.
 */
export function resolveInside(rootReal: string, path: string): string | PathRefusal {
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch (error) {
    return { refused: refusalForError(error) };
  }
  return isInside(rootReal, real) ? real : { refused: 403 };
}

/** 403 for permission and loop errors, 404 for everything that means "not there". */
export function refusalForError(error: unknown): 403 | 404 {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM' || code === 'ELOOP' ? 403 : 404;
}

/** The root's realpath, computed once per handler (the root may be created after the config is read). */
export class RootDirectory {
  private real: Promise<string> | undefined;
  private known: string | undefined;
  constructor(readonly path: string) {}
  resolve(): Promise<string> {
    if (!this.real) {
      this.real = realpath(this.path);
      this.real.then((real) => { this.known = real; }, () => { this.real = undefined; });
    }
    return this.real;
  }
  /**
   * The realpath now, for the fast lane, which cannot wait: found synchronously the first time (else
   * a worker's first connections, arriving before any request had resolved the root, all went to
   * node:http for good); undefined while the root does not exist.
   */
  resolved(): string | undefined {
    if (this.known === undefined) {
      try {
        this.known = realpathSync.native(this.path);
        this.real = Promise.resolve(this.known);
      } catch { /* not there (yet): the full path answers, and resolves again next time */ }
    }
    return this.known;
  }
}

/**
 * mapOntoRoot for the fast lane, which cannot wait and sends nothing itself: undefined when the target
 * is refused or the root's realpath is not known yet (the full path then answers).
 */
export function mapOntoResolvedRoot(
  url: string, locationPrefix: string, root: RootDirectory,
): { readonly target: RequestTarget; readonly mapped: MappedPath; readonly rootReal: string } | undefined {
  const rootReal = root.resolved();
  if (rootReal === undefined) return undefined;
  const target = splitTarget(url);
  if (isRefusal(target)) return undefined;
  const mapped = pathSegments(target.rawPath, locationPrefix);
  return isRefusal(mapped) ? undefined : { target, mapped, rootReal };
}

/**
 * The steps every file handler starts with: split the target, map its path under the location, and
 * resolve the root. Undefined means the answer (4xx, or 500 for a root that is gone) was already sent.
 */
export async function mapOntoRoot(
  url: string | undefined, locationPrefix: string, root: RootDirectory, what: string, res: ServerResponse,
): Promise<{ readonly target: RequestTarget; readonly mapped: MappedPath; readonly rootReal: string } | undefined> {
  const target = splitTarget(url);
  if (isRefusal(target)) { sendStatus(res, target.refused); return undefined; }
  const mapped = pathSegments(target.rawPath, locationPrefix);
  if (isRefusal(mapped)) { sendStatus(res, mapped.refused); return undefined; }
  try {
    return { target, mapped, rootReal: await root.resolve() };
  } catch (error) {
    failInternally(res, 'handlers/root-unavailable', `${what} root ${root.path}`, error);
    return undefined;
  }
}
