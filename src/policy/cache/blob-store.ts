// The persistent level of hatter's caches: bytes by key. The shell provides one on disk (cli/cache-store.ts);
// tests use memoryBlobStore. The core only asks and offers; it never trusts what comes back without
// decoding and validating it, so a store can at worst make hatter slower, never change an answer.

/** Bytes by key. Keys are strings the caller builds from everything the value depends on; the store may hash them. */
export interface BlobStore {
  /** The bytes last stored under `key`, or undefined (absent, unreadable, corrupt). Never throws. */
  get(key: string): Uint8Array | undefined;
  /** Keep `bytes` under `key` if possible. Never throws. */
  set(key: string, bytes: Uint8Array): void;
}

/** A store in memory (tests; one process). */
export function memoryBlobStore(): BlobStore & { readonly entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  return {
    entries,
    get: (key) => entries.get(key),
    set: (key, bytes) => { entries.set(key, bytes.slice()); },
  };
}
