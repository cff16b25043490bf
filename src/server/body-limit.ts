// Every request body is held to maxBodyBytes, whether or not its handler reads it. A declared
// Content-Length over the limit is refused before the handler runs (the parser never delivers more than
// the declared length); a chunked body is counted as Node's parser delivers it.
//
// The trap this closes: when a handler answers without reading the body, Node "dumps" the request
// (IncomingMessage._dump) and its parser then discards the rest of the body without handing it to the
// stream at all, so counting at the stream saw nothing and a client could send gigabytes on a
// connection whose response had long been sent. The dump is replaced by a resume that keeps every
// byte flowing through the counter (and on to nowhere).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a connection refused for its body size is still read (and dropped) before it is cut. */
export const BODY_LINGER_MS = 2000;

/** The text of the 413 answer. */
export function bodyTooLargeText(maxBody: number): string {
  return `body larger than ${maxBody} bytes`;
}

/** A declared Content-Length over the limit: answer 413 before any handler runs. */
export function declaredLengthTooLarge(req: IncomingMessage, maxBody: number): boolean {
  const length = Number(req.headers['content-length'] ?? 0);
  return length > maxBody;
}

interface Dumpable {
  _dump?: () => void;
}

/**
 * Count a chunked body as it arrives. Past `maxBody`: if the response has not started, answer 413 with
 * `Connection: close`, read and drop the rest for BODY_LINGER_MS (so the client can read the answer
 * instead of getting a reset), then cut; if it has, cut the connection at once. `answer413` writes the
 * response (the worker's own plain-text helper); `onOver` counts the error.
 */
export function limitRequestBody(req: IncomingMessage, res: ServerResponse, maxBody: number, answer413: (res: ServerResponse, text: string) => void, onOver: () => void): void {
  if (req.headers['transfer-encoding'] === undefined) return;
  const push = req.push;
  let seen = 0;
  let over = false;
  req.push = function limitedPush(this: IncomingMessage, chunk: unknown, encoding?: BufferEncoding): boolean {
    // Past the limit the rest is read and dropped (the handler gets no more of it): closing a socket
    // with unread input makes the kernel send a reset, which can destroy the 413 before the client reads it.
    if (over) return true;
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length;
      if (seen > maxBody) {
        over = true;
        onOver();
        if (res.headersSent || res.writableEnded) req.socket.destroy();
        else {
          // Lingering close, as Apache does: give the client time to read the answer, then cut.
          res.once('finish', () => { setTimeout(() => req.socket.destroy(), BODY_LINGER_MS).unref(); });
          answer413(res, bodyTooLargeText(maxBody));
        }
        return true;
      }
    }
    return push.call(this, chunk, encoding);
  };
  const dumpable = req as IncomingMessage & Dumpable;
  if (typeof dumpable._dump === 'function') {
    // Node's dump (handler done, body unread) sets _dumped, after which the parser bypasses push():
    // keep the bytes flowing through the counter instead.
    dumpable._dump = function countedDump(this: IncomingMessage): void {
      this.removeAllListeners('data');
      this.resume();
    };
  }
}
