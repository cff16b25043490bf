// Small response helpers shared by every handler. Error bodies are short and fixed: a client never
// sees a stack trace or an internal path; the details go to the worker's stderr (the server's log).
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';

/** Send a plain-text status page, unless the response has already started (then cut it short). */
export function sendStatus(res: ServerResponse, status: number, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.writableEnded || res.destroyed) return;
  const body = `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** Stable codes of the handlers' log lines (documented in docs/diagnostics.md, section handlers). */
export type HandlerProblem =
  | 'handlers/internal-error' | 'handlers/root-unavailable'
  | 'handlers/node-module-load' | 'handlers/node-handler-error' | 'handlers/node-body-error' | 'handlers/node-bad-request'
  | 'handlers/cgi-spawn-failed' | 'handlers/cgi-bad-response' | 'handlers/cgi-timeout' | 'handlers/cgi-redirect-loop'
  | 'handlers/fastcgi-no-address' | 'handlers/fastcgi-unavailable' | 'handlers/fastcgi-bad-response' | 'handlers/fastcgi-timeout'
  | 'handlers/fastcgi-stderr' | 'handlers/cgi-stderr';

/** Log an internal failure with its details for the operator, then answer 500 with a short body. */
export function failInternally(res: ServerResponse, code: HandlerProblem, where: string, error: unknown, status = 500): void {
  logHandlerError(code, where, error);
  sendStatus(res, status);
}

/** One line (plus a stack for unexpected errors) on the worker's stderr, which the server logs. */
export function logHandlerError(code: HandlerProblem, where: string, error: unknown): void {
  const detail = error instanceof Error
    ? (code === 'handlers/internal-error' || code === 'handlers/node-handler-error' || code === 'handlers/node-body-error' ? (error.stack ?? error.message) : error.message)
    : String(error);
  process.stderr.write(`hatter ${where} [${code}]: ${detail}\n`);
}

/** A promise that settles when the response is finished or the connection is gone. */
export function responseDone(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      resolve();
    };
    res.on('finish', done);
    res.on('close', done);
  });
}

/** Wait until a writable has room again (or is gone), for streaming with backpressure. */
export function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || !res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
