// The IPC messages between supervisor, front and workers: flat, serializable, discriminated on `type`.
// A connection's socket handle travels beside a message (child.send(message, handle)), never inside it.
import type { ServeConfig } from './config.js';
import { closeHandle } from './handles.js';
import type { PolicyHats } from './policy-hats.js';
import { HISTOGRAM_BUCKETS } from './stats.js';

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
  | { readonly type: 'shed' }
  /** The status page is being read: send your stats now (they are otherwise sent once a second). */
  | { readonly type: 'stats?' };

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

/**
 * One end of an IPC channel: `process` in the front and in each worker (their port to the supervisor),
 * a ChildProcess in the supervisor. `send` is absent when a process was started without a channel.
 */
export interface IpcPort<In = unknown> {
  readonly connected?: boolean;
  send?(message: unknown, handle?: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: In, handle: unknown) => void): unknown;
}

/** Send over IPC without throwing when the channel has gone (the peer is exiting); false: not sent. */
export function sendMessage(target: undefined | Pick<IpcPort, 'send' | 'connected'>, message: object, handle?: unknown, callback?: (error: Error | null) => void): boolean {
  if (!target?.send || target.connected === false) { callback?.(new Error('IPC channel closed')); return false; }
  try {
    // send() returning false only means "queued" (backpressure, or a handle waiting for the previous
    // one's acknowledgement): the message still goes out. Failures arrive through the callback.
    target.send(message, handle, (error) => callback?.(error));
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

// ── validation of what the supervisor receives ───────────────────────────────────────────────────
// A worker runs a site's code and the front parses untrusted bytes: either may be fully controlled by
// an attacker, so every message they send is checked here before the supervisor reads a field of it.
// Each validator returns the message typed, or a reason; it never throws, whatever it is given.

/** Bounds on what a peer may send in one message (a bigger one is invalid, not truncated). */
export const MESSAGE_LIMITS = {
  /** Lines per `log` message and bytes per line (a worker flushes every 100 ms or 64 lines). */
  logLines: 10_000,
  logLineBytes: 64 * 1024,
  /** base64 of a request head plus a hand-back body of up to 1 MiB, and what the socket had buffered. */
  connectionBytes: 4 * 1024 * 1024,
  /** Labels, hats and reasons. */
  name: 4096,
} as const;

export type Checked<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly reason: string };

type Fields = Record<string, unknown>;
const invalid = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The message's own keys must be exactly `keys` (plus `type`; a key written `name?` may be absent):
 * nothing extra rides along unchecked.
 */
function exactKeys(message: Fields, keys: readonly string[]): string | undefined {
  const names = keys.map((key) => key.replace(/\?$/, ''));
  const own = Object.keys(message);
  for (const key of own) if (key !== 'type' && !names.includes(key)) return `unexpected field '${key.slice(0, 64)}'`;
  for (const key of keys) if (!key.endsWith('?') && !Object.prototype.hasOwnProperty.call(message, key)) return `missing field '${key}'`;
  return undefined;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MESSAGE_LIMITS.name;
const isHat = (value: unknown): value is string | null => value === null || isName(value);
const isBase64 = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MESSAGE_LIMITS.connectionBytes && /^[A-Za-z0-9+/]*={0,2}$/.test(value);

function checkLines(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'lines is not a list';
  if (value.length > MESSAGE_LIMITS.logLines) return `more than ${MESSAGE_LIMITS.logLines} lines`;
  for (const line of value) {
    if (typeof line !== 'string') return 'a line is not a string';
    if (line.length > MESSAGE_LIMITS.logLineBytes) return `a line longer than ${MESSAGE_LIMITS.logLineBytes}`;
    // One JSON object per line: a line break would let a peer write a second, forged entry.
    if (/[\r\n\u2028\u2029]/.test(line)) return 'a line break inside a line';
  }
  return undefined;
}

/** Fields each message type carries, with a check per field. */
type FieldChecks = Readonly<Record<string, (value: unknown) => string | undefined>>;
const count = (name: string) => (value: unknown): string | undefined => (isCount(value) ? undefined : `${name} is not a count`);

function checkHistogram(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'histogram is not a list';
  if (value.length !== 0 && value.length !== HISTOGRAM_BUCKETS) return `histogram has ${value.length} buckets, not ${HISTOGRAM_BUCKETS}`;
  return value.every(isCount) ? undefined : 'a histogram bucket is not a count';
}

const WORKER_MESSAGES: Readonly<Record<FromWorker['type'], FieldChecks>> = {
  ready: {},
  // `id`: the connection's number as the supervisor gave it (per-client accounting); a worker can only
  // release ids it was given (Pool checks), so a forged one is at worst ignored.
  released: { 'id?': count('id') },
  handback: { bytes: (v) => (isBase64(v) ? undefined : 'bytes is not base64 (or too long)'), 'id?': count('id') },
  stats: { requests: count('requests'), errors: count('errors'), inFlight: count('inFlight'), connections: count('connections'), histogram: checkHistogram },
  log: { lines: checkLines },
  retire: { reason: (v) => (isName(v) ? undefined : 'reason is not a short string') },
};

const FRONT_MESSAGES: Readonly<Record<FromFront['type'], FieldChecks>> = {
  ready: {},
  listening: { index: count('index'), error: (v) => (v === null || isName(v) ? undefined : 'error is not a code') },
  handoff: {
    label: (v) => (isName(v) ? undefined : 'label is not a name'),
    hat: (v) => (isHat(v) ? undefined : 'hat is not a name or null'),
    bytes: (v) => (isBase64(v) ? undefined : 'bytes is not base64 (or too long)'),
  },
  'status?': { seq: count('seq') },
  'need-pool': { label: (v) => (isName(v) ? undefined : 'label is not a name'), hat: (v) => (isHat(v) ? undefined : 'hat is not a name or null') },
  log: { lines: checkLines },
  stats: { rejected: count('rejected'), handoffs: count('handoffs'), connections: count('connections') },
};

/** The message types that come with a connection handle beside them; every other type must not. */
const CARRIES_HANDLE: ReadonlySet<string> = new Set(['handback', 'handoff']);

function check<T>(table: Readonly<Record<string, FieldChecks>>, message: unknown, hasHandle: boolean): Checked<T> {
  if (!isPlainObject(message)) return invalid('not an object');
  const type = message.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(table, type)) return invalid(`unknown type ${JSON.stringify(String(type).slice(0, 64))}`);
  const fields = table[type]!;
  const shape = exactKeys(message, Object.keys(fields));
  if (shape) return invalid(`${type}: ${shape}`);
  for (const [key, checkField] of Object.entries(fields)) {
    const name = key.replace(/\?$/, '');
    if (key !== name && !Object.prototype.hasOwnProperty.call(message, name)) continue;
    const problem = checkField(message[name]);
    if (problem) return invalid(`${type}: ${problem}`);
  }
  if (CARRIES_HANDLE.has(type) !== hasHandle) return invalid(`${type}: ${hasHandle ? 'a handle beside a message that takes none' : 'no connection handle beside it'}`);
  return { ok: true, message: message as T };
}

/** A message from a worker, checked (hasHandle: something was sent beside it). */
export function checkFromWorker(message: unknown, hasHandle: boolean): Checked<FromWorker> {
  return check<FromWorker>(WORKER_MESSAGES, message, hasHandle);
}

/** A message from the front, checked (hasHandle: something was sent beside it). */
export function checkFromFront(message: unknown, hasHandle: boolean): Checked<FromFront> {
  return check<FromFront>(FRONT_MESSAGES, message, hasHandle);
}
