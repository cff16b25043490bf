// The compile cache on disk (docs/cache.md): compiled automata and other pure results, by a SHA-256
// of their key and of the code that computed them, under $HATTER_CACHE_DIR, else
// $XDG_CACHE_HOME/hatter, else ~/.cache/hatter.
//
// A cache problem never changes an answer and never stops a command: every entry carries a checksum
// and its key's hash and is only used when both match (the core then decodes and validates it again);
// anything wrong (unwritable directory, full disk, corrupt or foreign entry) is at most one warning.
// Writers never clash: each writes a temp file of its own (O_EXCL) and renames it into place. The
// directory is bounded: past its limit the least recently used entries go.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore } from '../policy/index.js';

export const DEFAULT_CACHE_LIMIT_BYTES = 200 * 1024 * 1024;
/** Entries live in a subdirectory per layout, so a new layout never reads an old one's files. */
const LAYOUT = 'v1';
const MAGIC = Buffer.from('HTRCACHE');
const HEADER_BYTES = MAGIC.length + 8 + 32 + 32; // magic, payload length, key hash, payload hash
/** A temp file older than this is left over from a crashed writer. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export interface CacheStoreOptions {
  readonly directory: string;
  /** Size bound for the directory's entries (default 200 MB). */
  readonly limitBytes?: number;
  /** Hashed into every key: entries made by other code are never read (default: codeIdentity()). */
  readonly identity?: string;
  /** One line per problem (at most one per kind per process). */
  readonly warn?: (message: string) => void;
}

export interface CacheStore extends BlobStore {
  readonly directory: string;
  /** Entries read, written and refused (corrupt or foreign) so far, for tests and benchmarks. */
  readonly stats: { hits: number; misses: number; writes: number; corrupt: number };
}

/** Where the cache lives for this environment, or undefined when there is no home to put it in. */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HATTER_CACHE_DIR) return env.HATTER_CACHE_DIR;
  if (env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/')) return join(env.XDG_CACHE_HOME, 'hatter');
  let home: string | undefined = env.HOME;
  if (!home) { try { home = homedir(); } catch { home = undefined; } }
  return home ? join(home, '.cache', 'hatter') : undefined;
}

let identity: string | undefined;

/**
 * A hash of the code whose results are cached: every compiled module of the policy toolkit, the CLI's
 * loader and the confinement oracle, plus the package version. A rebuilt hatter never reads an entry
 * an older build wrote (a changed compiler must not be answered from the old one's automata).
 */
export function codeIdentity(): string {
  if (identity) return identity;
  const files = moduleFiles(['policy', 'cli/cache-store.js', 'cli/load-cache.js', 'cli/load-policy.js', 'cli/load-fresh.js', 'confine/aare-oracle.js', 'confine/hat-rules.js']);
  const hash = hashFiles([join(SOURCE_ROOT, '..', '..', 'package.json'), ...files]);
  identity = hash.digest('hex');
  return identity;
}

const SOURCE_ROOT = fileURLToPath(new URL('../', import.meta.url)); // dist/src (or a test build's src)

/** The compiled modules under `entries` (directories, walked, or single files), relative to dist/src. */
function moduleFiles(entries: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith('.js')) files.push(path);
      else if (!name.includes('.')) walk(path);
    }
  };
  for (const entry of entries) {
    if (entry.endsWith('.js')) files.push(join(SOURCE_ROOT, entry));
    else walk(join(SOURCE_ROOT, entry));
  }
  return files;
}

function hashFiles(files: readonly string[]): ReturnType<typeof createHash> {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file.slice(SOURCE_ROOT.length)).update('\0');
    try { hash.update(readFileSync(file)); } catch { hash.update('<missing>'); }
    hash.update('\0');
  }
  return hash;
}

/** A hash of more of hatter's modules, for a command whose cached results also depend on them (lint). */
export function modulesDigest(entries: readonly string[]): string {
  return hashFiles(moduleFiles(entries)).digest('hex');
}

function sha256(data: string | Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * The disk store, or undefined (with a warning) when the directory cannot be used safely: it must be
 * ours and writable by nobody else, since what it holds decides answers.
 */
export function openCacheStore(options: CacheStoreOptions): CacheStore | undefined {
  const warned = new Set<string>();
  const warn = (kind: string, message: string) => {
    if (warned.has(kind)) return;
    warned.add(kind);
    options.warn?.(`hatter: cache: ${message} (answers are not affected; --no-cache silences this)`);
  };
  const directory = join(options.directory, LAYOUT);
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    for (const dir of [options.directory, directory]) {
      const stat = lstatSync(dir);
      const uid = process.getuid?.();
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
        warn('unsafe', `${dir} is not a directory of this user's that only this user can write; not using it`);
        return undefined;
      }
    }
  } catch (error) {
    warn('open', `cannot use ${options.directory}: ${(error as Error).message}`);
    return undefined;
  }
  const code = options.identity ?? codeIdentity();
  const limit = options.limitBytes ?? DEFAULT_CACHE_LIMIT_BYTES;
  const stats = { hits: 0, misses: 0, writes: 0, corrupt: 0 };
  let writable = true;
  let trimmed = false;
  const keyHash = (key: string) => sha256(`${code}\0${key}`);
  const pathOf = (hash: Buffer) => join(directory, `${hash.toString('hex')}.bin`);

  return {
    directory,
    stats,
    get(key) {
      const hash = keyHash(key);
      const path = pathOf(hash);
      let data: Buffer;
      try {
        data = readFileSync(path);
      } catch {
        stats.misses++;
        return undefined;
      }
      const length = data.length >= HEADER_BYTES ? Number(data.readBigUInt64LE(MAGIC.length)) : -1;
      const payload = data.subarray(HEADER_BYTES);
      const ok = length === payload.length && data.subarray(0, MAGIC.length).equals(MAGIC)
        && data.subarray(MAGIC.length + 8, MAGIC.length + 40).equals(hash)
        && data.subarray(MAGIC.length + 40, HEADER_BYTES).equals(sha256(payload));
      if (!ok) {
        stats.corrupt++;
        warn('corrupt', `ignored a corrupt entry ${path}`);
        try { unlinkSync(path); } catch { /* another process may have replaced it already */ }
        return undefined;
      }
      stats.hits++;
      // Recently used entries are the last to be evicted.
      try { const now = new Date(); utimesSync(path, now, now); } catch { /* read-only is fine */ }
      return new Uint8Array(payload.buffer, payload.byteOffset, payload.length);
    },
    set(key, bytes) {
      if (!writable) return;
      const hash = keyHash(key);
      const header = Buffer.alloc(HEADER_BYTES);
      MAGIC.copy(header);
      header.writeBigUInt64LE(BigInt(bytes.length), MAGIC.length);
      hash.copy(header, MAGIC.length + 8);
      sha256(bytes).copy(header, MAGIC.length + 40);
      const path = pathOf(hash);
      const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      let fd: number | undefined;
      try {
        fd = openSync(temp, 'wx', 0o600);
        writeAll(fd, header);
        writeAll(fd, bytes);
        closeSync(fd);
        fd = undefined;
        renameSync(temp, path);
        stats.writes++;
      } catch (error) {
        if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
        try { unlinkSync(temp); } catch { /* never created */ }
        writable = false;
        warn('write', `cannot write to ${directory}: ${(error as Error).message}`);
        return;
      }
      if (!trimmed) {
        trimmed = true; // once per process is enough to keep the directory near its bound
        trimCache(directory, limit);
      }
    },
  };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** Remove the least recently used entries until the directory holds at most `limit` bytes (and stale temp files). */
export function trimCache(directory: string, limit: number): void {
  let names: string[];
  try { names = readdirSync(directory); } catch { return; }
  const now = Date.now();
  const entries: { path: string; size: number; used: number }[] = [];
  for (const name of names) {
    const path = join(directory, name);
    try {
      const stat = statSync(path);
      if (name.endsWith('.tmp')) { if (now - stat.mtimeMs > STALE_TEMP_MS) unlinkSync(path); continue; }
      if (name.endsWith('.bin')) entries.push({ path, size: stat.size, used: stat.mtimeMs });
    } catch { /* gone meanwhile */ }
  }
  let total = entries.reduce((sum, e) => sum + e.size, 0);
  if (total <= limit) return;
  entries.sort((a, b) => a.used - b.used);
  for (const entry of entries) {
    if (total <= limit) break;
    try { unlinkSync(entry.path); total -= entry.size; } catch { /* another process removed it */ }
  }
}

/** Every entry of the cache (for `hatter cache clear`-style cleanup and tests): removes the layout directory's files. */
export function clearCache(root: string): number {
  const directory = join(root, LAYOUT);
  let removed = 0;
  let names: string[];
  try { names = readdirSync(directory); } catch { return 0; }
  for (const name of names) {
    try { unlinkSync(join(directory, name)); removed++; } catch { /* gone */ }
  }
  return removed;
}

/** The store a command uses: none with --no-cache or without a cache directory; warnings go to stderr. */
export function commandCacheStore(io: { readonly env: NodeJS.ProcessEnv; readonly stderr: { write(chunk: string): unknown } }, noCache: boolean | undefined): CacheStore | undefined {
  if (noCache) return undefined;
  const directory = defaultCacheDirectory(io.env);
  if (!directory) return undefined;
  return openCacheStore({ directory, warn: (message) => io.stderr.write(`${message}\n`) });
}
