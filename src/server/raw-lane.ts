// The worker's fast lane. A connection handed to a worker is read here first, on the raw socket: each
// request head is parsed by the front's own strict parser (http-head.ts) and, when it is a bodiless
// HTTP/1.1 GET or HEAD for a handler with a fast path (serveRaw), answered through a RawResponse that
// writes the whole response with one system call. Anything else (a body, a repeated or unusual field,
// a head split across reads, a request for another hat, a handler without a fast path, a draining
// worker) hands the connection to node:http for the rest of its life, bytes not yet read included, at a
// request boundary: node:http then answers it exactly as it did before this lane existed.
//
// Why: node:http's IncomingMessage, ServerResponse and parser callbacks were about half a worker's CPU
// per PHP request (docs/benchmarks.md). Why it is safe: the lane takes only requests whose length is
// their head (no Content-Length, no Transfer-Encoding), parsed by the parser that already guards the
// front against smuggling; it never reads a body, so it cannot misframe one.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ResponseWriter, SimpleRequest } from './handler.js';
import { safeReason } from './handlers/index.js';
import { ExpirySweep, type Expiring } from './expiry-sweep.js';
import { parseRequestHead, type HeadLimits, type RequestHead } from './http-head.js';

/** Fields that make a request more than "bodiless GET or HEAD" (Content-Length even when 0: node:http decides). */
const NOT_SIMPLE = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer']);
/** More fields than this: node:http (which keeps maxHeadersCount of them) reads the request. */
const MAX_SIMPLE_FIELDS = 100;
/** Bytes of requests pipelined behind the one in flight that are read before the socket is paused. */
const PIPELINE_LIMIT = 64 * 1024;
/** A body up to this size goes out in the same string as the head (one write, no writev). */
const INLINE_BODY = 16 * 1024;

/**
 * The request as the fast lane serves it, or undefined when node:http must read it: not GET or HEAD,
 * not HTTP/1.1, not origin-form, any body framing, a repeated field name, an Expect or Upgrade, a
 * Connection other than keep-alive or close.
 */
export function simpleRequest(head: RequestHead): SimpleRequest | undefined {
  if ((head.method !== 'GET' && head.method !== 'HEAD') || head.version !== '1.1' || !head.target.startsWith('/')) return undefined;
  if (head.contentLength !== null || head.chunked || head.headers.length > MAX_SIMPLE_FIELDS) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of head.headers) {
    const lower = name.toLowerCase();
    // A repeated field, or one named like Object.prototype's members (__proto__, constructor), is left
    // to node:http: a plain object is faster than a null-prototype one, and such names are no browser's.
    if (headers[lower] !== undefined || lower === '__proto__' || NOT_SIMPLE.has(lower)) return undefined;
    if (lower === 'connection') {
      const token = value.toLowerCase();
      if (token !== 'keep-alive' && token !== 'close') return undefined;
    }
    headers[lower] = value;
  }
  return { method: head.method, url: head.target, headers, host: head.host, path: head.path };
}

// A field value node:http would accept in a response: no CR, LF, NUL or other control but HTAB.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

let dateSecond = -1;
let dateText = '';
/** The Date field value, computed once a second (as node:http does). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) { dateSecond = second; dateText = new Date(now).toUTCString(); }
  return dateText;
}

/**
 * A response head: status line, `headers` (flat name/value list; a name or value that could split the
 * response throws), Date unless given, the framing, and Connection (with Keep-Alive's timeout).
 */
export function responseHead(
  status: number, reason: string | undefined, headers: readonly string[],
  framing: { readonly contentLength: number } | 'chunked' | 'none', keepAliveSeconds: number | undefined,
): string {
  const lines = headerLines(headers);
  let text = `HTTP/1.1 ${status} ${safeReason(reason) ?? STATUS_CODES[status] ?? 'Unknown'}\r\n${lines.text}`;
  if (!lines.hasDate) text += `Date: ${httpDate()}\r\n`;
  if (framing === 'chunked') text += 'Transfer-Encoding: chunked\r\n';
  else if (framing !== 'none') text += `Content-Length: ${framing.contentLength}\r\n`;
  text += keepAliveSeconds === undefined ? 'Connection: close\r\n\r\n' : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
  return text;
}

/** A header list's lines, for a frozen list (one shared by many responses: cgiResponseStart's) made once. */
const linesOfFrozenLists = new WeakMap<readonly string[], HeaderLines>();

interface HeaderLines {
  readonly text: string;
  readonly hasDate: boolean;
}

function headerLines(headers: readonly string[]): HeaderLines {
  const known = linesOfFrozenLists.get(headers);
  if (known) return known;
  let text = '';
  let hasDate = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new Error(`invalid response header ${JSON.stringify(name)}`);
    if (!hasDate && name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
    text += `${name}: ${value}\r\n`;
  }
  const lines = { text, hasDate };
  if (Object.isFrozen(headers)) linesOfFrozenLists.set(headers, lines);
  return lines;
}

/** What the lane needs from the worker it serves. */
export interface RawLaneHost {
  /** Serve `request` through `out` (true), or leave it to node:http having sent nothing (false). */
  serveSimple(lane: RawLane, request: SimpleRequest, out: RawResponse): boolean;
  /** `out` is over (sent, cut short, or the client left). The lane may be made to leave here. */
  ended(lane: RawLane, out: RawResponse): void;
  /** Give `socket` to node:http, `bytes` (unread requests) first. */
  toHttp(socket: Socket, bytes: Buffer): void;
}

export interface RawLaneLimits {
  readonly maxHeaderBytes: number;
  /** Idle time between requests before the connection is closed (node:http's keepAliveTimeout). */
  readonly idleTimeoutMs: number;
}

/** Lanes waiting for their next request: each is closed once idle past its deadline, up to 100 ms late. */
const idleLanes = new ExpirySweep<RawLane>(100);

export class RawLane implements Expiring {
  /** While idle (no request in flight): when the connection is closed. */
  expiresAt = 0;
  /** Its place among the idle lanes (ExpirySweep). */
  slot = -1;
  private pending: Buffer | undefined;
  private current: RawResponse | undefined;
  private serving = false;
  /** Handed to node:http, handed back, or closed: the lane no longer touches the socket. */
  private left = false;
  private readonly headLimits: HeadLimits;

  constructor(readonly socket: Socket, private readonly host: RawLaneHost, private readonly limits: RawLaneLimits) {
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
    this.headLimits = { maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: Infinity };
    // As node:http's noDelay: a response is one write, and Nagle would hold it for the client's ACK.
    socket.setNoDelay(true);
    this.waitIdle();
  }

  private waitIdle(): void {
    this.expiresAt = performance.now() + this.limits.idleTimeoutMs;
    idleLanes.watch(this);
  }

  /** From the sweep: idle past its deadline. node:http closes an idle keep-alive connection the same way. */
  expire(): void {
    if (!this.current && !this.left) this.socket.destroy();
  }

  get keepAliveSeconds(): number {
    return Math.max(1, Math.round(this.limits.idleTimeoutMs / 1000));
  }

  /** Requests read and not yet served. */
  get hasPending(): boolean {
    return this.pending !== undefined && this.pending.length > 0;
  }

  get active(): boolean {
    return !this.left;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.current) {
      if (this.pending.length > PIPELINE_LIMIT) this.socket.pause();
      return;
    }
    this.next();
  };

  private readonly onDrain = (): void => { this.current?.drained(); };
  private readonly onClose = (): void => {
    const current = this.current;
    this.left = true;
    idleLanes.forget(this);
    if (current && !current.ended) current.cutShort();
  };
  private readonly onError = (): void => { this.socket.destroy(); };

  /** Serve what has been read, request by request, until one is in flight or node:http must take over. */
  private next(): void {
    if (this.serving) return;
    this.serving = true;
    try {
      while (!this.left && !this.current && this.pending !== undefined) {
        const bytes = this.pending;
        const verdict = parseRequestHead(bytes, this.headLimits);
        // Incomplete, refused or not simple: node:http reads it and answers as it always has.
        const request = verdict.kind === 'complete' ? simpleRequest(verdict.head) : undefined;
        if (!request || verdict.kind !== 'complete') { this.leave(); return; }
        const out = new RawResponse(this, request.method === 'HEAD', verdict.head.keepAlive ? this.keepAliveSeconds : undefined);
        this.current = out;
        idleLanes.forget(this); // a request in flight has the worker's own timeout instead
        this.pending = bytes.length > verdict.head.headLength ? bytes.subarray(verdict.head.headLength) : undefined;
        if (!this.host.serveSimple(this, request, out)) {
          this.current = undefined;
          this.pending = bytes;
          this.leave();
          return;
        }
      }
    } finally {
      this.serving = false;
    }
  }

  /** From the RawResponse: it is over. */
  responseEnded(out: RawResponse): void {
    if (this.current !== out) return;
    this.current = undefined;
    this.host.ended(this, out);
    if (this.left) return;
    if (out.keepAliveSeconds === undefined || this.socket.destroyed) { this.stop(); this.socket.end(); return; }
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
    if (!this.current && !this.left) this.waitIdle();
  }

  /** Give the connection to node:http, the bytes read but not served first. */
  leave(): void {
    if (this.left) return;
    // Paused, so that node:http's resume() starts the flow again: on a flowing socket it would not, and
    // the unread bytes put back in front would wait for more bytes from the client.
    this.socket.pause();
    const bytes = this.stop();
    this.host.toHttp(this.socket, bytes);
  }

  /**
   * The lane lets go of the socket (for a hand-over, a hand-back or a close); returns the bytes read but
   * not served. The socket keeps reading: whoever takes it over attaches in the same tick, and a socket
   * being closed must still read the client's FIN to close (paused, it stayed half-open: a stopping
   * server waited its whole drain timeout for idle keep-alive connections).
   */
  stop(): Buffer {
    this.left = true;
    this.socket.off('data', this.onData);
    this.socket.off('drain', this.onDrain);
    idleLanes.forget(this);
    // An error can still come (a write after the client's FIN reports it on the next tick): it must find
    // a listener, or it is an uncaught exception. node:http adds its own beside this one.
    this.socket.off('error', this.onError);
    this.socket.on('error', ignoreError);
    const bytes = this.pending ?? Buffer.alloc(0);
    this.pending = undefined;
    return bytes;
  }
}

function ignoreError(): void { /* the socket is destroyed by the error itself */ }

/** A ResponseWriter on the lane's socket. */
export class RawResponse implements ResponseWriter {
  ended = false;
  statusCode = 200;
  /** Body bytes sent. */
  bytes = 0;
  private headSent = false;
  private chunked = false;
  private closeListeners: (() => void)[] = [];
  private drainListener: (() => void) | undefined;

  /** undefined: the connection closes after this response. */
  keepAliveSeconds: number | undefined;

  constructor(private readonly lane: RawLane, private readonly isHead: boolean, keepAliveSeconds: number | undefined) {
    this.keepAliveSeconds = keepAliveSeconds;
  }

  private get socket(): Socket {
    return this.lane.socket;
  }

  whole(status: number, reason: string | undefined, headers: readonly string[], body: Buffer | undefined, bodiless: boolean): void {
    if (this.headSent || this.ended) throw new Error('response already started');
    if (!this.socket.writable) { this.cutShort(); return; } // the client is gone (or half-closed)
    const length = bodiless ? 0 : body?.length ?? 0;
    const text = responseHead(status, reason, headers, bodiless ? 'none' : { contentLength: length }, this.keepAliveSeconds);
    this.headSent = true;
    this.statusCode = status;
    if (length === 0 || this.isHead) this.socket.write(text, 'latin1');
    else if (length <= INLINE_BODY) this.socket.write(text + body!.toString('latin1', 0, length), 'latin1');
    else {
      this.socket.cork();
      this.socket.write(text, 'latin1');
      this.socket.write(body!);
      this.socket.uncork();
    }
    this.bytes = this.isHead ? 0 : length;
    this.finish();
  }

  begin(status: number, reason: string | undefined, headers: readonly string[]): void {
    if (this.headSent || this.ended) throw new Error('response already started');
    if (!this.socket.writable) { this.cutShort(); return; }
    const bodiless = this.isHead || status === 204 || status === 304 || status < 200;
    this.socket.write(responseHead(status, reason, headers, bodiless ? 'none' : 'chunked', this.keepAliveSeconds), 'latin1');
    this.headSent = true;
    this.chunked = !bodiless;
    this.statusCode = status;
  }

  write(chunk: Buffer): boolean {
    if (this.ended || !this.headSent) return true;
    if (!this.socket.writable) { this.cutShort(); return true; }
    if (!this.chunked || chunk.length === 0) return true;
    this.bytes += chunk.length;
    this.socket.cork();
    this.socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    this.socket.write(chunk);
    const room = this.socket.write('\r\n', 'latin1');
    this.socket.uncork();
    return room;
  }

  end(): void {
    if (this.ended) return;
    if (this.chunked && this.socket.writable) this.socket.write('0\r\n\r\n', 'latin1');
    this.finish();
  }

  status(code: number): void {
    if (this.ended) return;
    if (this.headSent) { this.cutShort(); return; }
    const body = `${code} ${STATUS_CODES[code] ?? 'Error'}\n`;
    // HEAD still gets the Content-Length a GET would (whole() leaves the body out), as sendStatus does.
    const bodiless = code === 204 || code === 304 || code < 200;
    this.whole(code, undefined, ['Content-Type', 'text/plain; charset=utf-8', 'X-Content-Type-Options', 'nosniff'], Buffer.from(body), bodiless);
  }

  /** A plain-text answer with the connection closed after it (the worker's timeouts and crashes). */
  abandon(code: number, text: string): void {
    if (this.ended) return;
    if (this.headSent || !this.socket.writable) { this.cutShort(); return; }
    const body = Buffer.from(`${text}\n`);
    this.keepAliveSeconds = undefined;
    this.statusCode = code;
    this.headSent = true;
    this.socket.end(responseHead(code, undefined, ['Content-Type', 'text/plain; charset=utf-8'], { contentLength: body.length }, undefined) + (this.isHead ? '' : body.toString('latin1')), 'latin1');
    this.finish();
  }

  /** The client left, or a response already under way cannot be completed: close the connection. */
  cutShort(): void {
    if (this.ended) return;
    this.keepAliveSeconds = undefined;
    this.socket.destroy();
    this.finish();
  }

  onceClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  offClose(listener: () => void): void {
    const listeners = this.closeListeners;
    if (listeners[listeners.length - 1] === listener) { listeners.pop(); return; } // the usual case, without a splice
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  onceDrain(listener: () => void): void {
    this.drainListener = listener;
  }

  offDrain(listener: () => void): void {
    if (this.drainListener === listener) this.drainListener = undefined;
  }

  /** From the lane: the socket drained. */
  drained(): void {
    const listener = this.drainListener;
    this.drainListener = undefined;
    listener?.();
  }

  private finish(): void {
    this.ended = true;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
    this.lane.responseEnded(this);
  }
}
