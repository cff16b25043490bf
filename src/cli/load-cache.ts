// A whole policy load (read, resolve, check, compile) answered from the compile cache when nothing it
// read has changed (docs/cache.md). The policy toolkit is pure: its result is a function of its
// options and of what its FileReader answered. So a load runs through a reader that records every
// question and answer (what is at a path, a directory's entries, a SHA-256 of a file's bytes); the
// entry keeps that record next to the result, and a later load with the same options uses the result
// only when every recorded question gets the same answer again.
import { createHash } from 'node:crypto';
import { decodeData, encodeData } from '../policy/cache/index.js';
import type { BlobStore } from '../policy/cache/index.js';
import type { FileKind, FileReader } from '../policy/resolve/index.js';

/** One question the load asked its reader, and the answer it got. */
type ReadRecord =
  | { readonly op: 'kind'; readonly path: string; readonly answer: FileKind | null }
  | { readonly op: 'read'; readonly path: string; readonly sha256: string | null }
  | { readonly op: 'list'; readonly path: string; readonly names: readonly string[] | null };

// A snapshot reader (one run of `hatter lint`) hands out the same bytes for every load: hash them once.
const digests = new WeakMap<Uint8Array, string>();

function digest(bytes: Uint8Array | undefined): string | null {
  if (!bytes) return null;
  let found = digests.get(bytes);
  if (found === undefined) { found = createHash('sha256').update(bytes).digest('hex'); digests.set(bytes, found); }
  return found;
}

/** A reader that passes every question to `reader` and remembers the first answer to each. */
function recordingReader(reader: FileReader): { reader: FileReader; records: ReadRecord[] } {
  const records: ReadRecord[] = [];
  const seen = new Set<string>();
  const first = (op: string, path: string) => { const key = `${op}\0${path}`; return seen.has(key) ? false : (seen.add(key), true); };
  return {
    records,
    reader: {
      kind(path) {
        const answer = reader.kind(path);
        if (first('kind', path)) records.push({ op: 'kind', path, answer: answer ?? null });
        return answer;
      },
      readFile(path) {
        const bytes = reader.readFile(path);
        if (first('read', path)) records.push({ op: 'read', path, sha256: digest(bytes) });
        return bytes;
      },
      listDirectory(path) {
        const names = reader.listDirectory(path);
        if (first('list', path)) records.push({ op: 'list', path, names: names ? [...names] : null });
        return names;
      },
    },
  };
}

/** Does the reader still answer every recorded question the same way? */
function unchanged(records: readonly ReadRecord[], reader: FileReader): boolean {
  for (const record of records) {
    if (record.op === 'kind') { if ((reader.kind(record.path) ?? null) !== record.answer) return false; }
    else if (record.op === 'read') { if (digest(reader.readFile(record.path)) !== record.sha256) return false; }
    else {
      const names = reader.listDirectory(record.path) ?? null;
      if (names === null || record.names === null ? names !== record.names : names.length !== record.names.length || names.some((n, i) => n !== record.names![i])) return false;
    }
  }
  return true;
}

function isRecords(value: unknown): value is ReadRecord[] {
  return Array.isArray(value) && value.every((r) => r !== null && typeof r === 'object' && typeof (r as ReadRecord).path === 'string'
    && ((r as ReadRecord).op === 'kind' || (r as ReadRecord).op === 'read' || (r as ReadRecord).op === 'list'));
}

/** Maps and Sets (a feature set's tree) as entries, so equal options give equal keys. */
function keyText(parts: unknown): string {
  return JSON.stringify(parts, (_key, value: unknown) => (value instanceof Map ? { map: [...value] } : value instanceof Set ? { set: [...value] } : value));
}

/** The stored result for `key` when every file, directory and lookup it read is unchanged. */
function lookUp<T>(store: BlobStore, key: string, reader: FileReader): { result: T } | undefined {
  const bytes = store.get(key);
  const entry = bytes ? decodeData(bytes) as { records?: unknown; result?: unknown } | undefined : undefined;
  if (entry && typeof entry === 'object' && isRecords(entry.records) && 'result' in entry && unchanged(entry.records, reader)) return { result: entry.result as T };
  return undefined;
}

function remember(store: BlobStore, key: string, records: readonly ReadRecord[], result: unknown): void {
  const encoded = encodeData({ records, result });
  if (encoded) store.set(key, encoded);
}

interface ThroughCacheOptions<T> {
  readonly cacheable: (result: T) => boolean;
  readonly revive?: (result: T) => T;
}

/**
 * `load(reader)`, or its result from an earlier run with the same `keyParts` (everything the load
 * depends on besides what it reads: entry path, working directory, include paths, feature set, code)
 * when every file, directory and lookup it read is unchanged. Only results that `cacheable` accepts
 * are stored (e.g. policies that compiled); `revive` adapts a stored result (e.g. to share automata).
 */
export function loadThroughCache<T>(store: BlobStore | undefined, keyParts: unknown, reader: FileReader, load: (reader: FileReader) => T, options: ThroughCacheOptions<T>): T {
  if (!store) return load(reader);
  const key = `policy-load\0${keyText(keyParts)}`;
  const hit = lookUp<T>(store, key, reader);
  if (hit) return options.revive ? options.revive(hit.result) : hit.result;
  const recording = recordingReader(reader);
  const result = load(recording.reader);
  if (options.cacheable(result)) remember(store, key, recording.records, result);
  return result;
}

/** loadThroughCache for a load that imports its code first (so a cache hit never loads it). */
export async function loadThroughCacheAsync<T>(store: BlobStore | undefined, keyParts: unknown, reader: FileReader, load: (reader: FileReader) => Promise<T>, options: ThroughCacheOptions<T>): Promise<T> {
  if (!store) return load(reader);
  const key = `policy-load\0${keyText(keyParts)}`;
  const hit = lookUp<T>(store, key, reader);
  if (hit) return options.revive ? options.revive(hit.result) : hit.result;
  const recording = recordingReader(reader);
  const result = await load(recording.reader);
  if (options.cacheable(result)) remember(store, key, recording.records, result);
  return result;
}
