// Parsing a CGI response head (RFC 3875 §6) from a script's stdout or a FastCGI STDOUT stream:
// header lines ending in LF or CRLF, then an empty line, then the body.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setReason } from './response-writer.js';

export interface CgiResponseHead {
  /** From the Status header; undefined when the script sent none. */
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly location: string | undefined;
  /** Headers to send, in order, without Status and hop-by-hop headers. */
  readonly headers: readonly (readonly [string, string])[];
}

export class CgiResponseError extends Error {
  readonly code = 'cgi-bad-response';
}

/** A response head larger than this is refused (the script is broken or hostile). */
export const MAX_CGI_HEAD = 64 * 1024;

/** Not forwarded: the server frames the response itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'trailer', 'te', 'proxy-connection']);

const EMPTY = Buffer.alloc(0);
// Searched for as Buffers: a string needle is converted on every call.
const LF_LF = Buffer.from('\n\n');
const LF_CRLF = Buffer.from('\n\r\n');

/** Accumulates stdout until the head is complete; then returns it with the body bytes already read. */
export class CgiHeadReader {
  private buffered: Buffer = EMPTY;

  /** Feed bytes; returns the head and leftover body once the blank line has been seen. */
  push(chunk: Buffer): { head: CgiResponseHead; rest: Buffer } | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const end = findHeadEnd(this.buffered);
    if (end === undefined) {
      if (this.buffered.length > MAX_CGI_HEAD) throw new CgiResponseError('response head too large');
      return undefined;
    }
    if (end.headEnd > MAX_CGI_HEAD) throw new CgiResponseError('response head too large');
    const head = parseCgiHeadCached(this.buffered.subarray(0, end.headEnd).toString('latin1'));
    return { head, rest: this.buffered.subarray(end.bodyStart) };
  }
}

/**
 * Heads seen before, parsed once: an application sends the same few heads again and again (a PHP
 * page's "Content-type: text/html; charset=UTF-8"), and parsing one was about 3 % of a PHP request's
 * CPU. Only short heads are kept (a Set-Cookie with a fresh value makes each head unique, and long ones
 * are not worth the memory), at most CGI_HEAD_CACHE_ENTRIES of them; a head that fails to parse is never
 * kept, so it throws every time. The objects are shared: nothing may change them.
 */
const CGI_HEAD_CACHE_ENTRIES = 256;
const CGI_HEAD_CACHE_MAX_LENGTH = 512;
const parsedHeads = new Map<string, CgiResponseHead>();

function parseCgiHeadCached(text: string): CgiResponseHead {
  if (text.length > CGI_HEAD_CACHE_MAX_LENGTH) return parseCgiHead(text);
  let head = parsedHeads.get(text);
  if (head === undefined) {
    head = parseCgiHead(text);
    if (parsedHeads.size >= CGI_HEAD_CACHE_ENTRIES) parsedHeads.clear();
    parsedHeads.set(text, head);
  }
  return head;
}

function findHeadEnd(buffer: Buffer): { headEnd: number; bodyStart: number } | undefined {
  const lf = buffer.indexOf(LF_LF);
  const crlf = buffer.indexOf(LF_CRLF);
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return { headEnd: lf, bodyStart: lf + 2 };
  if (crlf >= 0) return { headEnd: crlf, bodyStart: crlf + 3 };
  return undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseCgiHead(text: string): CgiResponseHead {
  let status: number | undefined;
  let reason: string | undefined;
  let location: string | undefined;
  const headers: [string, string][] = [];
  let sawAny = false;
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CgiResponseError('malformed header line');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new CgiResponseError('malformed header name');
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(value)) throw new CgiResponseError('control character in header value');
    sawAny = true;
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const match = /^(\d{3})(?:\s+(.*))?$/.exec(value);
      if (!match) throw new CgiResponseError('malformed Status header');
      status = Number(match[1]);
      if (status < 100 || status > 599) throw new CgiResponseError('Status out of range');
      reason = match[2] || undefined;
      continue;
    }
    if (lower === 'location') location = value;
    if (HOP_BY_HOP.has(lower)) continue;
    headers.push([name, value]);
  }
  if (!sawAny) throw new CgiResponseError('no response headers');
  return { status, reason, location, headers };
}

/** RFC 3875 §6.2.2: a Location that is a path (not an absolute URI) with no Status is a local redirect. */
export function isLocalRedirect(head: CgiResponseHead): boolean {
  return head.status === undefined && head.location !== undefined && head.location.startsWith('/') && !head.location.startsWith('//');
}

/** The status to send: Status if given, 302 for a client redirect, 200 otherwise. */
export function responseStatus(head: CgiResponseHead): number {
  return head.status ?? (head.location !== undefined ? 302 : 200);
}


/** Read a stream until its CGI head is complete; the stream is left paused after the head. */
export function readCgiHead(stream: Readable): Promise<{ head: CgiResponseHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const reader = new CgiHeadReader();
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      try {
        const done = reader.push(chunk);
        if (!done) return;
        cleanup();
        stream.pause();
        resolve(done);
      } catch (error) {
        cleanup();
        reject(error);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new CgiResponseError('output ended before the response head was complete'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}

/** The status, reason (as the script gave it: the writer checks it) and header list to send for a CGI head; bodiless: no body may follow. */
export function cgiResponseStart(head: CgiResponseHead, method: string | undefined): { status: number; reason: string | undefined; headers: readonly string[]; bodiless: boolean } {
  const status = responseStatus(head);
  return { status, reason: head.reason, headers: flatHeaders(head), bodiless: method === 'HEAD' || status === 204 || status === 304 || status < 200 };
}

/** A head's headers as a flat name/value list, made once per head (heads repeat: parseCgiHeadCached). */
const flatLists = new WeakMap<CgiResponseHead, readonly string[]>();

function flatHeaders(head: CgiResponseHead): readonly string[] {
  let flat = flatLists.get(head);
  if (flat === undefined) {
    const list: string[] = [];
    for (const [name, value] of head.headers) list.push(name, value);
    flat = Object.freeze(list); // frozen: the fast lane may keep its header lines (raw-lane.ts)
    flatLists.set(head, flat);
  }
  return flat;
}

/** Send a parsed CGI head, then stream the body (the bytes already read, then the rest) with backpressure. */
export async function relayCgiResponse(res: ServerResponse, head: CgiResponseHead, rest: Buffer, body: Readable, method: string | undefined): Promise<void> {
  const { status, reason, headers, bodiless } = cgiResponseStart(head, method);
  setReason(res, reason);
  res.writeHead(status, headers as string[]); // writeHead only reads the list (shared by every response with this head)
  if (bodiless) {
    body.resume(); // drain and discard
    res.end();
    return;
  }
  if (rest.length > 0 && !res.write(rest)) {
    await new Promise<void>((resolve) => {
      res.once('drain', resolve);
      res.once('close', resolve);
    });
  }
  await pipeline(body, res);
}
