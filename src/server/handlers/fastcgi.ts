// The FastCGI handler: maps the URL onto a script under the root (like the CGI handler, with an index
// for directories), sends the CGI/1.1 variables plus SCRIPT_FILENAME to a FastCGI responder such as
// PHP-FPM, streams the request body as STDIN and the STDOUT response back to the client.
import { statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { Handler, HandlerContext, ResponseWriter, SimpleRequest } from '../handler.js';
import { FastCgiClient, FastCgiError, parseFastCgiAddress, type FastCgiCall, type FastCgiSink } from '../fastcgi/index.js';
import { cgiVariables, type CgiScript } from './cgi-environment.js';
import { CgiHeadReader, CgiResponseError, cgiResponseStart } from './cgi-response.js';
import { failInternally, logHandlerError, sendStatus } from './respond.js';
import { ExpirySweep, type Expiring } from '../expiry-sweep.js';
import { nodeResponseWriter } from './response-writer.js';
import {
  isRefusal, mapOntoResolvedRoot, mapOntoRoot, redirectLocation, refusalForError, resolveInside, RootDirectory, TargetMemo, type PathRefusal,
} from './request-path.js';

export interface FastCgiHandlerOptions {
  /**
   * 'unix:/run/php.sock', '/run/php.sock' or 'host:port'. With `phpFpm: true` the supervisor starts
   * the site's PHP-FPM master (startPhpFpm) and must fill this in before the worker builds the handler.
   */
  readonly address?: string;
  readonly phpFpm?: boolean;
  /** FastCGI connections this worker keeps open at once (see FastCgiClientOptions.maxConnections). */
  readonly connections?: number;
  readonly root: string;
  /** Script tried in a directory (default 'index.php'). */
  readonly index?: string;
  readonly timeoutMs?: number;
}

export const DEFAULT_FASTCGI_TIMEOUT_MS = 30_000;

/** A fast-lane target found: the script, the query, and what the finding depended on. */
interface RawTarget {
  readonly script: CgiScript;
  readonly query: string;
  readonly locationPrefix: string;
  readonly rootReal: string;
  readonly until: number;
}

/**
 * How long a URL's script lookup (stat of each path segment, realpath, the inside-the-root check) is
 * reused. PHP keeps its own realpath cache for two minutes; one second bounds how long a removed or
 * renamed script still reaches FPM (which then answers 404 itself), and it is never outside the root.
 */
const SCRIPT_CACHE_MS = 1000;
const SCRIPT_CACHE_ENTRIES = 1024;
/** A chunked request body (no Content-Length) larger than this is refused with 413. */
export const MAX_BUFFERED_BODY = 16 * 1024 * 1024;
/** A response body up to this size is sent whole with a Content-Length (as nginx buffers); a larger one streams. */
const WHOLE_RESPONSE_LIMIT = 64 * 1024;

/** The whole body, or undefined once it exceeds `limit` (the rest is then discarded). */
async function readWhole(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (tooLarge) continue; // keep reading: leaving the loop would destroy the connection
    length += chunk.length;
    if (length > limit) tooLarge = true;
    else chunks.push(chunk);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

export class FastCgiHandler implements Handler {
  private readonly root: RootDirectory;
  private readonly index: string;
  private readonly timeoutMs: number;
  private readonly client: FastCgiClient | undefined;
  private readonly scripts = new Map<string, { readonly script: CgiScript; readonly until: number }>();
  /**
   * The fast lane's lookups by request target: what mapOntoResolvedRoot and cachedScript make of it
   * (both pure functions of the target, the location and the root, the script remembered for the same
   * SCRIPT_CACHE_MS). Splitting, mapping and keying a target again was about 4 % of a PHP request's CPU.
   */
  private readonly rawTargets = new TargetMemo<RawTarget>();
  /**
   * Exchanges under way, timed out by one timer checking every tenth of timeoutMs (at most every
   * second): a timeout fires up to that much late.
   */
  private readonly deadlines: ExpirySweep<Relay>;

  constructor(private readonly options: FastCgiHandlerOptions, configDir = process.cwd()) {
    this.root = new RootDirectory(resolve(configDir, options.root));
    this.index = options.index ?? 'index.php';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FASTCGI_TIMEOUT_MS;
    this.deadlines = new ExpirySweep(Math.min(1000, Math.max(10, this.timeoutMs / 10)));
    const address = options.address === undefined ? undefined : parseFastCgiAddress(options.address);
    const resolved = address && 'path' in address ? { path: resolve(configDir, address.path) } : address;
    this.client = resolved ? new FastCgiClient(resolved, options.connections !== undefined ? { maxConnections: options.connections } : {}) : undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    try {
      await this.serve(req, res, ctx);
    } catch (error) {
      failInternally(res, 'handlers/internal-error', 'fastcgi', error);
    }
  }

  async close(): Promise<void> {
    this.deadlines.stop();
    await this.client?.close();
  }

  private async serve(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    if (!this.client) return failInternally(res, 'handlers/fastcgi-no-address', 'fastcgi', new Error(this.options.address === undefined
      ? 'no FastCGI address: phpFpm pools need the address of the master the supervisor started'
      : `invalid FastCGI address '${this.options.address}'`));
    const onRoot = await mapOntoRoot(req.url, ctx.locationPrefix, this.root, 'fastcgi', res);
    if (!onRoot) return;
    const { target, mapped, rootReal } = onRoot;
    const script = this.cachedScript(rootReal, mapped.segments, mapped.mount, target.rawPath.endsWith('/'));
    if (isRefusal(script)) return sendStatus(res, script.refused);
    if ('redirect' in script) {
      res.writeHead(301, { Location: redirectLocation(target), 'Content-Length': 0 });
      res.end();
      return;
    }

    const method = req.method ?? 'GET';
    const env = cgiVariables({ method, url: req.url ?? '/', httpVersion: req.httpVersion, headers: req.headers, query: target.query }, script, ctx);
    let stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined;
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined) {
      // PHP reads exactly CONTENT_LENGTH bytes of input: a chunked body is buffered to learn it,
      // as nginx does (fastcgi_request_buffering), up to a bound.
      const body = await readWhole(req, MAX_BUFFERED_BODY);
      if (body === undefined) return sendStatus(res, 413);
      env.push(['CONTENT_LENGTH', String(body.length)]); // no Content-Length header: not in env yet
      stdin = body.length > 0 ? [body] : undefined;
    } else if (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') {
      stdin = req;
    }

    const client = this.client;
    return new Promise<void>((resolve) => this.exchange(client, nodeResponseWriter(res), env, stdin, method, script.scriptName, resolve));
  }

  /**
   * The fast lane: a bodiless GET or HEAD for a script found (or remembered) in the root, and the 404,
   * 403 or directory redirect `handle` would answer for a path that names none (so that the connection
   * stays in the lane). A target refused before the file system is asked, or a root not resolved yet,
   * is left to `handle`.
   */
  serveRaw(request: SimpleRequest, out: ResponseWriter, ctx: HandlerContext): boolean {
    if (!this.client) return false;
    const found = this.rawTarget(request.url, ctx.locationPrefix);
    if (!found) return false;
    if ('refused' in found) {
      out.status(found.refused);
      return true;
    }
    if ('location' in found) {
      out.whole(301, undefined, ['Location', found.location], undefined, false);
      return true;
    }
    const env = cgiVariables({ method: request.method, url: request.url, httpVersion: '1.1', headers: request.headers, query: found.query }, found.script, ctx);
    this.exchange(this.client, out, env, undefined, request.method, found.script.scriptName);
    return true;
  }

  /**
   * The script a request target names under `locationPrefix`, and its query; or the refusal or
   * redirect to answer instead; undefined: not for the fast lane.
   */
  private rawTarget(url: string, locationPrefix: string): RawTarget | PathRefusal | { readonly location: string } | undefined {
    const now = performance.now();
    const rootReal = this.root.resolved();
    const known = this.rawTargets.get(url);
    if (known && known.until > now && known.locationPrefix === locationPrefix && known.rootReal === rootReal) return known;
    const onRoot = mapOntoResolvedRoot(url, locationPrefix, this.root);
    if (!onRoot) return undefined;
    const { target, mapped } = onRoot;
    const script = this.cachedScript(onRoot.rootReal, mapped.segments, mapped.mount, target.rawPath.endsWith('/'));
    if (isRefusal(script) || 'redirect' in script) {
      this.rawTargets.forget(url);
      return isRefusal(script) ? script : { location: redirectLocation(target) };
    }
    const entry: RawTarget = { script, query: target.query, locationPrefix, rootReal: onRoot.rootReal, until: now + SCRIPT_CACHE_MS };
    this.rawTargets.remember(url, entry);
    return entry;
  }

  /** One FastCGI exchange relayed to `out` (see Relay); `done` is called once, when it is over. */
  private exchange(
    client: FastCgiClient, out: ResponseWriter, env: readonly (readonly [string, string])[], stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined,
    method: string, scriptName: string, done?: () => void,
  ): void {
    const relay = new Relay(out, method, scriptName, performance.now() + this.timeoutMs, this.timeoutMs, this.deadlines, done);
    // Watched first: a relay that ends within start() is forgotten, not left watched until its deadline.
    this.deadlines.watch(relay);
    try {
      relay.start(client, env, stdin);
    } catch (error) {
      this.deadlines.forget(relay);
      throw error;
    }
  }

  /** findScript, with found scripts remembered for SCRIPT_CACHE_MS. */
  private cachedScript(rootReal: string, segments: readonly string[], mount: string, trailingSlash: boolean): CgiScript | PathRefusal | { redirect: true } {
    const key = `${rootReal}\0${mount}\0${segments.join('\0')}\0${trailingSlash ? '/' : ''}`;
    const now = performance.now();
    const hit = this.scripts.get(key);
    if (hit && hit.until > now) return hit.script;
    const found = this.findScript(rootReal, segments, mount, trailingSlash);
    if (!isRefusal(found) && !('redirect' in found)) {
      if (this.scripts.size >= SCRIPT_CACHE_ENTRIES) this.scripts.clear();
      this.scripts.set(key, { script: found, until: now + SCRIPT_CACHE_MS });
    } else if (hit) {
      this.scripts.delete(key);
    }
    return found;
  }

  // Synchronous on purpose (see resolveInside): a stat costs microseconds, a thread-pool round trip more.
  private findScript(rootReal: string, segments: readonly string[], mount: string, trailingSlash: boolean): CgiScript | PathRefusal | { redirect: true } {
    for (let i = 0; i <= segments.length; i++) {
      const candidate = join(rootReal, ...segments.slice(0, i));
      let info;
      try {
        info = statSync(candidate);
      } catch (error) {
        return { refused: refusalForError(error) };
      }
      if (info.isDirectory()) {
        if (i < segments.length) continue;
        if (!trailingSlash && segments.length > 0) return { redirect: true };
        const index = resolveInside(rootReal, join(candidate, this.index));
        if (isRefusal(index)) return index;
        const scriptName = mount + '/' + [...segments, this.index].join('/');
        return { scriptName, scriptFilename: index, pathInfo: '' };
      }
      if (!info.isFile()) return { refused: 403 };
      const real = resolveInside(rootReal, candidate);
      if (isRefusal(real)) return real;
      const rest = segments.slice(i);
      const pathInfo = rest.length === 0 ? (trailingSlash ? '/' : '') : '/' + rest.join('/') + (trailingSlash ? '/' : '');
      return { scriptName: mount + '/' + segments.slice(0, i).join('/'), scriptFilename: real, pathInfo };
    }
    return { refused: 404 };
  }
}

/**
 * One FastCGI exchange relayed to a ResponseWriter, driven by the client's callbacks (it is their sink):
 * no stream, promise chain or AbortSignal per request, and one object rather than a dozen closures
 * (they were most of a worker's CPU per PHP request). A response of up to WHOLE_RESPONSE_LIMIT bytes is
 * collected and sent in one write with a Content-Length; a larger one is streamed (chunked) with
 * back-pressure from the client's connection to FPM's. The callbacks run in the FPM connection's read
 * handler: whatever they throw (a writer refusing a header, say) ends this request, never escapes.
 */
class Relay implements FastCgiSink, Expiring {
  /** Its place among the handler's deadlines (ExpirySweep). */
  slot = -1;
  private over = false;
  private readonly reader = new CgiHeadReader();
  private started: ReturnType<typeof cgiResponseStart> | undefined;
  private body: Buffer[] = [];
  private bodyLength = 0;
  private streaming = false;
  private timedOut = false;
  private waitingForDrain = false;
  private call: FastCgiCall | undefined;
  private readonly onClose = (): void => { if (!this.over) this.call?.cancel(); };
  private readonly onDrain = (): void => { this.waitingForDrain = false; this.call?.resume(); };

  constructor(
    private readonly out: ResponseWriter, private readonly method: string, private readonly scriptName: string,
    readonly expiresAt: number, private readonly timeoutMs: number, private readonly deadlines: ExpirySweep<Relay>, private readonly done: (() => void) | undefined,
  ) {}

  start(client: FastCgiClient, env: readonly (readonly [string, string])[], stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined): void {
    this.call = client.start(env, stdin, this);
    this.out.onceClose(this.onClose);
  }

  /** The deadline passed. */
  expire(): void {
    this.timedOut = true;
    this.call?.cancel();
  }

  stdout(chunk: Buffer): void {
    if (this.over) return;
    try {
      let started = this.started;
      if (!started) {
        const parsed = this.reader.push(chunk);
        if (!parsed) return;
        started = this.started = cgiResponseStart(parsed.head, this.method);
        chunk = parsed.rest;
      }
      if (started.bodiless || chunk.length === 0) return; // a bodiless response's body is discarded
      if (this.streaming) { this.write(chunk); return; }
      this.body.push(chunk);
      this.bodyLength += chunk.length;
      if (this.bodyLength > WHOLE_RESPONSE_LIMIT) this.startStreaming(started);
    } catch (error) {
      this.error(error as Error);
    }
  }

  end(): void {
    if (this.over) return;
    const started = this.started;
    if (!started) { this.error(new CgiResponseError('output ended before the response head was complete')); return; }
    // The writer reports the end of the response to its close listeners; ours would cancel.
    this.out.offClose(this.onClose);
    try {
      if (this.streaming) this.out.end();
      else this.out.whole(started.status, started.reason, started.headers, this.body.length === 1 ? this.body[0] : Buffer.concat(this.body, this.bodyLength), started.bodiless);
    } catch (error) {
      this.error(error as Error);
      return;
    }
    this.finish();
    const stderr = this.call!.stderr();
    if (stderr) logHandlerError('handlers/fastcgi-stderr', `fastcgi ${this.scriptName}`, stderr.trimEnd());
  }

  error(error: Error): void {
    if (this.over) return;
    this.finish();
    this.call?.cancel(); // its error callback finds `over` set
    const out = this.out;
    if (this.timedOut || (error instanceof FastCgiError && error.code === 'fastcgi-aborted')) {
      // Cancelled: our timeout, or the response ended first (the client left, or the worker's
      // request timeout answered it).
      logHandlerError('handlers/fastcgi-timeout', `fastcgi ${this.scriptName}`, this.timedOut ? `timed out after ${this.timeoutMs} ms` : 'cancelled: the response was closed first (the client left, or the request timeout answered it)');
      if (!out.ended) out.status(504);
      return;
    }
    if (error instanceof FastCgiError || error instanceof CgiResponseError) {
      logHandlerError(error instanceof CgiResponseError || error.code === 'fastcgi-protocol' ? 'handlers/fastcgi-bad-response' : 'handlers/fastcgi-unavailable', `fastcgi ${this.scriptName}`, error.message);
      if (!out.ended) out.status(error instanceof FastCgiError && error.code === 'fastcgi-overloaded' ? 503 : 502);
      return;
    }
    logHandlerError('handlers/internal-error', 'fastcgi', error);
    if (!out.ended) out.status(500);
  }

  private finish(): void {
    this.over = true;
    this.deadlines.forget(this);
    this.out.offClose(this.onClose);
    this.out.offDrain(this.onDrain);
    this.done?.();
  }

  private startStreaming(head: NonNullable<Relay['started']>): void {
    this.streaming = true;
    this.out.begin(head.status, head.reason, head.headers);
    for (const chunk of this.body) this.write(chunk);
    this.body = [];
  }

  private write(chunk: Buffer): void {
    if (!this.out.write(chunk) && !this.waitingForDrain) {
      this.waitingForDrain = true;
      this.call?.pause();
      this.out.onceDrain(this.onDrain);
    }
  }
}
