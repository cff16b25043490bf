// The CGI/1.1 meta-variables (RFC 3875 §4.1) for one request, shared by the CGI and FastCGI handlers.
// Built from scratch for every request: nothing from the worker's own environment leaks in.
import type { IncomingHttpHeaders } from 'node:http';
import type { HandlerContext } from '../handler.js';

export const SERVER_SOFTWARE = 'hatter';

export interface CgiRequest {
  readonly method: string;
  /** The request target as sent (REQUEST_URI). */
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  /** The query string without '?', undecoded. */
  readonly query: string;
}

export interface CgiScript {
  /** The URL path that names the script (SCRIPT_NAME), e.g. '/cgi-bin/hello.sh'. */
  readonly scriptName: string;
  /** The script's absolute file name (SCRIPT_FILENAME). */
  readonly scriptFilename: string;
  /** The decoded path below the script ('' when none). */
  readonly pathInfo: string;
}

/** Request headers never forwarded as HTTP_*: Proxy (httpoxy), and the two that have their own variable. */
const SKIPPED_HEADERS = new Set(['proxy', 'content-length', 'content-type']);

/**
 * The variables for a CGI script's environment. Node passes environment strings to the child as UTF-8,
 * so each byte string goes back to text first: exact for UTF-8 bytes, a replacement character for bytes
 * that are not UTF-8 (a raw Latin-1 header byte, say), which no environment a Node parent builds can carry.
 */
export function cgiEnvironment(request: CgiRequest, script: CgiScript, ctx: HandlerContext): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of cgiVariables(request, script, ctx)) environment[name] = NON_ASCII.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
  return environment;
}

const NON_ASCII = /[^\x00-\x7f]/;

/** A text (a file name, a decoded path, a configured name) as the byte string of its UTF-8 encoding. */
function utf8Bytes(text: string): string {
  return NON_ASCII.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** The HTTP_* variable for a header name, or null when it is not forwarded; remembered (names repeat). */
const variableNames = new Map<string, string | null>();

function variableName(name: string): string | null {
  let known = variableNames.get(name);
  if (known === undefined) {
    // Names with '_' or other characters would collide after mapping (X-A_B vs X-A-B): dropped.
    known = SKIPPED_HEADERS.has(name) || !/^[A-Za-z0-9-]+$/.test(name) ? null : `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
    if (variableNames.size >= 1024) variableNames.clear();
    variableNames.set(name, known);
  }
  return known;
}

/**
 * The same variables as a list of pairs, each name once, in a fixed order: what FastCGI sends. A list,
 * not an object: an object with this many keys goes to V8's dictionary mode, measurably slower per request.
 * Values are byte strings (one character per byte, encodeBytePairs): what came from the request (its
 * target and header values, decoded as Latin-1 by node:http and the front alike) is passed on byte for
 * byte, as nginx does; names of files and paths are their UTF-8 bytes. (Encoding header values as UTF-8
 * had turned a client's "café" into "cafÃ©" for PHP.)
 */
export function cgiVariables(request: CgiRequest, script: CgiScript, ctx: HandlerContext): [string, string][] {
  const variables: [string, string][] = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['SERVER_NAME', utf8Bytes(ctx.serverName)],
    ['SERVER_ADDR', ctx.serverAddress],
    ['SERVER_PORT', String(ctx.serverPort)],
    ['SERVER_PROTOCOL', `HTTP/${request.httpVersion}`],
    ['REQUEST_METHOD', request.method],
    ['REQUEST_URI', request.url],
    ['QUERY_STRING', request.query],
    ['SCRIPT_NAME', utf8Bytes(script.scriptName)],
    ['SCRIPT_FILENAME', utf8Bytes(script.scriptFilename)],
    ['DOCUMENT_ROOT', utf8Bytes(ctx.documentRoot)],
    ['REMOTE_ADDR', ctx.remoteAddress],
    ['REMOTE_PORT', String(ctx.remotePort)],
    ['REDIRECT_STATUS', '200'], // php-cgi refuses to run without it (cgi.force_redirect)
  ];
  if (script.pathInfo !== '') {
    variables.push(['PATH_INFO', utf8Bytes(script.pathInfo)], ['PATH_TRANSLATED', utf8Bytes(ctx.documentRoot.replace(/\/+$/, '') + script.pathInfo)]);
  }
  const length = request.headers['content-length'];
  if (length !== undefined && /^\d+$/.test(length)) {
    if (length !== '0' || request.method === 'POST' || request.method === 'PUT') variables.push(['CONTENT_LENGTH', length]);
  }
  const type = request.headers['content-type'];
  if (type !== undefined) variables.push(['CONTENT_TYPE', type]);
  for (const name in request.headers) {
    const value = request.headers[name];
    if (value === undefined) continue;
    const variable = variableName(name);
    if (variable === null) continue;
    const joined = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
    if (joined.includes('\0')) continue;
    variables.push([variable, joined]);
  }
  return variables;
}
