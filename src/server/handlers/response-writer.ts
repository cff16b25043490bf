// The ResponseWriter (handler.ts) over node:http's ServerResponse. The other writer is the worker's fast
// lane (raw-lane.ts), on the raw socket.
import type { ServerResponse } from 'node:http';
import type { ResponseWriter } from '../handler.js';
import { sendStatus } from './respond.js';

/** Reason phrases the writers send: printable ASCII and tabs only, else the standard one. */
export function safeReason(reason: string | undefined): string | undefined {
  return reason !== undefined && /^[\t -~]*$/.test(reason) ? reason : undefined;
}

/** `reason` as the response's status message when it is safe to send; else node:http's standard one stays. */
export function setReason(res: ServerResponse, reason: string | undefined): void {
  const safe = safeReason(reason);
  if (safe !== undefined) res.statusMessage = safe;
}

/** A ResponseWriter over node:http's ServerResponse. */
export function nodeResponseWriter(res: ServerResponse): ResponseWriter {
  return {
    whole(status, reason, headers, body, bodiless) {
      setReason(res, reason);
      const all = bodiless ? headers : [...headers, 'Content-Length', String(body?.length ?? 0)];
      res.writeHead(status, all as string[]);
      res.end(bodiless ? undefined : body);
    },
    begin(status, reason, headers) {
      setReason(res, reason);
      res.writeHead(status, headers as string[]);
    },
    write: (chunk) => res.write(chunk),
    end: () => { res.end(); },
    status: (code) => sendStatus(res, code),
    get ended() { return res.writableEnded || res.destroyed; },
    onceClose: (listener) => { res.once('close', listener); },
    offClose: (listener) => { res.off('close', listener); },
    onceDrain: (listener) => { res.once('drain', listener); },
    offDrain: (listener) => { res.off('drain', listener); },
  };
}
