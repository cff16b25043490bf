// A pool worker: one process, one hat, for its whole life. It is started already confined (the backend
// applied the hat before this program's first instruction), receives connections (handle + bytes the
// front already read) from the supervisor, and serves their keep-alive requests: bodiless GET and HEAD
// for handlers with a fast path on the raw socket (raw-lane.ts), everything else with its own
// http.Server. A request that routes to another hat is never served here: the connection goes back.
// All of it is one Worker, which holds the process's state and talks to the supervisor through the IPC
// port it is given (`process`, below: this module's top level only wires the process to it).
import { chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createHandler, installDeferredBodyResponse } from './handlers/index.js';
import type { Handler, HandlerConfig, HandlerContext } from './handler.js';
import { adoptHandle, detachSocket } from './handles.js';
import { hatChooser } from './policy-hats.js';
import { sendHandle, sendMessage, type FromWorker, type IpcPort, type RoutingSnapshot, type ToWorker } from './protocol.js';
import { rawRequestHead, requestTarget } from './request-target.js';
import { Router, type Route } from './routing.js';
import { newHistogram, record } from './stats.js';
import { declaredLengthTooLarge, bodyTooLargeText, limitRequestBody } from './body-limit.js';
import { ConnectionTable } from './client-limits.js';
import type { SimpleRequest } from './handler.js';
import { RawLane, type RawLaneHost, type RawResponse } from './raw-lane.js';
import { SlotList, type Slotted } from './slot-list.js';

interface Connection {
  readonly socket: Socket;
  active: number;
  /** The request waiting to be given back to the front, with its reconstructed head. */
  handBack?: { readonly res: ServerResponse; readonly head: Buffer };
  /** A request for another hat whose body is still being read (set before the body arrives). */
  handingBack?: ServerResponse;
  /** The supervisor's id for this connection, echoed in 'released' and 'handback'. */
  readonly id?: number;
  /** A request arrived after one that must be handed back: give up and close. */
  poisoned: boolean;
  gone: boolean;
  /** The fast lane reading this connection, until it hands it to node:http (raw-lane.ts). */
  lane?: RawLane;
}

interface InFlight extends Slotted {
  readonly deadline: number;
  /** Created on first use of ctx.signal: an AbortController per request is costly in Node 20. */
  controller?: AbortController;
  /** Answer now with `status` and close the connection (or cut the response short if it has begun). */
  abandon(status: number, text: string): void;
}

/** A request body this large or smaller travels back with its connection; a larger one gets 421. */
const HAND_BACK_BODY_LIMIT = 1024 * 1024;

// A crash cannot be pinned on one request without AsyncLocalStorage, whose hooks slow every promise in
// Node 20. So: stop taking connections, let the requests in flight finish for a moment, and answer 500
// for those still running then (the one that crashed never finishes).
const CRASH_GRACE_MS = 1000;

export class Worker implements RawLaneHost {
  private readonly connections = new Map<Socket, Connection>();
  // fair sharing: which connections are idle, so the supervisor's 'shed' closes the one idle the longest.
  private readonly idleTable = new ConnectionTable<Socket>({ max: Infinity, perClient: Infinity });
  private readonly inFlight = new SlotList<InFlight>();
  private readonly handlers = new Map<HandlerConfig, Handler>();
  private readonly histogram = newHistogram();
  private requests = 0;
  private errors = 0;
  private logLines: string[] = [];
  private router: Router | undefined;
  private routing: RoutingSnapshot | undefined;
  private label = '';
  private hat: string | null = null;
  private draining = false;
  private handBackOnDrain = true;
  private retired = false;
  private pendingHandBacks = 0;
  private exiting = false;
  private readonly server: Server;

  constructor(private readonly port: IpcPort<ToWorker>) {
    this.server = createServer({ noDelay: true }, (req, res) => { this.onRequest(req, res); });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      // Node's parser refused a later request on a handed-off connection (the front saw only the first).
      if (socket.writable && error.code !== 'ECONNRESET') {
        const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else socket.destroy();
      this.logLines.push(JSON.stringify({ time: new Date().toISOString(), event: 'client-error', code: error.code ?? 'unknown', hat: this.hat, label: this.label, pid: process.pid }));
    });
  }

  /** Listen to the supervisor, time requests out, and report to the supervisor periodically. */
  start(): void {
    // Per-request timeouts: one sweep instead of a timer per request.
    setInterval(() => {
      const now = performance.now();
      this.inFlight.takeDue((entry) => entry.deadline <= now, (entry) => {
        this.errors++;
        entry.controller?.abort(new Error('request timeout'));
        entry.abandon(504, 'gateway timeout: the handler did not answer in time');
        this.retire('a request timed out (pool.requestTimeoutMs)');
      });
    }, 100).unref();
    setInterval(() => this.flush(), 1000).unref();
    setInterval(() => { if (this.logLines.length >= 64) this.flush(); }, 100).unref();
    this.port.on('message', (message, handle) => this.receive(message, handle));
  }

  private send(message: FromWorker, handle?: unknown, callback?: (error: Error | null) => void): void {
    sendMessage(this.port, message, handle, callback);
  }

  private connectionOf(socket: Socket): Connection {
    let conn = this.connections.get(socket);
    if (!conn) {
      // strict mode: connections from the front's proxy arrive through our own listener.
      conn = { socket, active: 0, poisoned: false, gone: false };
      this.connections.set(socket, conn);
      socket.once('close', () => { this.connections.delete(socket); this.maybeExit(); });
    }
    return conn;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const conn = this.connectionOf(req.socket);
    this.requestStarted(conn);
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      this.requestEnded(conn);
      this.afterResponse(conn);
    };
    // 'close' follows 'finish' on every ServerResponse (and also comes alone on an abort): one listener.
    res.once('close', done);
    if (conn.handBack || conn.handingBack || conn.poisoned) {
      // Pipelined behind a request for another hat: we cannot give the connection back safely.
      const earlier = conn.handBack?.res ?? conn.handingBack;
      if (earlier) plainResponse(earlier, 421, 'misdirected request: this connection belongs to another hat; retry on a new connection', true);
      conn.handBack = undefined;
      conn.handingBack = undefined;
      conn.poisoned = true;
      plainResponse(res, 421, 'misdirected request: retry on a new connection', true);
      return;
    }
    const { host, path } = requestTarget(req.url, req.headers.host);
    const route = this.router?.route(host, path);
    if (!route) { plainResponse(res, 400, 'bad request path', true); return; }
    if (route.label !== this.label) { this.misdirected(req, res, conn, route); return; }
    if (this.draining && !this.handBackOnDrain) res.setHeader('connection', 'close');
    this.serve(req, res, route, conn);
  }

  private misdirected(req: IncomingMessage, res: ServerResponse, conn: Connection, route: Route): void {
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > HAND_BACK_BODY_LIMIT) {
      plainResponse(res, 421, `misdirected request: ${route.label} is served on a new connection; retry`, true);
      return;
    }
    // The head as the client sent it, minus framing we rewrite below for a chunked body.
    const head = rawRequestHead(req, (name) => chunked && /^(transfer-encoding|content-length)$/i.test(name));
    if (!chunked && length === 0) {
      conn.handBack = { res, head: Buffer.from(head + '\r\n', 'latin1') };
      // Let the parser finish the chunk it is in: a pipelined request behind this one shows up first.
      setImmediate(() => this.afterResponse(conn));
      return;
    }
    // Read the body here (it is bytes, not served), then send head and body back together. A request
    // pipelined behind this one while its body is still arriving must see the hand-back under way.
    conn.handingBack = res;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HAND_BACK_BODY_LIMIT) { req.removeAllListeners('data'); req.resume(); plainResponse(res, 421, `misdirected request: ${route.label} is served on a new connection; retry`, true); return; }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (size > HAND_BACK_BODY_LIMIT || conn.gone || conn.handingBack !== res) return;
      conn.handingBack = undefined;
      const body = Buffer.concat(chunks);
      const framing = chunked ? `Content-Length: ${body.length}\r\n` : '';
      conn.handBack = { res, head: Buffer.concat([Buffer.from(head + framing + '\r\n', 'latin1'), body]) };
      setImmediate(() => this.afterResponse(conn));
    });
  }

  /** After each response (and for a pending hand-back): give the connection back when nothing else is in flight. */
  private afterResponse(conn: Connection): void {
    if (conn.gone) return;
    if (conn.handBack && conn.active === 1) {
      const { head } = conn.handBack;
      conn.handBack = undefined;
      this.handBackConnection(conn, head);
    } else if (this.draining && conn.active === 0 && !conn.handBack) {
      if (this.handBackOnDrain) this.handBackConnection(conn, Buffer.alloc(0));
      else { conn.lane?.stop(); conn.socket.end(); }
    }
    this.maybeExit();
  }

  private handBackConnection(conn: Connection, head: Buffer): void {
    const socket = conn.socket;
    // A connection still in the fast lane: whatever it read and did not serve travels back too.
    if (conn.lane?.active) head = Buffer.concat([head, conn.lane.stop()]);
    socket.pause();
    // Adding a 'data' listener makes http.Server stop consuming the handle in C++ (its unconsume path).
    socket.on('data', () => {});
    const detached = detachSocket(socket);
    conn.gone = true;
    this.connections.delete(socket);
    this.idleTable.remove(socket);
    if (!detached) { this.send({ type: 'released', ...idOf(conn) }); this.maybeExit(); return; }
    const bytes = detached.buffered.length ? Buffer.concat([head, detached.buffered]) : head;
    // Node sends one handle at a time and queues the rest: stay alive until every one has left.
    this.pendingHandBacks++;
    sendHandle(this.port, { type: 'handback', bytes: bytes.toString('base64'), ...idOf(conn) } satisfies FromWorker, detached.handle, undefined, () => { this.pendingHandBacks--; this.maybeExit(); });
  }

  private handlerFor(config: HandlerConfig): Handler {
    let handler = this.handlers.get(config);
    if (!handler) {
      handler = createHandler(config, this.routing!.config.configDir);
      this.handlers.set(config, handler);
    }
    return handler;
  }

  private serve(req: IncomingMessage, res: ServerResponse, route: Route, conn: Connection): void {
    this.requests++;
    const maxBody = this.routing!.config.front.maxBodyBytes;
    if (declaredLengthTooLarge(req, maxBody)) { this.errors++; plainResponse(res, 413, bodyTooLargeText(maxBody), true); return; }
    limitRequestBody(req, res, maxBody, (r, text) => plainResponse(r, 413, text, true), () => { this.errors++; });
    const started = performance.now();
    const entry: InFlight = { slot: -1, deadline: started + this.routing!.config.pool.requestTimeoutMs, abandon: (status, text) => plainResponse(res, status, text, true) };
    this.inFlight.add(entry);
    const socket = conn.socket;
    const strictRemote = req.headers['x-hatter-remote'];
    let remoteAddress = socket.remoteAddress ?? '';
    let remotePort = socket.remotePort ?? 0;
    if (this.routing!.config.front.mode === 'strict' && typeof strictRemote === 'string') {
      const at = strictRemote.lastIndexOf(':');
      remoteAddress = strictRemote.slice(0, at);
      remotePort = Number(strictRemote.slice(at + 1));
    }
    const ctx = new RequestContext(route, this.hat ?? '', this.label, remoteAddress, remotePort, socket, entry);
    const finish = (): void => {
      if (!this.inFlight.delete(entry)) return;
      this.accountFor(started, remoteAddress, req.headers.host, req.method, req.url, res.statusCode, Number(res.getHeader('content-length') ?? 0));
    };
    res.once('close', finish);
    this.handlerFor(route.handler).handle(req, res, ctx).catch((error: unknown) => {
      this.handlerFailed(error);
      plainResponse(res, 500, 'internal server error');
    });
  }

  /** A request on `conn` is under way: the connection is busy (not sheddable) until its last one ends. */
  private requestStarted(conn: Connection): void {
    conn.active++;
    this.idleTable.busy(conn.socket);
  }

  private requestEnded(conn: Connection): void {
    conn.active--;
    if (conn.active === 0) this.idleTable.idle(conn.socket, performance.now());
  }

  private handlerFailed(error: unknown): void {
    process.stderr.write(`hatter worker ${this.label}: handler failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  }

  /** Statistics, the access log and pool.maxRequests, once a request is over (either path). */
  private accountFor(started: number, remote: string, host: string | undefined, method: string | undefined, path: string | undefined, status: number, bytes: number): void {
    const elapsed = performance.now() - started;
    record(this.histogram, elapsed * 1000);
    if (status >= 500) this.errors++;
    if (this.routing!.config.accessLog !== 'off') {
      this.logLines.push(JSON.stringify({
        time: new Date().toISOString(), remote, host: host ?? '', method, path,
        status, bytes: bytes || undefined, ms: Math.round(elapsed * 100) / 100,
        hat: this.hat ?? null, label: this.label, pid: process.pid,
      }));
    }
    const max = this.routing!.config.pool.maxRequests;
    if (max > 0 && this.requests >= max) this.retire(`served ${this.requests} requests (pool.maxRequests)`);
  }

  // ---- The fast lane's host (RawLaneHost): bodiless GET and HEAD for handlers with serveRaw. ----

  serveSimple(lane: RawLane, request: SimpleRequest, out: RawResponse): boolean {
    const conn = this.connections.get(lane.socket);
    if (!conn || this.draining || !this.routing) return false;
    const route = this.router?.route(request.host, request.path);
    // No route (400), another hat (hand-back): node:http's path answers those as it always has.
    if (!route || route.label !== this.label) return false;
    const handler = this.handlerFor(route.handler);
    if (!handler.serveRaw) return false;
    const started = performance.now();
    const entry: InFlight = { slot: -1, deadline: started + this.routing.config.pool.requestTimeoutMs, abandon: (status, text) => out.abandon(status, text) };
    const socket = lane.socket;
    const remoteAddress = socket.remoteAddress ?? '';
    const ctx = new RequestContext(route, this.hat ?? '', this.label, remoteAddress, socket.remotePort ?? 0, socket, entry);
    this.requestStarted(conn);
    this.inFlight.add(entry);
    out.onceClose(() => {
      if (!this.inFlight.delete(entry)) return;
      this.accountFor(started, remoteAddress, request.headers.host, request.method, request.url, out.statusCode, out.bytes);
    });
    let accepted: boolean;
    try {
      accepted = handler.serveRaw(request, out, ctx);
    } catch (error) {
      this.handlerFailed(error);
      this.requests++;
      out.status(500);
      return true;
    }
    if (!accepted) {
      this.inFlight.delete(entry);
      this.requestEnded(conn);
      return false;
    }
    this.requests++;
    return true;
  }

  ended(lane: RawLane, _out: RawResponse): void {
    const conn = this.connections.get(lane.socket);
    if (!conn) return;
    this.requestEnded(conn);
    // Draining: a request read behind this one goes to node:http's path (which hands the connection
    // back after it); an idle connection is handed back (or closed) now.
    if (this.draining && lane.hasPending) lane.leave();
    else this.afterResponse(conn);
  }

  toHttp(socket: Socket, bytes: Buffer): void {
    if (bytes.length > 0) socket.unshift(bytes);
    this.server.emit('connection', socket);
    socket.resume();
  }

  private retire(reason: string): void {
    if (this.retired) return;
    this.retired = true;
    this.send({ type: 'retire', reason });
    this.startDrain(true);
  }

  private startDrain(handBack: boolean): void {
    if (this.draining) return;
    this.draining = true;
    this.handBackOnDrain = handBack;
    for (const conn of [...this.connections.values()]) this.afterResponse(conn);
    this.maybeExit();
  }

  private maybeExit(): void {
    if (!this.draining || this.exiting || this.connections.size > 0 || this.inFlight.size > 0 || this.pendingHandBacks > 0) return;
    this.exiting = true;
    this.flush();
    this.server.close();
    void Promise.allSettled([...this.handlers.values()].map((h) => h.close())).then(() => {
      setTimeout(() => process.exit(0), 20);
    });
  }

  private flush(): void {
    if (this.logLines.length) { this.send({ type: 'log', lines: this.logLines }); this.logLines = []; }
    this.send({ type: 'stats', requests: this.requests, errors: this.errors, inFlight: this.inFlight.size, connections: this.connections.size, histogram: this.histogram });
  }

  /** An uncaught exception: some handler crashed (see CRASH_GRACE_MS). */
  crashed(error: Error): void {
    process.stderr.write(`hatter worker ${this.label}: uncaught exception: ${error.stack ?? error.message}\n`);
    const suspects = this.inFlight.snapshot();
    this.retire('a handler crashed (uncaught exception)');
    setTimeout(() => {
      for (const victim of suspects) {
        if (!this.inFlight.delete(victim)) continue;
        this.errors++;
        victim.controller?.abort(error);
        victim.abandon(500, 'internal server error');
      }
      this.maybeExit();
    }, Math.min(CRASH_GRACE_MS, this.routing?.config.pool.requestTimeoutMs ?? CRASH_GRACE_MS)).unref();
  }

  /** An unhandled promise rejection: reported, not fatal. */
  unhandledRejection(reason: unknown): void {
    process.stderr.write(`hatter worker ${this.label}: unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`);
  }

  /** A message from the supervisor. */
  private receive(message: ToWorker, handle: unknown): void {
    switch (message.type) {
      case 'init': {
        this.routing = message.routing;
        this.label = message.label;
        this.hat = message.hat;
        this.router = new Router(this.routing.config, hatChooser(this.routing.hats));
        const front = this.routing.config.front;
        this.server.keepAliveTimeout = front.idleTimeoutMs;
        this.server.headersTimeout = front.headerTimeoutMs;
        this.server.requestTimeout = 0;
        this.server.maxHeadersCount = 500;
        if (message.strictSocket) {
          const socketPath = message.strictSocket;
          this.server.listen(socketPath, () => {
            // The front connects as the supervisor's group (the pool's directory keeps that group).
            try { chmodSync(socketPath, 0o660); } catch { /* the front runs as our own uid then */ }
            this.send({ type: 'ready' });
          });
        }
        else this.send({ type: 'ready' });
        break;
      }
      case 'connection': {
        if (!handle) return;
        const socket = adoptHandle(handle, Buffer.from(message.bytes, 'base64'));
        const conn: Connection = { socket, active: 0, poisoned: false, gone: false, ...(message.id !== undefined ? { id: message.id } : {}) };
        this.connections.set(socket, conn);
        this.idleTable.admit(socket, '');
        socket.once('close', () => {
          this.idleTable.remove(socket);
          if (conn.gone) return;
          conn.gone = true;
          this.connections.delete(socket);
          this.send({ type: 'released', ...idOf(conn) });
          this.maybeExit();
        });
        const front = this.routing?.config.front;
        if (front?.fastLane) conn.lane = new RawLane(socket, this, { maxHeaderBytes: front.maxHeaderBytes, idleTimeoutMs: front.idleTimeoutMs });
        else this.server.emit('connection', socket);
        if (this.draining) this.afterResponse(conn);
        break;
      }
      case 'drain':
        this.startDrain(message.handBack);
        break;
      case 'shed':
        this.shedIdle();
        break;
      case 'stats?':
        this.flush();
        break;
    }
  }

  /** fair sharing: the pool is full and connections wait; close the connection idle the longest, if any. */
  private shedIdle(): void {
    const socket = this.idleTable.oldestIdle();
    if (!socket) return;
    this.idleTable.remove(socket);
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}

/**
 * A request's HandlerContext. A class, not an object literal: a literal with a getter is built through
 * V8's slow path on every request (measured at about 5 % of a worker's CPU on the static file path).
 */
class RequestContext implements HandlerContext {
  readonly siteName: string;
  readonly serverName: string;
  readonly documentRoot: string;
  readonly locationPrefix: string;
  readonly serverAddress: string;
  readonly serverPort: number;

  constructor(
    route: Route, readonly hat: string, readonly label: string, readonly remoteAddress: string, readonly remotePort: number,
    socket: Socket, private readonly entry: InFlight,
  ) {
    this.siteName = route.site.serverName;
    this.serverName = route.site.serverName;
    this.documentRoot = route.site.documentRoot;
    this.locationPrefix = route.locationPrefix;
    this.serverAddress = socket.localAddress ?? '';
    this.serverPort = socket.localPort ?? 0;
  }

  get signal(): AbortSignal {
    return (this.entry.controller ??= new AbortController()).signal;
  }
}

function plainResponse(res: ServerResponse, status: number, text: string, close = false): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...(close ? { connection: 'close' } : {}) });
  res.end(body);
}

function idOf(conn: Connection): { id?: number } {
  return conn.id !== undefined ? { id: conn.id } : {};
}

// Before any handler module loads: `new Response('text')` without the Node 20 stream cost (node-response.ts).
installDeferredBodyResponse();
const worker = new Worker(process);
process.on('uncaughtException', (error) => worker.crashed(error));
process.on('unhandledRejection', (reason) => worker.unhandledRejection(reason));
worker.start();
process.on('disconnect', () => process.exit(0));
