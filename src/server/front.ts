// The front process: the only place that reads untrusted bytes before a hat is chosen (mod_apparmor's
// HANDLING_UNTRUSTED_INPUT). It accepts connections on sockets the supervisor bound, parses the first
// request head with strict limits, refuses malformed requests itself (no worker ever sees them), picks
// the hat, and hands the connection (handle plus the bytes read) to that hat's pool via the supervisor.
// In strict mode it parses every request and proxies it to the pool over a UNIX socket instead.
// All of it is one Front, which holds the process's state and talks to the supervisor through the IPC
// port it is given (`process`, below: this module's top level only constructs and starts it).
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { adoptHandle, detachSocket } from './handles.js';
import { parseRequestHead } from './http-head.js';
import { hatChooser } from './policy-hats.js';
import { sendHandle, sendMessage, type FromFront, type IpcPort, type RoutingSnapshot, type ToFront } from './protocol.js';
import { REASONS } from './request-target.js';
import { Router } from './routing.js';
import { clientKey, ConnectionTable } from './client-limits.js';
import { StrictFront } from './strict-front.js';

export class Front {
  private routing: RoutingSnapshot | undefined;
  private router: Router | undefined;
  private logLines: string[] = [];
  private readonly listeners: Server[] = [];
  private readonly openSockets = new Set<Socket>();
  private rejected = 0;
  private handoffs = 0;
  private statusSeq = 0;
  private readonly statusWaiters = new Map<number, (body: unknown) => void>();
  private stopping = false;
  // fair sharing: the connections this process holds, per client address, and which are idle (no byte
  // of a request yet: new and silent, or given back kept-alive), so a full front sheds the longest idle.
  private readonly held = new ConnectionTable<Socket>({ max: Infinity, perClient: Infinity });
  // strict mode: every request parsed here and proxied to the pool's UNIX sockets (strict-front.ts).
  private readonly strict: StrictFront;
  private readonly strictServer: StrictFront['server'];

  constructor(private readonly port: IpcPort<ToFront>) {
    this.strict = new StrictFront({
      routing: () => this.routing,
      router: () => this.router,
      needPool: (label, hat) => this.send({ type: 'need-pool', label, hat }),
      rejected: (entry) => { this.rejected++; if (entry) this.log(entry); },
    });
    this.strictServer = this.strict.server;
  }

  /** Listen to the supervisor and report to it periodically. */
  start(): void {
    setInterval(() => this.flush(), 500).unref();
    this.port.on('message', (message, handle) => this.receive(message, handle));
  }

  private send(message: FromFront, handle?: unknown, callback?: (error: Error | null) => void): void {
    sendMessage(this.port, message, handle, callback);
  }

  private log(entry: Record<string, unknown>): void {
    if (this.routing?.config.accessLog === 'off') return;
    this.logLines.push(JSON.stringify({ time: new Date().toISOString(), ...entry, hat: null, label: 'front', pid: process.pid }));
  }

  /** Count a connection against its client and the front's bound; false: refused (answered here). */
  private admit(socket: Socket): boolean {
    const key = clientKey(socket.remoteAddress);
    const admission = this.held.admit(socket, key);
    if (!admission.admitted) {
      const client = admission.reason === 'client';
      socket.on('error', () => socket.destroy());
      this.log({ event: 'rejected', status: client ? 429 : 503, code: client ? 'front/client-limit' : 'front/full', remote: socket.remoteAddress });
      this.refuse(socket, client ? 429 : 503, client ? `Too Many Requests: ${key} has too many connections open` : 'Service Unavailable: the server is at its connection limit', 'Retry-After: 1\r\n');
      return false;
    }
    if (admission.shed) admission.shed.destroy();
    socket.once('close', () => this.held.remove(socket));
    return true;
  }

  /** Answer with a short canned response and close: the request never reaches a worker. */
  private refuse(socket: Socket, status: number, text: string, extra = ''): void {
    this.held.remove(socket);
    this.rejected++;
    const body = `${text}\n`;
    socket.removeAllListeners('data');
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`);
    }
    setTimeout(() => socket.destroy(), 2000).unref();
  }

  /** A new connection, or one given back by a worker with the request head to replay. */
  private onConnection(socket: Socket, initial: Buffer = Buffer.alloc(0), returned = false): void {
    if (!this.routing || !this.router) { socket.destroy(); return; }
    const front = this.routing.config.front;
    if (!this.admit(socket)) return;
    if (initial.length === 0) this.held.idle(socket, Date.now());
    this.openSockets.add(socket);
    socket.once('close', () => this.openSockets.delete(socket));
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
      else { this.log({ event: 'rejected', status: 408, code: 'http/header-timeout', remote: socket.remoteAddress }); this.refuse(socket, 408, 'request head not received in time'); }
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
        this.log({ event: 'rejected', status: verdict.status, code: verdict.code, reason: verdict.reason, remote: socket.remoteAddress });
        this.refuse(socket, verdict.status, `${REASONS[verdict.status] ?? 'error'}: ${verdict.reason}`);
        return;
      }
      const head = verdict.head;
      const route = this.router!.route(head.host, head.path);
      if (!route) {
        // Which half failed, for the client and the log: the Host (Apache's fix_hostname) or the path.
        const badHost = this.router!.siteIndexFor(head.host) === undefined;
        this.log({ event: 'rejected', status: 400, code: badHost ? 'http/bad-host' : 'http/bad-path', remote: socket.remoteAddress, path: head.path });
        this.refuse(socket, 400, badHost ? 'Bad Request: malformed Host' : 'Bad Request: the path cannot be normalized');
        return;
      }
      socket.removeAllListeners('data');
      const detached = detachSocket(socket);
      this.openSockets.delete(socket);
      this.held.remove(socket);
      if (!detached) return;
      const bytes = detached.buffered.length ? Buffer.concat([buffer, detached.buffered]) : buffer;
      this.handoffs++;
      sendHandle(this.port, { type: 'handoff', label: route.label, hat: route.hat, bytes: bytes.toString('base64') } satisfies FromFront, detached.handle);
    };
    socket.on('data', (chunk: Buffer) => {
      this.held.busy(socket);
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

  private adminRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/_hatter/status') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found', try: '/_hatter/status' }) + '\n');
      return;
    }
    const seq = ++this.statusSeq;
    const timer = setTimeout(() => { this.statusWaiters.delete(seq); res.writeHead(504).end('{"error":"supervisor did not answer"}\n'); }, 5000);
    this.statusWaiters.set(seq, (body) => {
      clearTimeout(timer);
      const front = { pid: process.pid, mode: this.routing?.config.front.mode, connections: this.openSockets.size, rejected: this.rejected, handoffs: this.handoffs };
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ ...(body as object), front }, null, 2) + '\n');
    });
    this.send({ type: 'status?', seq });
  }

  private flush(): void {
    if (this.logLines.length) { this.send({ type: 'log', lines: this.logLines }); this.logLines = []; }
    this.send({ type: 'stats', rejected: this.rejected, handoffs: this.handoffs, connections: this.openSockets.size });
  }

  /** A message from the supervisor. */
  private receive(message: ToFront, handle: unknown): void {
    switch (message.type) {
      case 'init':
      case 'config':
        this.routing = message.routing;
        this.router = new Router(this.routing.config, hatChooser(this.routing.hats));
        this.strictServer.keepAliveTimeout = this.routing.config.front.idleTimeoutMs;
        this.strictServer.headersTimeout = this.routing.config.front.headerTimeoutMs;
        this.strictServer.maxHeadersCount = 500;
        this.held.setLimits({ max: this.routing.config.front.maxConnections, perClient: this.routing.config.front.maxConnectionsPerClient });
        if (message.type === 'init') this.send({ type: 'ready' });
        break;
      case 'listen': {
        if (!handle) return;
        let server: Server;
        if (message.admin) server = createHttpServer((req, res) => this.adminRequest(req, res));
        else if (this.routing?.config.front.mode === 'strict') {
          server = createNetServer({ noDelay: true }, (socket) => { if (this.admit(socket)) this.strictServer.emit('connection', socket); });
        } else server = createNetServer({ noDelay: true }, (socket) => this.onConnection(socket));
        server.once('error', (error: NodeJS.ErrnoException) => this.send({ type: 'listening', index: message.index, error: error.code ?? error.message }));
        server.listen(handle as never, () => this.send({ type: 'listening', index: message.index, error: null }));
        this.listeners.push(server);
        break;
      }
      case 'return': {
        if (!handle) return;
        const socket = adoptHandle(handle, Buffer.alloc(0));
        if (this.stopping) { socket.destroy(); return; }
        this.onConnection(socket, Buffer.from(message.bytes, 'base64'), true);
        break;
      }
      case 'reject': {
        if (!handle) return;
        const socket = adoptHandle(handle, Buffer.alloc(0));
        socket.on('error', () => socket.destroy());
        const client = message.status === 429;
        this.log({ event: 'rejected', status: message.status, code: client ? 'pool/client-limit' : 'pool/queue-full', label: message.label, remote: socket.remoteAddress });
        this.refuse(socket, client ? 429 : 503, client ? `Too Many Requests: too many connections from ${clientKey(socket.remoteAddress)} to ${message.label}` : `Service Unavailable: the pool for ${message.label} is busy`, `Retry-After: ${message.retryAfter}\r\n`);
        break;
      }
      case 'status':
        this.statusWaiters.get(message.seq)?.(message.body);
        this.statusWaiters.delete(message.seq);
        break;
      case 'pool-sockets': {
        this.strict.poolSockets(message.label, message.sockets);
        break;
      }
      case 'stop':
        this.stopping = true;
        for (const server of this.listeners) server.close();
        this.strictServer.closeIdleConnections();
        this.flush();
        for (const socket of this.openSockets) socket.destroy();
        setTimeout(() => process.exit(0), 50);
        break;
    }
  }
}

new Front(process).start();
process.on('disconnect', () => process.exit(0));
