// A FastCGI 1.0 client for the responder role: one request per connection at a time (no
// multiplexing: PHP-FPM answers FCGI_MPXS_CONNS with 0), FCGI_KEEP_CONN with a pool of kept connections.
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
  decodeEndRequest, encodeBeginRequest, encodeBytePairs, encodeRecord, encodeRequestStart, encodeStream,
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

/**
 * Where one exchange's results go (FastCgiClient.start). Exactly one of `end` and `error` is called,
 * once; never from inside `start` itself (but from inside `cancel`).
 */
export interface FastCgiSink {
  /** STDOUT bytes as they arrive: views into the connection's reads, valid as long as they are kept. */
  stdout(chunk: Buffer): void;
  /** END_REQUEST with "request complete": every STDOUT byte has been given to `stdout`. */
  end(end: EndRequest): void;
  /** The exchange failed (connect, protocol, closed connection, overloaded server, cancelled). */
  error(error: FastCgiError): void;
}

/** One exchange under way (FastCgiClient.start). */
export interface FastCgiCall {
  /** Give up: the connection (if any) is closed, the sink gets a 'fastcgi-aborted' error. */
  cancel(): void;
  /** Back-pressure: stop reading STDOUT from the connection until `resume`. */
  pause(): void;
  resume(): void;
  /** What the application wrote to STDERR so far (first 64 KiB). */
  stderr(): string;
}

const REQUEST_ID = 1;
/** Each connection's read buffer (onread); what a read brings is copied out of it. */
const READ_BUFFER_BYTES = 64 * 1024;
const MAX_STDERR = 64 * 1024;
/** BEGIN_REQUEST (with and without FCGI_KEEP_CONN) and the empty STDIN that ends a body, encoded once. */
const BEGIN_KEEP = encodeBeginRequest(REQUEST_ID, Role.Responder, true);
const BEGIN_CLOSE = encodeBeginRequest(REQUEST_ID, Role.Responder, false);
const STDIN_END = encodeRecord(RecordType.Stdin, REQUEST_ID);

export class FastCgiClient {
  private readonly idle: Connection[] = [];
  /** One timer sweeps idle connections past idleTimeoutMs (a timer per release cost more than the request). */
  private sweeper: NodeJS.Timeout | undefined;
  private readonly maxIdle: number;
  private readonly idleTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxConnections: number;
  /** Exchanges holding a connection (or connecting). */
  private active = 0;
  /** Exchanges waiting for a connection, first come first served. */
  private readonly waiting: Exchange[] = [];
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

  /**
   * Send one request and deliver its results to `sink`, without promises, streams or an AbortSignal
   * per request (the PHP path's per-request cost). The body (if any) streams from `stdin` with
   * back-pressure. `params` are byte strings (encodeBytePairs: cgiVariables makes them). Throws when
   * the client is closed, or for a character beyond U+00FF in `params`.
   */
  start(params: Iterable<readonly [string, string]>, stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined, sink: FastCgiSink): FastCgiCall {
    if (this.closed) throw new FastCgiError('client closed', 'fastcgi-closed');
    const exchange = new Exchange(this, encodeBytePairs(params), stdin, sink);
    if (this.active < this.maxConnections) {
      this.active++;
      exchange.run();
    } else {
      this.waiting.push(exchange);
    }
    return exchange;
  }

  /** `start` as a promise of a Readable STDOUT: settles at the first record; `signal` cancels. */
  request(params: Iterable<readonly [string, string]>, stdin?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, signal?: AbortSignal): Promise<FastCgiExchange> {
    if (this.closed) return Promise.reject(new FastCgiError('client closed', 'fastcgi-closed'));
    if (signal?.aborted) return Promise.reject(new FastCgiError('request aborted', 'fastcgi-aborted'));
    return new Promise((resolve, reject) => {
      let completed = false;
      let resolved = false;
      let resolveEnd!: (end: EndRequest) => void;
      let rejectEnd!: (error: Error) => void;
      const end = new Promise<EndRequest>((res, rej) => { resolveEnd = res; rejectEnd = rej; });
      end.catch(() => {}); // callers that only read stdout see the error there
      const onAbort = () => call.cancel();
      const settle = () => {
        if (resolved) return;
        resolved = true;
        resolve({ stdout, end, stderr: () => call.stderr(), complete: () => completed });
      };
      const call = this.start(params, stdin, {
        stdout: (chunk) => {
          settle();
          if (!stdout.push(Buffer.from(chunk))) call.pause();
        },
        end: (endRequest) => {
          signal?.removeEventListener('abort', onAbort);
          completed = true;
          settle();
          stdout.push(null);
          resolveEnd(endRequest);
        },
        error: (error) => {
          signal?.removeEventListener('abort', onAbort);
          if (!resolved) { resolved = true; reject(error); return; }
          stdout.destroy(error);
          rejectEnd(error);
        },
      });
      const stdout = new Readable({ read: () => call.resume() });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const connection of this.idle.splice(0)) this.discard(connection);
    for (const exchange of this.waiting.splice(0)) exchange.fail(new FastCgiError('client closed', 'fastcgi-closed'));
  }

  /** An exchange waiting for a connection gives up its place. */
  unqueue(exchange: Exchange): boolean {
    const index = this.waiting.indexOf(exchange);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  releaseSlot(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) {
      this.active++;
      next.run();
    }
  }

  /** A kept connection for a request without a body, or undefined. */
  takeIdle(): Connection | undefined {
    for (;;) {
      const connection = this.idle.pop();
      if (!connection) return undefined;
      const socket = connection.socket;
      if (!socket.destroyed && socket.readable && socket.writable) return connection;
      this.discard(connection);
    }
  }

  /** A body cannot be replayed on a fresh connection if a kept one turns out closed: it gets a new one,
   * and a kept one is closed to stay within maxConnections. */
  makeRoomForFresh(): void {
    if (this.active + this.idle.length > this.maxConnections) {
      const connection = this.takeIdle();
      if (connection) this.discard(connection);
    }
  }

  get keepsConnections(): boolean {
    return this.maxIdle > 0;
  }

  release(connection: Connection): void {
    if (this.closed || connection.socket.destroyed || this.idle.length >= this.maxIdle) {
      this.discard(connection);
      return;
    }
    connection.socket.resume();
    connection.idleSince = performance.now();
    this.idle.push(connection);
    // Closed between idleTimeoutMs and 1.5 times that after its last use.
    this.sweeper ??= setInterval(() => this.sweepIdle(), Math.max(10, this.idleTimeoutMs / 2)).unref();
  }

  private sweepIdle(): void {
    const oldest = performance.now() - this.idleTimeoutMs;
    for (const connection of this.idle.filter((c) => c.idleSince <= oldest)) this.dropIdle(connection);
  }

  /** Anything the server says on an idle connection is a protocol error or a close: drop it. */
  dropIdle(connection: Connection): void {
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    this.discard(connection);
  }

  discard(connection: Connection): void {
    connection.owner = undefined;
    connection.socket.destroy();
  }

  /** A new connection; `done` gets it, or an error after connectTimeoutMs. Returns a way to give up. */
  connect(done: (error: Error | undefined, connection: Connection | undefined) => void): () => void {
    // Reads go to a callback with a buffer of our own (`onread`): no Readable stream machinery per read.
    // The bytes are copied out, since the buffer is reused and the exchange keeps views of its chunks.
    let connection: Connection | undefined;
    const onread = {
      buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
      callback: (length: number, buffer: Uint8Array): boolean => { connection?.data(Buffer.from(buffer.subarray(0, length))); return true; },
    };
    const socket = 'path' in this.address ? connect({ path: this.address.path, onread }) : connect({ port: this.address.port, host: this.address.host, onread });
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off('connect', onConnect);
    };
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      done(new FastCgiError(`cannot connect to the FastCGI server: ${error.message}`, 'fastcgi-connect'), undefined);
    };
    const onConnect = () => {
      cleanup();
      socket.setNoDelay(true);
      connection = new Connection(socket, this);
      done(undefined, connection);
    };
    const timer = setTimeout(() => fail(new Error('connect timed out')), this.connectTimeoutMs);
    socket.once('error', fail);
    socket.once('connect', onConnect);
    return () => { cleanup(); socket.destroy(); };
  }
}

/**
 * A connection to the FastCGI server. Its listeners are attached once, for its whole life: events go to
 * the exchange holding it, and on an idle one drop it. (Attaching and removing three listeners per
 * request was a measurable share of a PHP request's CPU.)
 */
class Connection {
  owner: Exchange | undefined;
  idleSince = 0;

  constructor(readonly socket: Socket, private readonly client: FastCgiClient) {
    socket.on('error', (error: Error) => {
      if (this.owner) this.owner.lost(new FastCgiError(`connection failed: ${error.message}`, 'fastcgi-closed'));
      else client.dropIdle(this);
    });
    socket.on('close', () => {
      if (this.owner) this.owner.lost(new FastCgiError('connection closed before END_REQUEST', 'fastcgi-closed'));
      else client.dropIdle(this);
    });
  }

  /** Bytes from the server (the socket's onread callback). */
  data(chunk: Buffer): void {
    if (this.owner) this.owner.receive(chunk);
    else this.client.dropIdle(this);
  }
}

/** One request/response on one connection (a kept one, else a fresh one), reporting to its sink. */
class Exchange implements FastCgiCall {
  private state: 'waiting' | 'connecting' | 'running' | 'done' = 'waiting';
  private connection: Connection | undefined;
  private reused = false;
  private sawRecord = false;
  private paused = false;
  private stderrText = '';
  private decoder = new RecordDecoder();
  private stopConnecting: (() => void) | undefined;

  constructor(
    private readonly client: FastCgiClient, private readonly paramBytes: Buffer,
    private readonly stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined, private readonly sink: FastCgiSink,
  ) {}

  /** The exchange holds a connection slot now. */
  run(): void {
    if (this.stdin === undefined) {
      const kept = this.client.takeIdle();
      if (kept) { this.attach(kept, true); return; }
    } else {
      this.client.makeRoomForFresh();
    }
    this.connectFresh();
  }

  cancel(): void {
    this.fail(new FastCgiError('request aborted', 'fastcgi-aborted'));
  }

  pause(): void {
    this.paused = true;
    this.connection?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.state === 'running') this.connection?.socket.resume();
  }

  stderr(): string {
    return this.stderrText;
  }

  /** End with an error, giving back whatever the exchange holds. */
  fail(error: FastCgiError): void {
    const state = this.state;
    if (state === 'done') return;
    this.state = 'done';
    if (state === 'waiting') {
      this.client.unqueue(this);
    } else {
      if (state === 'connecting') this.stopConnecting?.();
      if (state === 'running') this.detach(false);
      this.client.releaseSlot();
    }
    this.sink.error(error);
  }

  private connectFresh(): void {
    this.state = 'connecting';
    this.stopConnecting = this.client.connect((error, connection) => {
      this.stopConnecting = undefined;
      if (error) this.fail(error as FastCgiError);
      else this.attach(connection!, false);
    });
  }

  private attach(connection: Connection, reused: boolean): void {
    this.state = 'running';
    this.connection = connection;
    this.reused = reused;
    this.sawRecord = false;
    connection.owner = this;
    const socket = connection.socket;
    if (this.paused) socket.pause();
    const begin = this.client.keepsConnections ? BEGIN_KEEP : BEGIN_CLOSE;
    // Without a body, the whole request is one write.
    socket.write(encodeRequestStart(begin, REQUEST_ID, this.paramBytes, this.stdin === undefined));
    if (this.stdin !== undefined) void this.sendStdin(socket, this.stdin);
  }

  /** Stop listening to the connection; keep it for the next exchange or close it. */
  private detach(keep: boolean): void {
    const connection = this.connection!;
    connection.owner = undefined;
    this.connection = undefined;
    if (keep) this.client.release(connection);
    else this.client.discard(connection);
  }

  /** The connection failed; a kept one the server had closed before answering is retried, fresh. */
  lost(error: FastCgiError): void {
    if (this.state !== 'running') return;
    if (this.reused && !this.sawRecord) {
      this.detach(false);
      this.decoder = new RecordDecoder(); // a partial record from the dead connection must not linger
      this.connectFresh(); // in the same slot
      return;
    }
    this.fail(error);
  }

  receive(chunk: Buffer): void {
    let records;
    try {
      records = this.decoder.push(chunk);
    } catch (error) {
      this.fail(new FastCgiError((error as Error).message, 'fastcgi-protocol'));
      return;
    }
    for (const record of records) {
      if (this.state !== 'running') return;
      this.sawRecord = true;
      if (record.requestId === 0) continue; // management records (GET_VALUES_RESULT, UNKNOWN_TYPE)
      if (record.requestId !== REQUEST_ID) {
        this.fail(new FastCgiError(`record for unknown request ${record.requestId}`, 'fastcgi-protocol'));
        return;
      }
      switch (record.type) {
        case RecordType.Stdout:
          if (record.content.length > 0) this.sink.stdout(record.content);
          break;
        case RecordType.Stderr:
          if (this.stderrText.length < MAX_STDERR) this.stderrText += record.content.toString('utf8');
          break;
        case RecordType.EndRequest: {
          let endRequest: EndRequest;
          try {
            endRequest = decodeEndRequest(record.content);
          } catch (error) {
            this.fail(new FastCgiError((error as Error).message, 'fastcgi-protocol'));
            return;
          }
          if (endRequest.protocolStatus !== ProtocolStatus.RequestComplete) {
            this.fail(new FastCgiError(`FastCGI server refused the request (protocol status ${endRequest.protocolStatus})`, 'fastcgi-overloaded'));
            return;
          }
          if (this.decoder.pending > 0) {
            this.fail(new FastCgiError('bytes after END_REQUEST', 'fastcgi-protocol'));
            return;
          }
          this.state = 'done';
          // The connection and the slot go back first, so the next waiting request can reuse them.
          this.detach(this.client.keepsConnections);
          this.client.releaseSlot();
          this.sink.end(endRequest);
          return;
        }
        default:
          this.fail(new FastCgiError(`unexpected record type ${record.type} from the server`, 'fastcgi-protocol'));
          return;
      }
    }
  }

  private async sendStdin(socket: Socket, stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    const over = () => this.connection?.socket !== socket || this.state !== 'running';
    try {
      for await (const chunk of stdin) {
        // Once the request is over, the rest of the body is read and dropped rather than abandoned:
        // leaving the loop would destroy the source (the client's request, and its connection).
        if (over() || socket.destroyed) continue;
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
      if (!over() && !socket.destroyed) socket.write(STDIN_END);
    } catch (error) {
      // The client's upload failed: the FastCGI request cannot complete.
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
