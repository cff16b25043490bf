// The contract between the server (front, pools, workers) and the request handlers that run inside a
// confined worker. A handler only ever sees requests for its own hat: routing happened before.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export type HandlerConfig =
  | { readonly type: 'static'; readonly root: string; readonly index?: readonly string[] }
  /** Module exporting default or `handler`: (request: Request) => Response | Promise<Response>. */
  | { readonly type: 'node'; readonly module: string }
  /** Scripts under root; the URI maps to a script plus PATH_INFO. */
  | { readonly type: 'cgi'; readonly root: string; readonly timeoutMs?: number }
  /**
   * address: `unix:/path` or `host:port`; or `phpFpm: true` for a pool hatter manages itself, with
   * `children` PHP-FPM children (default: fpmChildrenFor). `connections`: FastCGI connections one
   * worker holds open at once, kept and reused (default for phpFpm: its share of the children;
   * otherwise unbounded, one kept).
   */
  | {
    readonly type: 'fastcgi'; readonly address?: string; readonly phpFpm?: boolean; readonly children?: number;
    readonly connections?: number; readonly root: string; readonly index?: string; readonly timeoutMs?: number;
  };

export type HandlerType = HandlerConfig['type'];

export const HANDLER_TYPES: readonly HandlerType[] = ['static', 'node', 'cgi', 'fastcgi'];

export interface HandlerContext {
  readonly siteName: string;
  readonly serverName: string;
  readonly hat: string;
  /** `profile//hat`, as the backend confines this worker. */
  readonly label: string;
  readonly documentRoot: string;
  /** The matched location ('/' for the site default). */
  readonly locationPrefix: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Aborted at the per-request timeout. */
  readonly signal: AbortSignal;
}

/**
 * Where a handler's response goes. Two writers implement it: one over node:http's ServerResponse (every
 * request can take that path), one over the raw socket of the worker's fast lane (raw-lane.ts: bodiless
 * GET and HEAD, where node:http's per-request objects were most of a PHP request's cost). A handler
 * written against this type serves both without knowing which it has.
 */
export interface ResponseWriter {
  /** A complete response in one write: the head, a Content-Length (unless bodiless), the body. */
  whole(status: number, reason: string | undefined, headers: readonly string[], body: Buffer | undefined, bodiless: boolean): void;
  /** The head now, chunked; the body follows with `write` and `end`. */
  begin(status: number, reason: string | undefined, headers: readonly string[]): void;
  /** false: the connection's buffer is full, wait for `onceDrain`. */
  write(chunk: Buffer): boolean;
  end(): void;
  /** A short plain-text status page, or the response cut short (connection closed) when it has begun. */
  status(code: number): void;
  /** The response is over: sent, cut short, or the client left. */
  readonly ended: boolean;
  /** Called once when the response is over by any means (node:http's 'close'). */
  onceClose(listener: () => void): void;
  offClose(listener: () => void): void;
  onceDrain(listener: () => void): void;
  offDrain(listener: () => void): void;
}

/** A bodiless HTTP/1.1 GET or HEAD, read by the worker's fast lane (raw-lane.ts) instead of node:http. */
export interface SimpleRequest {
  readonly method: 'GET' | 'HEAD';
  /** The request target as sent (origin-form). */
  readonly url: string;
  /** Lower-case names, each present once (the fast lane leaves repeated fields to node:http). */
  readonly headers: IncomingHttpHeaders;
  /** The Host, lower-cased, without its port; and the target's path (as requestTarget gives them). */
  readonly host: string;
  readonly path: string;
}

export interface Handler {
  handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void>;
  /**
   * The fast lane, for handlers that have one: take `request` and answer it through `out`, returning
   * true; or return false having sent nothing, and the request goes through node:http to `handle`.
   */
  serveRaw?(request: SimpleRequest, out: ResponseWriter, ctx: HandlerContext): boolean;
  close(): Promise<void>;
}

/** configDir: the directory relative paths in `config` resolve against (already resolved by the loader). */
export type CreateHandler = (config: HandlerConfig, configDir: string) => Handler;
