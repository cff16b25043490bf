// Strict mode (front.mode: strict): the front parses every request (Node's parser plus hatter's own head
// rules) and proxies it to a worker of the hat's pool over that worker's UNIX socket, so a worker only
// ever sees requests for its own hat. The supervisor tells the front where each pool's sockets are.
import { createServer as createHttpServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { parseRequestHead } from './http-head.js';
import type { RoutingSnapshot } from './protocol.js';
import { rawRequestHead, REASONS, requestTarget } from './request-target.js';
import type { Router } from './routing.js';

export interface StrictFrontPort {
  routing(): RoutingSnapshot | undefined;
  router(): Router | undefined;
  /** Ask the supervisor to start `label`'s pool and send its sockets. */
  needPool(label: string, hat: string | null): void;
  /** A request refused here, with its access-log entry when it has one. */
  rejected(entry?: Record<string, unknown>): void;
}

export class StrictFront {
  readonly server: Server;
  private readonly sockets = new Map<string, readonly string[]>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly agents = new Map<string, Agent>();
  private roundRobin = 0;

  constructor(private readonly port: StrictFrontPort) {
    this.server = createHttpServer({ noDelay: true }, (req, res) => this.request(req, res));
  }

  /** Where `label`'s ready workers listen (from the supervisor). */
  poolSockets(label: string, sockets: readonly string[]): void {
    this.sockets.set(label, sockets);
    const waiters = this.waiters.get(label);
    if (waiters && sockets.length) { this.waiters.delete(label); for (const w of waiters) w(); }
  }

  private socketFor(label: string, hat: string | null): Promise<string | undefined> {
    const sockets = this.sockets.get(label);
    if (sockets && sockets.length) return Promise.resolve(sockets[this.roundRobin++ % sockets.length]);
    return new Promise((resolve) => {
      const waiters = this.waiters.get(label) ?? [];
      waiters.push(() => { const list = this.sockets.get(label) ?? []; resolve(list.length ? list[this.roundRobin++ % list.length] : undefined); });
      this.waiters.set(label, waiters);
      this.port.needPool(label, hat);
      setTimeout(() => { const list = this.waiters.get(label); if (list) { this.waiters.delete(label); for (const w of list) w(); } }, 10_000).unref();
    });
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    // Node's parser already refused what it cannot frame; run our own head rules over what it read too
    // (one Host, consistent Content-Length, no Transfer-Encoding with a length, limits).
    const verdict = parseRequestHead(Buffer.from(`${rawRequestHead(req)}\r\n`, 'latin1'), this.port.routing()!.config.front);
    if (verdict.kind !== 'complete') {
      const status = verdict.kind === 'error' ? verdict.status : 400;
      this.port.rejected({ event: 'rejected', status, code: verdict.kind === 'error' ? verdict.code : 'http/incomplete', remote: req.socket.remoteAddress });
      res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${REASONS[status] ?? 'Bad Request'}\n`);
      return;
    }
    const url = req.url ?? '/';
    const { host, path } = requestTarget(url, req.headers.host);
    const route = this.port.router()?.route(host, path);
    if (!route || req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] !== undefined) {
      this.port.rejected();
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request\n');
      return;
    }
    void this.socketFor(route.label, route.hat).then((socketPath) => {
      if (!socketPath) {
        this.port.rejected();
        res.writeHead(503, { 'retry-after': '1', connection: 'close' }).end('Service Unavailable\n');
        return;
      }
      let agent = this.agents.get(socketPath);
      if (!agent) { agent = new Agent({ keepAlive: true, maxSockets: 64 }); this.agents.set(socketPath, agent); }
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && name !== 'x-hatter-remote' && name !== 'connection' && name !== 'keep-alive') headers[name] = value;
      headers['x-hatter-remote'] = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
      const upstream = httpRequest({ socketPath, agent, method: req.method, path: url, headers }, (answer) => {
        const out: string[] = [];
        for (let i = 0; i < answer.rawHeaders.length; i += 2) {
          const name = answer.rawHeaders[i]!;
          if (!/^(connection|keep-alive|transfer-encoding)$/i.test(name)) out.push(name, answer.rawHeaders[i + 1]!);
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { connection: 'close' }).end('Bad Gateway\n');
        else res.destroy();
      });
      req.pipe(upstream);
    });
  }
}
