// Follow a growing log file like `tail -F`: read what is there, then poll for more; when the file is
// renamed away (rotation) finish the old one and reopen the name; when it shrinks (truncation) start over
// from the beginning. Memory is one read buffer.
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface FollowOptions {
  /** Stop following (the iterator then ends). */
  readonly signal?: AbortSignal;
  /** Poll interval while idle, ms. Default 250. */
  readonly pollMs?: number;
  /** Start at the end of the file instead of its beginning. */
  readonly fromEnd?: boolean;
  /** Read buffer size. Default 1 MiB. */
  readonly chunkSize?: number;
  /** Called whenever the file is reopened after rotation or rewound after truncation. */
  readonly onReopen?: (why: 'rotated' | 'truncated' | 'appeared') => void;
  /** Called each time the reader catches up with the end of the file (follow mode flushes then). */
  readonly onIdle?: () => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function tryOpen(path: string): Promise<{ handle: FileHandle; ino: number; dev: number } | undefined> {
  try {
    const handle = await open(path, 'r');
    const st = await handle.stat();
    return { handle, ino: st.ino, dev: st.dev };
  } catch {
    return undefined;
  }
}

/** Chunks of `path` as it grows, across rotation and truncation, until the signal aborts. */
export async function* followFile(path: string, options: FollowOptions = {}): AsyncGenerator<Buffer> {
  const { signal, pollMs = 250, chunkSize = 1 << 20 } = options;
  let current = await tryOpen(path);
  let position = 0;
  if (current && options.fromEnd) position = (await current.handle.stat()).size;
  const buffer = Buffer.allocUnsafe(chunkSize);
  try {
    while (!signal?.aborted) {
      if (!current) {
        await sleep(pollMs, signal);
        current = await tryOpen(path);
        position = 0;
        if (current) options.onReopen?.('appeared');
        continue;
      }
      const { bytesRead } = await current.handle.read(buffer, 0, chunkSize, position);
      if (bytesRead > 0) {
        position += bytesRead;
        yield Buffer.from(buffer.subarray(0, bytesRead));
        continue;
      }
      // at the end: has the name moved to a new file, or was this one truncated?
      options.onIdle?.();
      let named: { ino: number; dev: number; size: number } | undefined;
      try {
        const st = await stat(path);
        named = { ino: st.ino, dev: st.dev, size: st.size };
      } catch {
        named = undefined;
      }
      if (named && (named.ino !== current.ino || named.dev !== current.dev)) {
        // rotated: lines may have landed in the old file after our last read; drain it, then switch
        for (;;) {
          const rest = await current.handle.read(buffer, 0, chunkSize, position);
          if (rest.bytesRead === 0) break;
          position += rest.bytesRead;
          yield Buffer.from(buffer.subarray(0, rest.bytesRead));
        }
        await current.handle.close();
        current = await tryOpen(path);
        position = 0;
        options.onReopen?.('rotated');
        continue;
      }
      const size = (await current.handle.stat()).size;
      if (size < position) {
        position = 0;
        options.onReopen?.('truncated');
        continue;
      }
      await sleep(pollMs, signal);
    }
  } finally {
    await current?.handle.close();
  }
}
