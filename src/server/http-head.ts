// The front's HTTP/1.1 request-head parser (RFC 9112). Pure: bytes in, a verdict out, never a throw.
// It is deliberately strict: anything two parsers could read differently (both Content-Length and
// Transfer-Encoding, differing Content-Lengths, obs-fold, bare CR or LF, whitespace before the colon) is
// refused, so no request the front accepts can mean something else to a worker (request smuggling).

export interface HeadLimits {
  /** Request line plus header fields plus the blank line. */
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
}

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (origin-form, absolute-form, or `*`). */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /** Field names as sent, values trimmed of surrounding whitespace, in order. */
  readonly headers: readonly (readonly [string, string])[];
  /** The Host header (or the authority of an absolute-form target), lower-cased, without the port. */
  readonly host: string;
  /** Path part of the target (still percent-encoded), and the query without '?'. */
  readonly path: string;
  readonly query: string;
  /** null: no body (no Content-Length and no chunked coding). */
  readonly contentLength: number | null;
  readonly chunked: boolean;
  readonly keepAlive: boolean;
  /** Bytes of the head, including the final CRLF CRLF (and any leading empty lines). */
  readonly headLength: number;
}

export type HeadVerdict =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'complete'; readonly head: RequestHead }
  | { readonly kind: 'error'; readonly status: 400 | 413 | 431 | 501 | 505; readonly code: string; readonly reason: string };

const CR = 13;
const LF = 10;

// tchar per RFC 9110 §5.6.2
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

function isToken(bytes: Uint8Array, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) if (!TCHAR[bytes[i]!]) return false;
  return true;
}

/** field-value: VCHAR, obs-text, SP, HTAB; no other control characters. */
function isFieldValue(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c === 0x09) continue;
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

const error = (status: 400 | 413 | 431 | 501 | 505, code: string, reason: string): HeadVerdict => ({ kind: 'error', status, code, reason });

const TERMINATOR = Buffer.from('\r\n\r\n');

/** Find the blank line that ends the head within `limit` bytes of `from`; -1 when not there. Returns the offset just after it. */
function findHeadEnd(bytes: Buffer, from: number, limit: number): number {
  const at = bytes.indexOf(TERMINATOR, from);
  return at < 0 || at + 4 > limit ? -1 : at + 4;
}

const hostPattern = /^(?:\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]*)(?::\d{0,5})?$/i;

/** Parse one request head from the start of `bytes`. */
export function parseRequestHead(bytes: Uint8Array, limits: HeadLimits): HeadVerdict {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
  let start = 0;
  while (start < 4 && start + 1 < bytes.length && bytes[start] === CR && bytes[start + 1] === LF) start += 2;
  if (bytes.length > start && bytes[start] === CR && bytes.length === start + 1) return { kind: 'incomplete' };
  // One Buffer view for the whole head: a view per use was a measurable share of the fast lane's time.
  const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const headEnd = findHeadEnd(view, start, start + limits.maxHeaderBytes + 4);
  if (headEnd < 0) {
    // A bare LF or NUL early on is already fatal: say so now rather than waiting for more bytes.
    for (let i = start; i < bytes.length && i < start + limits.maxHeaderBytes; i++) {
      const c = bytes[i]!;
      if (c === 0) return error(400, 'http/invalid-character', 'NUL byte in the request head');
      if (c === LF && (i === 0 || bytes[i - 1] !== CR)) return error(400, 'http/bare-lf', 'line ended by LF without CR');
      if (c === CR && i + 1 < bytes.length && bytes[i + 1] !== LF) return error(400, 'http/bare-cr', 'CR not followed by LF');
    }
    if (bytes.length - start >= limits.maxHeaderBytes) return error(431, 'http/head-too-large', `request head larger than ${limits.maxHeaderBytes} bytes`);
    return { kind: 'incomplete' };
  }
  if (headEnd - start > limits.maxHeaderBytes) return error(431, 'http/head-too-large', `request head larger than ${limits.maxHeaderBytes} bytes`);

  // Split lines at CRLF; any other CR or LF is an error.
  const lines: [number, number][] = [];
  let lineStart = start;
  const contentEnd = headEnd - 2; // keep the last CRLF of the final field line
  for (let i = start; i < contentEnd; i++) {
    const c = bytes[i]!;
    if (c === CR) {
      if (bytes[i + 1] !== LF) return error(400, 'http/bare-cr', 'CR not followed by LF');
      lines.push([lineStart, i]);
      i++;
      lineStart = i + 1;
    } else if (c === LF) return error(400, 'http/bare-lf', 'line ended by LF without CR');
    else if (c === 0) return error(400, 'http/invalid-character', 'NUL byte in the request head');
  }
  const requestLine = lines[0]!;
  // request-line = method SP request-target SP HTTP-version, single spaces only.
  const [lineFrom, lineTo] = requestLine;
  const firstSpace = bytes.indexOf(0x20, lineFrom);
  if (firstSpace < 0 || firstSpace >= lineTo) return error(400, 'http/bad-request-line', 'request line is not METHOD TARGET VERSION');
  const secondSpace = bytes.indexOf(0x20, firstSpace + 1);
  if (secondSpace < 0 || secondSpace >= lineTo) return error(400, 'http/bad-request-line', 'request line is not METHOD TARGET VERSION');
  if (bytes.indexOf(0x20, secondSpace + 1) >= 0 && bytes.indexOf(0x20, secondSpace + 1) < lineTo) return error(400, 'http/bad-request-line', 'request line has extra spaces');
  if (!isToken(bytes, lineFrom, firstSpace)) return error(400, 'http/bad-method', 'method is not a token');
  // The head decoded once, its parts sliced from it: a decode per part was a call into C++ each.
  const headText = view.toString('latin1', start, headEnd);
  const decoder = (from: number, to: number): string => headText.slice(from - start, to - start);
  const method = decoder(lineFrom, firstSpace);
  if (secondSpace === firstSpace + 1) return error(400, 'http/bad-request-line', 'empty request target');
  for (let i = firstSpace + 1; i < secondSpace; i++) {
    const c = bytes[i]!;
    if (c <= 0x20 || c >= 0x7f) return error(400, 'http/bad-target', 'request target has a control, space or non-ASCII byte');
  }
  const target = decoder(firstSpace + 1, secondSpace);
  const versionText = decoder(secondSpace + 1, lineTo);
  let version: '1.0' | '1.1';
  if (versionText === 'HTTP/1.1') version = '1.1';
  else if (versionText === 'HTTP/1.0') version = '1.0';
  else if (/^HTTP\/\d\.\d$/.test(versionText)) return error(505, 'http/version-not-supported', `${versionText} is not supported`);
  else return error(400, 'http/bad-version', 'request line does not end in HTTP/1.x');

  let path: string;
  let query = '';
  let targetHost: string | undefined;
  if (target.startsWith('/')) {
    const q = target.indexOf('?');
    path = q < 0 ? target : target.slice(0, q);
    query = q < 0 ? '' : target.slice(q + 1);
  } else if (target === '*') {
    if (method !== 'OPTIONS') return error(400, 'http/bad-target', "'*' is only valid with OPTIONS");
    path = '*';
  } else {
    const absolute = /^https?:\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i.exec(target);
    if (!absolute || absolute[1] === '' || absolute[1]!.includes('@')) {
      return method === 'CONNECT' ? error(501, 'http/connect-not-supported', 'CONNECT is not supported') : error(400, 'http/bad-target', 'request target is not origin-form or absolute-form');
    }
    targetHost = absolute[1]!;
    path = absolute[2] || '/';
    query = absolute[3] ?? '';
  }
  if (target.includes('#')) return error(400, 'http/bad-target', 'request target has a fragment');

  const headers: [string, string][] = [];
  let hostHeader: string | undefined;
  let hostCount = 0;
  let contentLength: number | null = null;
  let transferEncoding: string | undefined;
  const connectionTokens: string[] = [];
  for (let n = 1; n < lines.length; n++) {
    const [from, to] = lines[n]!;
    const first = bytes[from];
    if (first === 0x20 || first === 0x09) return error(400, 'http/obs-fold', 'folded header line (obs-fold)');
    const colon = bytes.indexOf(0x3a, from);
    if (colon < 0 || colon >= to) return error(400, 'http/bad-header', 'header line without a colon');
    if (!isToken(bytes, from, colon)) return error(400, 'http/bad-header-name', 'header name is not a token (or has whitespace before the colon)');
    if (!isFieldValue(bytes, colon + 1, to)) return error(400, 'http/bad-header-value', 'header value has a control character');
    const name = decoder(from, colon);
    let valueFrom = colon + 1;
    let valueTo = to;
    while (valueFrom < valueTo && (bytes[valueFrom] === 0x20 || bytes[valueFrom] === 0x09)) valueFrom++;
    while (valueTo > valueFrom && (bytes[valueTo - 1] === 0x20 || bytes[valueTo - 1] === 0x09)) valueTo--;
    const value = decoder(valueFrom, valueTo);
    headers.push([name, value]);
    const lower = name.toLowerCase();
    if (lower === 'host') { hostCount++; hostHeader = value; }
    else if (lower === 'content-length') {
      for (const part of value.split(',')) {
        const trimmed = part.trim();
        if (!/^\d{1,15}$/.test(trimmed)) return error(400, 'http/bad-content-length', 'Content-Length is not a number');
        const length = Number(trimmed);
        if (contentLength !== null && contentLength !== length) return error(400, 'http/conflicting-content-length', 'differing Content-Length values');
        contentLength = length;
      }
    } else if (lower === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (lower === 'connection') {
      for (const token of value.split(',')) connectionTokens.push(token.trim().toLowerCase());
    }
  }
  if (version === '1.1' && hostCount === 0 && targetHost === undefined) return error(400, 'http/missing-host', 'HTTP/1.1 request without Host');
  if (hostCount > 1) return error(400, 'http/duplicate-host', 'more than one Host header');
  if (hostHeader !== undefined && !hostPattern.test(hostHeader)) return error(400, 'http/bad-host', 'Host is not a valid authority');
  let chunked = false;
  if (transferEncoding !== undefined) {
    if (contentLength !== null) return error(400, 'http/content-length-and-transfer-encoding', 'both Content-Length and Transfer-Encoding (request smuggling)');
    if (version === '1.0') return error(400, 'http/transfer-encoding-http10', 'Transfer-Encoding in an HTTP/1.0 request');
    const codings = transferEncoding.split(',').map((c) => c.trim().toLowerCase());
    if (codings.length !== 1 || codings[0] !== 'chunked') {
      return codings.at(-1) === 'chunked' ? error(501, 'http/unsupported-transfer-coding', `transfer coding '${transferEncoding}' is not supported`) : error(400, 'http/bad-transfer-encoding', 'Transfer-Encoding does not end in chunked');
    }
    chunked = true;
  }
  if (contentLength !== null && contentLength > limits.maxBodyBytes) return error(413, 'http/body-too-large', `body larger than ${limits.maxBodyBytes} bytes`);
  const keepAlive = version === '1.1' ? !connectionTokens.includes('close') : connectionTokens.includes('keep-alive');
  const authority = (targetHost ?? hostHeader ?? '').toLowerCase();
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:\d*$/, '');
  return {
    kind: 'complete',
    head: { method, target, version, headers, host, path, query, contentLength, chunked, keepAlive, headLength: headEnd },
  };
}
