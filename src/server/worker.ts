// A pool worker: one process, one hat, for its whole life. It is started already confined (the backend
// applied the hat before this program's first instruction), receives connections (handle + bytes the
// front already read) from the supervisor, and serves their keep-alive requests with its own
// http.Server. A request that routes to another hat is never served here: the connection goes back.
import { chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createHandler, installDeferredBodyResponse } from './handlers/index.js';
import type { Handler, HandlerConfig, HandlerContext } from './handler.js';
import { adoptHandle, detachSocket } from './handles.js';
import { hatChooser } from './policy-hats.js';
import { sendHandle, sendMessage, type FromWorker, type RoutingSnapshot, type ToWorker } from './protocol.js';
import { rawRequestHead, requestTarget } from './request-target.js';
import { Router, type Route } from './routing.js';
import { newHistogram, record } from './stats.js';
import { declaredLengthTooLarge, bodyTooLargeText, limitRequestBody } from './body-limit.js';
import { ConnectionTable } from './client-limits.js';

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
}

interface InFlight {
  readonly res: ServerResponse;
  readonly deadline: number;
  /** Created on first use of ctx.signal: an AbortController per request is costly in Node 20. */
  controller?: AbortController;
}

// Before any handler module loads: `new Response('text')` without the Node 20 stream cost (node-response.ts).
installDeferredBodyResponse();

const connections = new Map<Socket, Connection>();
// fair sharing: which connections are idle, so the supervisor's 'shed' closes the one idle the longest.
const idleTable = new ConnectionTable<Socket>({ max: Infinity, perClient: Infinity });
const inFlight = new Set<InFlight>();
const handlers = new Map<HandlerConfig, Handler>();
const histogram = newHistogram();
let requests = 0;
let errors = 0;
let logLines: string[] = [];
let router: Router | undefined;
let routing: RoutingSnapshot | undefined;
let label = '';
let hat: string | null = null;
let draining = false;
let handBackOnDrain = true;
let retired = false;
let pendingHandBacks = 0;

function send(message: FromWorker, handle?: unknown, callback?: (error: Error | null) => void): void {
  sendMessage(process as never, message, handle, callback);
}

const server = createServer({ noDelay: true }, (req, res) => { onRequest(req, res); });
server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
  // Node's parser refused a later request on a handed-off connection (the front saw only the first).
  if (socket.writable && error.code !== 'ECONNRESET') {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  } else socket.destroy();
  logLines.push(JSON.stringify({ time: new Date().toISOString(), event: 'client-error', code: error.code ?? 'unknown', hat, label, pid: process.pid }));
});

function connectionOf(socket: Socket): Connection {
  let conn = connections.get(socket);
  if (!conn) {
    // strict mode: connections from the front's proxy arrive through our own listener.
    conn = { socket, active: 0, poisoned: false, gone: false };
    connections.set(socket, conn);
    socket.once('close', () => { connections.delete(socket); maybeExit(); });
  }
  return conn;
}

function plainResponse(res: ServerResponse, status: number, text: string, close = false): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = `${text}\n`;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...(close ? { connection: 'close' } : {}) });
  res.end(body);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const conn = connectionOf(req.socket);
  conn.active++;
  idleTable.busy(req.socket);
  let finished = false;
  const done = (): void => {
    if (finished) return;
    finished = true;
    conn.active--;
    if (conn.active === 0) idleTable.idle(req.socket, performance.now());
    afterResponse(conn);
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
  const route = router?.route(host, path);
  if (!route) { plainResponse(res, 400, 'bad request path', true); return; }
  if (route.label !== label) { misdirected(req, res, conn, route); return; }
  if (draining && !handBackOnDrain) res.setHeader('connection', 'close');
  serve(req, res, route, conn);
}

/** A request body this large or smaller travels back with its connection; a larger one gets 421. */
const HAND_BACK_BODY_LIMIT = 1024 * 1024;

function misdirected(req: IncomingMessage, res: ServerResponse, conn: Connection, route: Route): void {
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
    setImmediate(() => afterResponse(conn));
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
    setImmediate(() => afterResponse(conn));
  });
}

/** After each response (and for a pending hand-back): give the connection back when nothing else is in flight. */
function afterResponse(conn: Connection): void {
  if (conn.gone) return;
  if (conn.handBack && conn.active === 1) {
    const { head } = conn.handBack;
    conn.handBack = undefined;
    handBackConnection(conn, head);
  } else if (draining && conn.active === 0 && !conn.handBack) {
    if (handBackOnDrain) handBackConnection(conn, Buffer.alloc(0));
    else conn.socket.end();
  }
  maybeExit();
}

function handBackConnection(conn: Connection, head: Buffer): void {
  const socket = conn.socket;
  socket.pause();
  // Adding a 'data' listener makes http.Server stop consuming the handle in C++ (its unconsume path).
  socket.on('data', () => {});
  const detached = detachSocket(socket);
  conn.gone = true;
  connections.delete(socket);
  idleTable.remove(socket);
  if (!detached) { send({ type: 'released', ...idOf(conn) }); maybeExit(); return; }
  const bytes = detached.buffered.length ? Buffer.concat([head, detached.buffered]) : head;
  // Node sends one handle at a time and queues the rest: stay alive until every one has left.
  pendingHandBacks++;
  sendHandle(process as never, { type: 'handback', bytes: bytes.toString('base64'), ...idOf(conn) } satisfies FromWorker, detached.handle, undefined, () => { pendingHandBacks--; maybeExit(); });
}

function handlerFor(config: HandlerConfig): Handler {
  let handler = handlers.get(config);
  if (!handler) {
    handler = createHandler(config, routing!.config.configDir);
    handlers.set(config, handler);
  }
  return handler;
}

function serve(req: IncomingMessage, res: ServerResponse, route: Route, conn: Connection): void {
  requests++;
  const maxBody = routing!.config.front.maxBodyBytes;
  if (declaredLengthTooLarge(req, maxBody)) { errors++; plainResponse(res, 413, bodyTooLargeText(maxBody), true); return; }
  limitRequestBody(req, res, maxBody, (r, text) => plainResponse(r, 413, text, true), () => { errors++; });
  const started = performance.now();
  const entry: InFlight = { res, deadline: started + routing!.config.pool.requestTimeoutMs };
  inFlight.add(entry);
  const socket = conn.socket;
  const strictRemote = req.headers['x-hatter-remote'];
  let remoteAddress = socket.remoteAddress ?? '';
  let remotePort = socket.remotePort ?? 0;
  if (routing!.config.front.mode === 'strict' && typeof strictRemote === 'string') {
    const at = strictRemote.lastIndexOf(':');
    remoteAddress = strictRemote.slice(0, at);
    remotePort = Number(strictRemote.slice(at + 1));
  }
  const ctx: HandlerContext = {
    siteName: route.site.serverName,
    serverName: route.site.serverName,
    hat: hat ?? '',
    label,
    documentRoot: route.site.documentRoot,
    locationPrefix: route.locationPrefix,
    remoteAddress,
    remotePort,
    serverAddress: socket.localAddress ?? '',
    serverPort: socket.localPort ?? 0,
    get signal() { return (entry.controller ??= new AbortController()).signal; },
  };
  const finish = (): void => {
    if (!inFlight.delete(entry)) return;
    const elapsed = performance.now() - started;
    record(histogram, elapsed * 1000);
    if (res.statusCode >= 500) errors++;
    if (routing!.config.accessLog !== 'off') {
      logLines.push(JSON.stringify({
        time: new Date().toISOString(), remote: remoteAddress, host: req.headers.host ?? '', method: req.method, path: req.url,
        status: res.statusCode, bytes: Number(res.getHeader('content-length') ?? 0) || undefined, ms: Math.round(elapsed * 100) / 100,
        hat: hat ?? null, label, pid: process.pid,
      }));
    }
    const max = routing!.config.pool.maxRequests;
    if (max > 0 && requests >= max) retire(`served ${requests} requests (pool.maxRequests)`);
  };
  res.once('close', finish);
  handlerFor(route.handler).handle(req, res, ctx).catch((error: unknown) => {
    process.stderr.write(`hatter worker ${label}: handler failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    plainResponse(res, 500, 'internal server error');
  });
}

function retire(reason: string): void {
  if (retired) return;
  retired = true;
  send({ type: 'retire', reason });
  startDrain(true);
}

function startDrain(handBack: boolean): void {
  if (draining) return;
  draining = true;
  handBackOnDrain = handBack;
  for (const conn of [...connections.values()]) afterResponse(conn);
  maybeExit();
}

let exiting = false;
function maybeExit(): void {
  if (!draining || exiting || connections.size > 0 || inFlight.size > 0 || pendingHandBacks > 0) return;
  exiting = true;
  flush();
  server.close();
  void Promise.allSettled([...handlers.values()].map((h) => h.close())).then(() => {
    setTimeout(() => process.exit(0), 20);
  });
}

function flush(): void {
  if (logLines.length) { send({ type: 'log', lines: logLines }); logLines = []; }
  send({ type: 'stats', requests, errors, inFlight: inFlight.size, connections: connections.size, histogram });
}

// Per-request timeouts: one sweep instead of a timer per request.
setInterval(() => {
  const now = performance.now();
  for (const entry of inFlight) {
    if (entry.deadline > now) continue;
    inFlight.delete(entry);
    errors++;
    entry.controller?.abort(new Error('request timeout'));
    if (!entry.res.headersSent) plainResponse(entry.res, 504, 'gateway timeout: the handler did not answer in time', true);
    else entry.res.destroy();
    retire('a request timed out (pool.requestTimeoutMs)');
  }
}, 100).unref();
setInterval(flush, 1000).unref();
setInterval(() => { if (logLines.length >= 64) flush(); }, 100).unref();

// A crash cannot be pinned on one request without AsyncLocalStorage, whose hooks slow every promise in
// Node 20. So: stop taking connections, let the requests in flight finish for a moment, and answer 500
// for those still running then (the one that crashed never finishes).
const CRASH_GRACE_MS = 1000;
process.on('uncaughtException', (error) => {
  process.stderr.write(`hatter worker ${label}: uncaught exception: ${error.stack ?? error.message}\n`);
  const suspects = [...inFlight];
  retire('a handler crashed (uncaught exception)');
  setTimeout(() => {
    for (const victim of suspects) {
      if (!inFlight.delete(victim)) continue;
      errors++;
      victim.controller?.abort(error);
      plainResponse(victim.res, 500, 'internal server error', true);
    }
    maybeExit();
  }, Math.min(CRASH_GRACE_MS, routing?.config.pool.requestTimeoutMs ?? CRASH_GRACE_MS)).unref();
});
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`hatter worker ${label}: unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`);
});

process.on('message', (message: ToWorker, handle: unknown) => {
  switch (message.type) {
    case 'init': {
      routing = message.routing;
      label = message.label;
      hat = message.hat;
      router = new Router(routing.config, hatChooser(routing.hats));
      const front = routing.config.front;
      server.keepAliveTimeout = front.idleTimeoutMs;
      server.headersTimeout = front.headerTimeoutMs;
      server.requestTimeout = 0;
      server.maxHeadersCount = 500;
      if (message.strictSocket) {
        const socketPath = message.strictSocket;
        server.listen(socketPath, () => {
          // The front connects as the supervisor's group (the pool's directory keeps that group).
          try { chmodSync(socketPath, 0o660); } catch { /* the front runs as our own uid then */ }
          send({ type: 'ready' });
        });
      }
      else send({ type: 'ready' });
      break;
    }
    case 'connection': {
      if (!handle) return;
      const socket = adoptHandle(handle, Buffer.from(message.bytes, 'base64'));
      const conn: Connection = { socket, active: 0, poisoned: false, gone: false, ...(message.id !== undefined ? { id: message.id } : {}) };
      connections.set(socket, conn);
      idleTable.admit(socket, '');
      socket.once('close', () => {
        idleTable.remove(socket);
        if (conn.gone) return;
        conn.gone = true;
        connections.delete(socket);
        send({ type: 'released', ...idOf(conn) });
        maybeExit();
      });
      server.emit('connection', socket);
      if (draining) afterResponse(conn);
      break;
    }
    case 'drain':
      startDrain(message.handBack);
      break;
    case 'shed':
      shedIdle();
      break;
  }
});

/** fair sharing: the pool is full and connections wait; close the connection idle the longest, if any. */
function shedIdle(): void {
  const socket = idleTable.oldestIdle();
  if (!socket) return;
  idleTable.remove(socket);
  socket.end();
  setTimeout(() => socket.destroy(), 1000).unref();
}

function idOf(conn: Connection): { id?: number } {
  return conn.id !== undefined ? { id: conn.id } : {};
}
process.on('disconnect', () => process.exit(0));
