// The front process: the only place that reads untrusted bytes before a hat is chosen (mod_apparmor's
// HANDLING_UNTRUSTED_INPUT). It accepts connections on sockets the supervisor bound, parses the first
// request head with strict limits, refuses malformed requests itself (no worker ever sees them), picks
// the hat, and hands the connection (handle plus the bytes read) to that hat's pool via the supervisor.
// In strict mode it parses every request and proxies it to the pool over a UNIX socket instead.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { adoptHandle, detachSocket } from './handles.js';
import { parseRequestHead } from './http-head.js';
import { hatChooser } from './policy-hats.js';
import { sendHandle, sendMessage, type FromFront, type RoutingSnapshot, type ToFront } from './protocol.js';
import { REASONS } from './request-target.js';
import { Router } from './routing.js';
import { clientKey, ConnectionTable } from './client-limits.js';
import { StrictFront } from './strict-front.js';

let routing: RoutingSnapshot | undefined;
let router: Router | undefined;
let logLines: string[] = [];
const listeners: Server[] = [];
const openSockets = new Set<Socket>();
let rejected = 0;
let handoffs = 0;
let statusSeq = 0;
const statusWaiters = new Map<number, (body: unknown) => void>();
let stopping = false;

function send(message: FromFront, handle?: unknown, callback?: (error: Error | null) => void): void {
  sendMessage(process as never, message, handle, callback);
}


function log(entry: Record<string, unknown>): void {
  if (routing?.config.accessLog === 'off') return;
  logLines.push(JSON.stringify({ time: new Date().toISOString(), ...entry, hat: null, label: 'front', pid: process.pid }));
}

// fair sharing: the connections this process holds, per client address, and which are idle (no byte
// of a request yet: new and silent, or given back kept-alive), so a full front sheds the longest idle.
const held = new ConnectionTable<Socket>({ max: Infinity, perClient: Infinity });

/** Count a connection against its client and the front's bound; false: refused (answered here). */
function admit(socket: Socket): boolean {
  const key = clientKey(socket.remoteAddress);
  const admission = held.admit(socket, key);
  if (!admission.admitted) {
    const client = admission.reason === 'client';
    socket.on('error', () => socket.destroy());
    log({ event: 'rejected', status: client ? 429 : 503, code: client ? 'front/client-limit' : 'front/full', remote: socket.remoteAddress });
    refuse(socket, client ? 429 : 503, client ? `Too Many Requests: ${key} has too many connections open` : 'Service Unavailable: the server is at its connection limit', 'Retry-After: 1\r\n');
    return false;
  }
  if (admission.shed) admission.shed.destroy();
  socket.once('close', () => held.remove(socket));
  return true;
}

/** Answer with a short canned response and close: the request never reaches a worker. */
function refuse(socket: Socket, status: number, text: string, extra = ''): void {
  held.remove(socket);
  rejected++;
  const body = `${text}\n`;
  socket.removeAllListeners('data');
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`);
  }
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** A new connection, or one given back by a worker with the request head to replay. */
function onConnection(socket: Socket, initial: Buffer = Buffer.alloc(0), returned = false): void {
  if (!routing || !router) { socket.destroy(); return; }
  const front = routing.config.front;
  if (!admit(socket)) return;
  if (initial.length === 0) held.idle(socket, Date.now());
  openSockets.add(socket);
  socket.once('close', () => openSockets.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.setNoDelay(true);
  let buffer = initial;
  let done = false;
  // Slow clients: once a request starts, its whole head must arrive within headerTimeoutMs. Before
  // that, a new connection gets headerTimeoutMs too, and a kept-alive one a worker gave back gets
  // idleTimeoutMs; a connection that never sent a byte is closed quietly.
  const onTimeout = (): void => {
    if (done) return;
    done = true;
    if (buffer.length === 0) socket.destroy();
    else { log({ event: 'rejected', status: 408, code: 'http/header-timeout', remote: socket.remoteAddress }); refuse(socket, 408, 'request head not received in time'); }
  };
  let timer = setTimeout(onTimeout, buffer.length || !returned ? front.headerTimeoutMs : front.idleTimeoutMs);
  timer.unref();

  const examine = (): void => {
    if (done) return;
    const verdict = parseRequestHead(buffer, front);
    if (verdict.kind === 'incomplete') return;
    done = true;
    clearTimeout(timer);
    if (verdict.kind === 'error') {
      log({ event: 'rejected', status: verdict.status, code: verdict.code, reason: verdict.reason, remote: socket.remoteAddress });
      refuse(socket, verdict.status, `${REASONS[verdict.status] ?? 'error'}: ${verdict.reason}`);
      return;
    }
    const head = verdict.head;
    const route = router!.route(head.host, head.path);
    if (!route) {
      log({ event: 'rejected', status: 400, code: 'http/bad-path', remote: socket.remoteAddress, path: head.path });
      refuse(socket, 400, 'Bad Request: the path cannot be normalized');
      return;
    }
    socket.removeAllListeners('data');
    const detached = detachSocket(socket);
    openSockets.delete(socket);
    held.remove(socket);
    if (!detached) return;
    const bytes = detached.buffered.length ? Buffer.concat([buffer, detached.buffered]) : buffer;
    handoffs++;
    sendHandle(process as never, { type: 'handoff', label: route.label, hat: route.hat, bytes: bytes.toString('base64') } satisfies FromFront, detached.handle);
  };
  socket.on('data', (chunk: Buffer) => {
    held.busy(socket);
    if (buffer.length === 0 && returned) {
      clearTimeout(timer);
      timer = setTimeout(onTimeout, front.headerTimeoutMs);
      timer.unref();
    }
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    examine();
  });
  if (buffer.length) examine();
}

// strict mode: every request parsed here and proxied to the pool's UNIX sockets (strict-front.ts).
const strict = new StrictFront({
  routing: () => routing,
  router: () => router,
  needPool: (label, hat) => send({ type: 'need-pool', label, hat }),
  rejected: (entry) => { rejected++; if (entry) log(entry); },
});
const strictServer = strict.server;

function adminRequest(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' || path !== '/_hatter/status') {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found', try: '/_hatter/status' }) + '\n');
    return;
  }
  const seq = ++statusSeq;
  const timer = setTimeout(() => { statusWaiters.delete(seq); res.writeHead(504).end('{"error":"supervisor did not answer"}\n'); }, 5000);
  statusWaiters.set(seq, (body) => {
    clearTimeout(timer);
    const front = { pid: process.pid, mode: routing?.config.front.mode, connections: openSockets.size, rejected, handoffs };
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ ...(body as object), front }, null, 2) + '\n');
  });
  send({ type: 'status?', seq });
}

function flush(): void {
  if (logLines.length) { send({ type: 'log', lines: logLines }); logLines = []; }
  send({ type: 'stats', rejected, handoffs, connections: openSockets.size });
}
setInterval(flush, 500).unref();

process.on('message', (message: ToFront, handle: unknown) => {
  switch (message.type) {
    case 'init':
    case 'config':
      routing = message.routing;
      router = new Router(routing.config, hatChooser(routing.hats));
      strictServer.keepAliveTimeout = routing.config.front.idleTimeoutMs;
      strictServer.headersTimeout = routing.config.front.headerTimeoutMs;
      strictServer.maxHeadersCount = 500;
      held.setLimits({ max: routing.config.front.maxConnections, perClient: routing.config.front.maxConnectionsPerClient });
      if (message.type === 'init') send({ type: 'ready' });
      break;
    case 'listen': {
      if (!handle) return;
      let server: Server;
      if (message.admin) server = createHttpServer(adminRequest);
      else if (routing?.config.front.mode === 'strict') {
        server = createNetServer({ noDelay: true }, (socket) => { if (admit(socket)) strictServer.emit('connection', socket); });
      } else server = createNetServer({ noDelay: true }, (socket) => onConnection(socket));
      server.once('error', (error: NodeJS.ErrnoException) => send({ type: 'listening', index: message.index, error: error.code ?? error.message }));
      server.listen(handle as never, () => send({ type: 'listening', index: message.index, error: null }));
      listeners.push(server);
      break;
    }
    case 'return': {
      if (!handle) return;
      const socket = adoptHandle(handle, Buffer.alloc(0));
      if (stopping) { socket.destroy(); return; }
      onConnection(socket, Buffer.from(message.bytes, 'base64'), true);
      break;
    }
    case 'reject': {
      if (!handle) return;
      const socket = adoptHandle(handle, Buffer.alloc(0));
      socket.on('error', () => socket.destroy());
      const client = message.status === 429;
      log({ event: 'rejected', status: message.status, code: client ? 'pool/client-limit' : 'pool/queue-full', label: message.label, remote: socket.remoteAddress });
      refuse(socket, client ? 429 : 503, client ? `Too Many Requests: too many connections from ${clientKey(socket.remoteAddress)} to ${message.label}` : `Service Unavailable: the pool for ${message.label} is busy`, `Retry-After: ${message.retryAfter}\r\n`);
      break;
    }
    case 'status':
      statusWaiters.get(message.seq)?.(message.body);
      statusWaiters.delete(message.seq);
      break;
    case 'pool-sockets': {
      strict.poolSockets(message.label, message.sockets);
      break;
    }
    case 'stop':
      stopping = true;
      for (const server of listeners) server.close();
      strictServer.closeIdleConnections();
      flush();
      for (const socket of openSockets) socket.destroy();
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
