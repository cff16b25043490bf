// A FastCGI 1.0 client for the responder role: one request per connection at a time (no
// multiplexing), FCGI_KEEP_CONN with a pool of kept connections.
//
// A PHP-FPM child serves one connection until it is closed, so every kept connection pins one child.
// Two ways to use the client follow from that:
// - `maxConnections` set (hatter's own PHP-FPM, whose children it counts): at most that many
//   connections at once, all kept open and reused, further requests wait in order for one. The
//   caller makes sure the connections of all workers together never exceed the children
//   (fpmConnectionsPerWorker), so a kept connection never holds a child another worker waits for.
// - unset (a FastCGI server of unknown size): a new connection whenever none is idle, and at most
//   `maxIdle` kept, for at most `idleTimeoutMs`, which bounds how many children a worker holds idle.
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  decodeEndRequest, encodeBeginRequest, encodeNameValuePairs, encodeRecord, encodeStream, FastCgiProtocolError,
  ProtocolStatus, RecordDecoder, RecordType, Role, type EndRequest,
} from './records.js';
export type FastCgiAddress = { readonly path: string } | { readonly host: string; readonly port: number };

/** 'unix:/run/x.sock', '/run/x.sock', 'tcp://127.0.0.1:9000', '127.0.0.1:9000' or '[::1]:9000'. */
export function parseFastCgiAddress(text: string): FastCgiAddress | undefined {
  if (text.startsWith('unix:')) return text.length > 5 ? { path: text.slice(5) } : undefined;
  if (text.startsWith('/')) return { path: text };
  const rest = text.startsWith('tcp://') ? text.slice(6) : text;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]/]+)):(\d{1,5})$/.exec(rest);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}

export class FastCgiError extends Error {
  constructor(message: string, readonly code: 'fastcgi-connect' | 'fastcgi-protocol' | 'fastcgi-closed' | 'fastcgi-overloaded' | 'fastcgi-aborted') {
    super(message);
  }
}

export interface FastCgiClientOptions {
  /** Connections open at once; requests beyond wait for one (default: no bound). */
  readonly maxConnections?: number;
  /** Idle kept connections held for reuse (0 disables FCGI_KEEP_CONN; default 1, or maxConnections). */
  readonly maxIdle?: number;
  readonly idleTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

export interface FastCgiExchange {
  /** The application's STDOUT stream (a CGI response). */
  readonly stdout: Readable;
  /** Settles when END_REQUEST arrives; rejects when the connection fails first. */
  readonly end: Promise<EndRequest>;
  /** What the application wrote to STDERR (first 64 KiB). */
  stderr(): string;
  /** END_REQUEST has arrived: everything the application wrote is in `stdout` already. */
  complete(): boolean;
}

const REQUEST_ID = 1;
const MAX_STDERR = 64 * 1024;

export class FastCgiClient {
  private readonly idle: Socket[] = [];
  private readonly idleTimers = new Map<Socket, NodeJS.Timeout>();
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxConnections: number;
  /** Requests holding a connection (or connecting). */
  private active = 0;
  /** Requests waiting for a connection, first come first served. */
  private readonly waiting: (() => void)[] = [];
  private closed = false;

  constructor(readonly address: FastCgiAddress, options: FastCgiClientOptions = {}) {
    this.maxConnections = options.maxConnections !== undefined ? Math.max(1, Math.floor(options.maxConnections)) : Infinity;
    const bounded = this.maxConnections !== Infinity;
    this.maxIdle = options.maxIdle ?? (bounded ? this.maxConnections : 1);
    // Bounded connections are this worker's share of the children: keeping them costs no one anything.
    this.idleTimeoutMs = options.idleTimeoutMs ?? (bounded ? 30_000 : 1000);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  }

  /** Requests waiting for a free connection (maxConnections reached). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Send one request; the body (if any) streams from `stdin` with backpressure. */
  async request(params: Iterable<readonly [string, string]>, stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): Promise<FastCgiExchange> {
    if (this.closed) throw new FastCgiError('client closed', 'fastcgi-closed');
    const paramBytes = encodeNameValuePairs(params);
    await this.acquire(signal);
    let handedOver = false;
    try {
      const reused = stdin === undefined ? this.takeIdle() : undefined;
      // A body cannot be replayed on a fresh connection if a kept one turns out closed: it gets a new
      // connection, and a kept one is closed to stay within maxConnections.
      if (stdin !== undefined && this.active + this.idle.length > this.maxConnections) this.takeIdle()?.destroy();
      if (reused) {
        const exchange = this.exchange(reused, paramBytes, undefined, signal, true);
        // A kept connection the server has since closed fails before any record: retry once, fresh.
        const ok = await exchange.firstRecord;
        if (ok) { handedOver = true; return exchange; }
        if (signal?.aborted) throw new FastCgiError('request aborted', 'fastcgi-aborted');
      }
      const socket = await this.connect(signal);
      handedOver = true;
      return this.exchange(socket, paramBytes, stdin, signal, false);
    } finally {
      // Once an exchange owns the connection, it gives the slot back when it finishes.
      if (!handedOver) this.releaseSlot();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.idle.splice(0)) this.discard(socket);
    for (const wake of this.waiting.splice(0)) wake();
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < this.maxConnections) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.closed) return reject(new FastCgiError('client closed', 'fastcgi-closed'));
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(wake);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new FastCgiError('request aborted', 'fastcgi-aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(wake);
    });
  }

  private releaseSlot(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next();
  }

  private takeIdle(): Socket | undefined {
    for (;;) {
      const socket = this.idle.pop();
      if (!socket) return undefined;
      clearTimeout(this.idleTimers.get(socket));
      this.idleTimers.delete(socket);
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.removeAllListeners('data');
      if (!socket.destroyed && socket.readable && socket.writable) return socket;
      socket.destroy();
    }
  }

  private release(socket: Socket): void {
    if (this.closed || socket.destroyed || this.idle.length >= this.maxIdle) {
      this.discard(socket);
      return;
    }
    socket.removeAllListeners('data');
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    // Anything the server says on an idle connection is a protocol error or a close: drop it.
    const drop = () => this.dropIdle(socket);
    socket.on('data', drop);
    socket.on('error', drop);
    socket.on('close', drop);
    socket.resume();
    this.idle.push(socket);
    const timer = setTimeout(drop, this.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(socket, timer);
  }

  private dropIdle(socket: Socket): void {
    const index = this.idle.indexOf(socket);
    if (index >= 0) this.idle.splice(index, 1);
    clearTimeout(this.idleTimers.get(socket));
    this.idleTimers.delete(socket);
    this.discard(socket);
  }

  private discard(socket: Socket): void {
    socket.removeAllListeners('data');
    socket.on('error', () => {});
    socket.destroy();
  }

  private connect(signal?: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = 'path' in this.address ? connect(this.address.path) : connect(this.address.port, this.address.host);
      const fail = (error: Error) => {
        cleanup();
        socket.destroy();
        reject(new FastCgiError(`cannot connect to the FastCGI server: ${error.message}`, 'fastcgi-connect'));
      };
      const timer = setTimeout(() => fail(new Error('connect timed out')), this.connectTimeoutMs);
      const onAbort = () => fail(new Error('aborted'));
      if (signal?.aborted) return onAbort();
      const cleanup = () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.off('connect', onConnect);
        signal?.removeEventListener('abort', onAbort);
      };
      const onConnect = () => {
        cleanup();
        socket.setNoDelay(true);
        resolve(socket);
      };
      socket.once('error', fail);
      socket.once('connect', onConnect);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private exchange(
    socket: Socket, paramBytes: Buffer, stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined, signal: AbortSignal | undefined,
    reused: boolean,
  ): FastCgiExchange & { firstRecord: Promise<boolean> } {
    const keep = this.maxIdle > 0;
    const decoder = new RecordDecoder();
    let stderr = '';
    let settled = false;
    let completed = false;
    let sawRecord = false;
    let resolveFirst!: (ok: boolean) => void;
    const firstRecord = new Promise<boolean>((resolve) => { resolveFirst = resolve; });
    let resolveEnd!: (end: EndRequest) => void;
    let rejectEnd!: (error: Error) => void;
    const end = new Promise<EndRequest>((resolve, reject) => { resolveEnd = resolve; rejectEnd = reject; });
    end.catch(() => {}); // callers that only read stdout see the error there
    const stdout = new Readable({ read: () => { socket.resume(); } });

    const finish = (error: Error | undefined, endRequest?: EndRequest) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) {
        this.discard(socket);
        if (reused && !sawRecord) {
          resolveFirst(false); // the caller retries on a fresh connection, in the same slot
          return;
        }
        this.releaseSlot();
        resolveFirst(true);
        stdout.destroy(error);
        rejectEnd(error);
        return;
      }
      completed = true;
      if (keep) this.release(socket);
      else this.discard(socket);
      this.releaseSlot();
      resolveFirst(true);
      stdout.push(null);
      resolveEnd(endRequest!);
    };
    const onData = (chunk: Buffer) => {
      let records;
      try {
        records = decoder.push(chunk);
      } catch (error) {
        finish(error instanceof FastCgiProtocolError ? new FastCgiError(error.message, 'fastcgi-protocol') : (error as Error));
        return;
      }
      for (const record of records) {
        if (settled) return;
        if (!sawRecord) {
          sawRecord = true;
          resolveFirst(true);
        }
        if (record.requestId === 0) continue; // management records (GET_VALUES_RESULT, UNKNOWN_TYPE)
        if (record.requestId !== REQUEST_ID) {
          finish(new FastCgiError(`record for unknown request ${record.requestId}`, 'fastcgi-protocol'));
          return;
        }
        switch (record.type) {
          case RecordType.Stdout:
            if (record.content.length > 0 && !stdout.push(Buffer.from(record.content))) socket.pause();
            break;
          case RecordType.Stderr:
            if (stderr.length < MAX_STDERR) stderr += record.content.toString('utf8');
            break;
          case RecordType.EndRequest: {
            let endRequest: EndRequest;
            try {
              endRequest = decodeEndRequest(record.content);
            } catch (error) {
              finish(new FastCgiError((error as Error).message, 'fastcgi-protocol'));
              return;
            }
            if (endRequest.protocolStatus !== ProtocolStatus.RequestComplete) {
              finish(new FastCgiError(`FastCGI server refused the request (protocol status ${endRequest.protocolStatus})`, 'fastcgi-overloaded'));
              return;
            }
            if (decoder.pending > 0) {
              finish(new FastCgiError('bytes after END_REQUEST', 'fastcgi-protocol'));
              return;
            }
            finish(undefined, endRequest);
            return;
          }
          default:
            finish(new FastCgiError(`unexpected record type ${record.type} from the server`, 'fastcgi-protocol'));
            return;
        }
      }
    };
    const onError = (error: Error) => finish(new FastCgiError(`connection failed: ${error.message}`, 'fastcgi-closed'));
    const onClose = () => finish(new FastCgiError('connection closed before END_REQUEST', 'fastcgi-closed'));
    const onAbort = () => finish(new FastCgiError('request aborted', 'fastcgi-aborted'));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });

    if (!settled) {
      const head = [encodeBeginRequest(REQUEST_ID, Role.Responder, keep), ...encodeStream(RecordType.Params, REQUEST_ID, paramBytes), encodeRecord(RecordType.Params, REQUEST_ID)];
      socket.write(Buffer.concat(head));
      if (stdin === undefined) socket.write(encodeRecord(RecordType.Stdin, REQUEST_ID));
      else void this.sendStdin(socket, stdin, () => settled);
    }
    return { stdout, end, stderr: () => stderr, complete: () => completed, firstRecord };
  }

  private async sendStdin(socket: Socket, stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, isSettled: () => boolean): Promise<void> {
    try {
      for await (const chunk of stdin) {
        // Once the request is over, the rest of the body is read and dropped rather than abandoned:
        // leaving the loop would destroy the source (the client's request, and its connection).
        if (isSettled() || socket.destroyed) continue;
        let ok = true;
        for (const record of encodeStream(RecordType.Stdin, REQUEST_ID, chunk)) ok = socket.write(record);
        if (!ok) {
          await new Promise<void>((resolve) => {
            const done = () => { socket.off('drain', done); socket.off('close', done); resolve(); };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
      if (!isSettled() && !socket.destroyed) socket.write(encodeRecord(RecordType.Stdin, REQUEST_ID));
    } catch (error) {
      // The client's upload failed: the FastCGI request cannot complete.
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
