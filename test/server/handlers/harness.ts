// Runs one handler behind a plain http.createServer on 127.0.0.1:0, with a HandlerContext built from
// the connection, as a worker would. Each request gets its own AbortSignal, aborted after `abortAfterMs`.
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Handler, HandlerContext } from '../../../src/server/handler.js';

export interface Harness {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly locationPrefix?: string;
  readonly documentRoot?: string;
  readonly abortAfterMs?: number;
}

export async function serveHandler(handler: Handler, options: HarnessOptions = {}): Promise<Harness> {
  const server = createServer((req, res) => {
    const local = req.socket.address() as AddressInfo;
    const controller = new AbortController();
    const timer = options.abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(new Error('request timeout')), options.abortAfterMs);
    res.on('close', () => clearTimeout(timer));
    const ctx: HandlerContext = {
      siteName: 'test', serverName: 'test.localhost', hat: 'test', label: 'hatter//test',
      documentRoot: options.documentRoot ?? '/srv/test', locationPrefix: options.locationPrefix ?? '/',
      remoteAddress: req.socket.remoteAddress ?? '', remotePort: req.socket.remotePort ?? 0,
      serverAddress: local.address, serverPort: local.port, signal: controller.signal,
    };
    handler.handle(req, res, ctx).catch((error: unknown) => {
      process.stderr.write(`harness: handler rejected: ${String(error)}\n`);
      if (!res.headersSent) { res.statusCode = 599; res.end(); } else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly text: string;
}

/** One request with a raw path (sent as given, no normalization). */
export function send(
  port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, text: data.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Write raw bytes on one connection and collect what comes back until `responses` status lines have
 * arrived and `done(text)` agrees, or the server closes the connection.
 */
export function sendRaw(port: number, bytes: string | Buffer, responses: number, done: (text: string) => boolean = () => true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if ((received.match(/^HTTP\/1\.1 \d{3}/gm) ?? []).length >= responses && done(received)) {
        socket.end();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(bytes);
  });
}
