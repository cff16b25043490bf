// What the front (strict mode) and the workers both read from a parsed request: the host and path it
// targets, and its head as the client sent it (to replay it elsewhere).
import type { IncomingMessage } from 'node:http';

/**
 * The host (lower case, without port; `[v6]` kept in brackets) and the path (without query) a request
 * targets: from an absolute-form URL when it has one, else from Host.
 */
export function requestTarget(requestUrl: string | undefined, hostHeader: string | undefined): { host: string; path: string } {
  let url = requestUrl ?? '/';
  let authority = hostHeader ?? '';
  if (!url.startsWith('/')) {
    const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
    if (absolute) { authority = absolute[1]!; url = absolute[2] || '/'; }
  }
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  authority = authority.toLowerCase();
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.includes(':') ? authority.replace(/:\d*$/, '') : authority;
  return { host, path };
}

/** The request line and header lines as received (latin1 text, ending in CRLF, without the blank line); `skip` drops headers by name. */
export function rawRequestHead(req: IncomingMessage, skip?: (name: string) => boolean): string {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (skip?.(req.rawHeaders[i]!)) continue;
    head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  return head;
}

/** Reason phrases of the statuses hatter answers itself. */
export const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 421: 'Misdirected Request', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  501: 'Not Implemented', 503: 'Service Unavailable', 505: 'HTTP Version Not Supported',
};
