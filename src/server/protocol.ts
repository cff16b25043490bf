// The IPC messages between supervisor, front and workers: flat, serializable, discriminated on `type`.
// A connection's socket handle travels beside a message (child.send(message, handle)), never inside it.
import type { ServeConfig } from './config.js';
import { closeHandle } from './handles.js';
import type { PolicyHats } from './policy-hats.js';

/** Everything a front or worker needs to route requests exactly as the supervisor configured. */
export interface RoutingSnapshot {
  readonly config: ServeConfig;
  readonly hats: PolicyHats;
  readonly generation: number;
}

// ── supervisor → front ───────────────────────────────────────────────────────────────────────────
export type ToFront =
  | { readonly type: 'init'; readonly routing: RoutingSnapshot; readonly adminListener: boolean }
  /** A listening socket handle (kept by the supervisor across reloads). */
  | { readonly type: 'listen'; readonly index: number; readonly admin: boolean }
  | { readonly type: 'config'; readonly routing: RoutingSnapshot }
  /** A connection back from a worker (it needs another hat, or its pool is draining); bytes: base64. */
  | { readonly type: 'return'; readonly bytes: string }
  /** The pool could not take the connection: answer `status` and close (429: the client address holds its share). */
  | { readonly type: 'reject'; readonly status: 503 | 429; readonly retryAfter: number; readonly label: string }
  | { readonly type: 'status'; readonly seq: number; readonly body: unknown }
  /** strict mode: where each pool's workers listen. */
  | { readonly type: 'pool-sockets'; readonly label: string; readonly sockets: readonly string[] }
  | { readonly type: 'stop' };

// ── front → supervisor ───────────────────────────────────────────────────────────────────────────
export type FromFront =
  | { readonly type: 'ready' }
  /** The outcome of listening on the socket of `listen` message `index` (error: an errno code). */
  | { readonly type: 'listening'; readonly index: number; readonly error: string | null }
  /** Hand this connection (handle beside) to a worker of `label`; bytes already read, base64. */
  | { readonly type: 'handoff'; readonly label: string; readonly hat: string | null; readonly bytes: string }
  | { readonly type: 'status?'; readonly seq: number }
  /** strict mode: make sure `label`'s pool runs and tell me its sockets. */
  | { readonly type: 'need-pool'; readonly label: string; readonly hat: string | null }
  | { readonly type: 'log'; readonly lines: readonly string[] }
  | { readonly type: 'stats'; readonly rejected: number; readonly handoffs: number; readonly connections: number };

// ── supervisor → worker ──────────────────────────────────────────────────────────────────────────
export type ToWorker =
  | { readonly type: 'init'; readonly routing: RoutingSnapshot; readonly label: string; readonly hat: string | null; readonly workerId: number; readonly strictSocket?: string }
  /** A connection (handle beside) with the bytes the front already read, base64; id: the pool's, echoed back. */
  | { readonly type: 'connection'; readonly bytes: string; readonly id?: number }
  /** Finish what is in flight, give idle connections back, then exit. */
  | { readonly type: 'drain'; readonly handBack: boolean }
  /** The pool is full and connections wait: close the connection idle the longest (if any is idle). */
  | { readonly type: 'shed' };

// ── worker → supervisor ──────────────────────────────────────────────────────────────────────────
export interface WorkerStats {
  readonly requests: number;
  readonly errors: number;
  readonly inFlight: number;
  readonly connections: number;
  /** Latency histogram (see stats.ts), cumulative since the worker started. */
  readonly histogram: readonly number[];
}

export type FromWorker =
  | { readonly type: 'ready' }
  /** A connection this worker held is gone (closed or handed back); id: from its 'connection' message. */
  | { readonly type: 'released'; readonly id?: number }
  /** Give the connection (handle beside) back to the front; bytes: the request head to replay, base64. */
  | { readonly type: 'handback'; readonly bytes: string; readonly id?: number }
  | ({ readonly type: 'stats' } & WorkerStats)
  | { readonly type: 'log'; readonly lines: readonly string[] }
  /** Replace me: I timed out a request, crashed in a handler, or served maxRequests. I drain myself. */
  | { readonly type: 'retire'; readonly reason: string };

/** Send over IPC without throwing when the channel has gone (the peer is exiting); false: not sent. */
export function sendMessage(target: undefined | { send?: (message: unknown, handle?: unknown, options?: unknown, callback?: (error: Error | null) => void) => boolean; connected?: boolean }, message: object, handle?: unknown, callback?: (error: Error | null) => void): boolean {
  if (!target?.send || target.connected === false) { callback?.(new Error('IPC channel closed')); return false; }
  try {
    // send() returning false only means "queued" (backpressure, or a handle waiting for the previous
    // one's acknowledgement): the message still goes out. Failures arrive through the callback.
    target.send(message, handle, {}, (error) => callback?.(error));
    return true;
  } catch (error) {
    callback?.(error as Error);
    return false;
  }
}

/**
 * Send a connection's handle to another process and close our copy once it has left. Node duplicates
 * a raw handle into the message and, unlike for a net.Socket, never closes the sender's: without this,
 * every process a connection passed through would keep it open (one descriptor per connection ever
 * handed off, and a close by the worker would not end the connection). `onFailed` gets the handle back
 * (still open) when it could not be sent; by default it is closed.
 */
export function sendHandle(
  target: Parameters<typeof sendMessage>[0], message: object, handle: unknown,
  onFailed: (handle: unknown) => void = closeHandle, onSent?: () => void,
): void {
  sendMessage(target, message, handle, (error) => {
    if (error) onFailed(handle);
    else closeHandle(handle);
    onSent?.();
  });
}
