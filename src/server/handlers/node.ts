// The Node handler: a module exporting a fetch-style function `(request: Request) => Response`, loaded
// once per worker (as mod_php keeps PHP loaded) and called for every request. The request body streams
// in (duplex 'half'), the response body streams out with backpressure; ctx.signal reaches the handler
// as request.signal.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler, HandlerContext } from '../handler.js';
import { LazyRequest } from './node-request.js';
import { RealResponse, takePendingBody } from './node-response.js';
import { drained, failInternally, logHandlerError, sendStatus } from './respond.js';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface NodeHandlerOptions {
  readonly module: string;
}

export class NodeHandlerLoadError extends Error {
  readonly code = 'node-handler-load';
}

/** Find the handler function in a loaded module: `default`, `handler`, or `default.fetch`. */
export function fetchHandlerOf(loaded: Record<string, unknown>): FetchHandler | undefined {
  const candidates = [loaded.default, loaded.handler];
  for (const candidate of candidates) {
    if (typeof candidate === 'function') return candidate as FetchHandler;
  }
  const fallback = loaded.default as { fetch?: unknown } | undefined;
  if (fallback && typeof fallback.fetch === 'function') return fallback.fetch.bind(fallback) as FetchHandler;
  return undefined;
}

export class NodeHandler implements Handler {
  private readonly modulePath: string;
  private loaded: Promise<FetchHandler> | undefined;
  private handler: FetchHandler | undefined;

  constructor(options: NodeHandlerOptions, configDir = process.cwd()) {
    this.modulePath = resolve(configDir, options.module);
  }

  /** Load the module (once); later calls share the result. Workers may call this before serving. */
  load(): Promise<FetchHandler> {
    this.loaded ??= import(pathToFileURL(this.modulePath).href).then((loaded: Record<string, unknown>) => {
      const handler = fetchHandlerOf(loaded);
      if (!handler) throw new NodeHandlerLoadError(`${this.modulePath} exports neither a default function nor 'handler'`);
      return handler;
    });
    return this.loaded;
  }

  async handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    let handler = this.handler;
    if (handler === undefined) {
      try {
        handler = this.handler = await this.load();
      } catch (error) {
        return failInternally(res, 'handlers/node-module-load', `node module ${this.modulePath}`, error);
      }
    }
    let request: Request;
    try {
      request = toWebRequest(req, ctx);
    } catch (error) {
      logHandlerError('handlers/node-bad-request', `node module ${this.modulePath}`, error);
      return sendStatus(res, 400);
    }
    if (hasRequestBody(req)) {
      // Whatever the handler leaves unread (it may also fail halfway) is discarded once the response
      // is out, so the next request on this connection can be parsed.
      res.once('finish', () => { if (!req.readableEnded) req.resume(); });
    }
    let response: Response;
    try {
      const result = handler(request);
      response = result instanceof Promise ? await settleOrAbort(result, ctx) : result;
      if (!(response instanceof RealResponse)) throw new TypeError('the handler did not return a Response');
    } catch (error) {
      if (ctx.signal.aborted) return sendStatus(res, 504);
      return failInternally(res, 'handlers/node-handler-error', `node module ${this.modulePath}`, error);
    }
    // A complete body (the common case) goes out synchronously, without another promise.
    if (sendCompleteResponse(response, req, res)) return;
    try {
      await sendWebResponse(response, req, res, ctx);
    } catch (error) {
      if (ctx.signal.aborted) return sendStatus(res, 504);
      failInternally(res, 'handlers/node-body-error', `node module ${this.modulePath}`, error);
    }
  }

  async close(): Promise<void> {}
}

const PENDING = Symbol('pending');
const pending = Promise.resolve(PENDING);

/**
 * The handler's result, or a rejection when the request is aborted first. A promise that is already
 * settled (a handler with nothing to wait for) is taken as is, without touching ctx.signal: the
 * server creates that signal lazily, and most requests never need it.
 */
async function settleOrAbort<T>(promise: Promise<T>, ctx: HandlerContext): Promise<T> {
  const first = await Promise.race([promise, pending]);
  if (first !== PENDING) return first as T;
  return raceAbort(promise, ctx.signal);
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolvePromise(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

const hasRequestBody = (req: IncomingMessage): boolean => req.method !== 'GET' && req.method !== 'HEAD' && req.method !== undefined;

/**
 * IncomingMessage → Web Request, with the body as a stream (not buffered). The Request is lazy (see
 * node-request.ts): a real undici Request is only built when the handler uses more than method, url,
 * headers and signal.
 */
export function toWebRequest(req: IncomingMessage, ctx: HandlerContext): Request {
  // A Host with '/', '?', '#' or '@' would change how the URL below parses: only a plain authority counts.
  const sent = req.headers.host;
  const host = sent !== undefined && /^[A-Za-z0-9._~\-]*(?::\d*)?$|^\[[0-9A-Fa-f:.]+\](?::\d*)?$/.test(sent) && sent !== ''
    ? sent : `${ctx.serverName}:${ctx.serverPort}`;
  const target = req.url ?? '/';
  // Only origin-form targets reach a handler.
  if (!target.startsWith('/')) throw new TypeError(`request target is not a path: ${target.slice(0, 100)}`);
  // Serialized as the Request constructor would (case, default port, dot segments, escapes); throws
  // for what it would reject.
  const url = new URL(`http://${host}${target}`).href;
  const method = req.method ?? 'GET';
  if (method === 'CONNECT' || method === 'TRACE' || method === 'TRACK') throw new TypeError(`'${method}' HTTP method is unsupported.`);
  return new LazyRequest({ url, req, signalSource: ctx, body: hasRequestBody(req) ? requestBody : undefined }) as unknown as Request;
}

const stateSymbol = (() => {
  const probe = new Response('');
  return Object.getOwnPropertySymbols(probe).find((symbol) => symbol.description === 'state');
})();

/**
 * The body of a Response built from a string or bytes, without going through its stream (the stream
 * machinery costs more than the rest of a small response). This looks at undici's internal state and
 * answers undefined whenever that is not exactly what it expects, so the stream path stays the
 * reference; the body is marked used like a read would.
 */
function completeBody(response: Response): string | Uint8Array | undefined {
  if (stateSymbol === undefined || response.bodyUsed) return undefined;
  const state = (response as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream } } | undefined>)[stateSymbol];
  const body = state?.body;
  if (!body || !body.stream || body.stream.locked) return undefined;
  const source = body.source;
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) return undefined;
  body.stream.cancel().catch(() => {});
  return source;
}

/**
 * The request body as a pull-based web stream: nothing is read until the handler asks (unlike
 * Readable.toWeb, which starts reading at once), so a body the handler ignores is left to be discarded
 * after the response and the keep-alive connection survives.
 */
function requestBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (req.readableEnded) {
        controller.close();
        return;
      }
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          req.off('readable', onReadable);
          req.off('end', onEnd);
          req.off('error', onError);
          req.off('close', onClose);
        };
        const onReadable = () => {
          const chunk = req.read() as Buffer | null;
          if (chunk === null) return; // nothing yet, or the end ('end' follows)
          done();
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          resolve();
        };
        const onEnd = () => {
          done();
          controller.close();
          resolve();
        };
        const onError = (error: Error) => {
          done();
          reject(error);
        };
        const onClose = () => {
          if (req.readableEnded) return;
          done();
          reject(new Error('the client closed the connection before the request body was complete'));
        };
        req.on('readable', onReadable);
        req.on('end', onEnd);
        req.on('error', onError);
        req.on('close', onClose);
        onReadable();
      });
    },
    cancel() {
      req.resume(); // discard the rest
    },
  }, { highWaterMark: 0 });
}

/**
 * The response's headers as a flat [name, value, ...] list, hop-by-hop ones left out; each Set-Cookie
 * comes separately (Headers iteration never combines them).
 */
function responseHeaders(response: Response): string[] {
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive') return;
    headers.push(name, value);
  });
  return headers;
}

function hasContentLength(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'content-length') return true;
  return false;
}

/**
 * Sends a response that needs no waiting (no body, a bodiless status, or a string/bytes body) with one
 * writeHead and one end, and answers true; false leaves the response untouched for the stream path.
 */
function sendCompleteResponse(response: Response, req: IncomingMessage, res: ServerResponse): boolean {
  const status = response.status;
  const bodiless = req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
  // A worker's own Response keeps a string or byte body aside (node-response.ts): no stream to look at.
  const pending = takePendingBody(response);
  const body = pending !== undefined ? (bodiless ? null : pending)
    : response.body === null || bodiless ? null : completeBody(response);
  if (body === undefined) return false;
  const headers = responseHeaders(response);
  if (body === null) {
    // The body of a bodiless status is dropped unread.
    if (pending === undefined && response.body !== null) response.body.cancel().catch(() => {});
    else if (!bodiless && !hasContentLength(headers)) headers.push('content-length', '0');
    res.writeHead(status, response.statusText || undefined, headers);
    res.end();
    return true;
  }
  if (!hasContentLength(headers)) headers.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
  res.writeHead(status, response.statusText || undefined, headers);
  res.end(body);
  return true;
}

const nextTurn = () => new Promise<'later'>((resolveTurn) => setImmediate(resolveTurn, 'later'));

/**
 * Web Response → ServerResponse. A body that is complete at once (a string, a buffer) goes out in one
 * write with Content-Length; anything else streams chunk by chunk, waiting for 'drain'.
 */
export async function sendWebResponse(response: Response, req: IncomingMessage, res: ServerResponse, ctx: Pick<HandlerContext, 'signal'>): Promise<void> {
  if (sendCompleteResponse(response, req, res)) return;
  const headers = responseHeaders(response);
  const status = response.status;
  if (response.body === null) throw new TypeError('unreachable: a bodiless response is sent whole');
  const reader = response.body.getReader();
  const signal = ctx.signal;
  const onAbort = () => { reader.cancel(signal.reason).catch(() => {}); };
  signal.addEventListener('abort', onAbort, { once: true });
  // A client that goes away stops the producer too, instead of leaving it blocked on backpressure.
  const onClose = () => { if (!res.writableFinished) reader.cancel().catch(() => {}); };
  res.once('close', onClose);
  try {
    const first = await reader.read();
    if (first.done) {
      if (!hasContentLength(headers)) headers.push('content-length', '0');
      res.writeHead(status, response.statusText || undefined, headers);
      res.end();
      return;
    }
    // A body that was complete when returned has its end already queued: one write, with a length.
    const pendingSecond = reader.read();
    const second = await Promise.race([pendingSecond, nextTurn()]);
    if (second !== 'later' && second.done) {
      if (!hasContentLength(headers)) headers.push('content-length', String(first.value.byteLength));
      res.writeHead(status, response.statusText || undefined, headers);
      res.end(first.value);
      return;
    }
    res.writeHead(status, response.statusText || undefined, headers);
    res.write(first.value);
    let next = second === 'later' ? await pendingSecond : second;
    while (!next.done) {
      if (res.destroyed) {
        await reader.cancel().catch(() => {});
        return;
      }
      if (!res.write(next.value)) await drained(res);
      next = await reader.read();
    }
    res.end();
  } finally {
    signal.removeEventListener('abort', onAbort);
    res.off('close', onClose);
    try { reader.releaseLock(); } catch { /* a read is still pending after cancel */ }
  }
}
