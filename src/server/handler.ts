// The contract between the server (front, pools, workers) and the request handlers that run inside a
// confined worker. A handler only ever sees requests for its own hat: routing happened before.
import type { IncomingMessage, ServerResponse } from 'node:http';

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

export interface Handler {
  handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void>;
  close(): Promise<void>;
}

/** configDir: the directory relative paths in `config` resolve against (already resolved by the loader). */
export type CreateHandler = (config: HandlerConfig, configDir: string) => Handler;
