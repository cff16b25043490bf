// The console's gatekeeping, as pure decisions over a request's method, path and headers, so that every
// rule can be tested without sockets: who may talk to the console at all (the token, or the session a
// one-time login link set; the Host header naming the console), which requests may change state (POST with a CSRF token, same origin), and which
// parameters are acceptable (names from a fixed set; nothing that names a file).
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Why a request was refused: an HTTP status, a stable code (docs/diagnostics.md) and a message. */
export interface Refusal {
  readonly status: 400 | 401 | 403 | 404 | 405 | 413;
  readonly code: string;
  readonly message: string;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x, and the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./.test(bare) || bare === '0:0:0:0:0:0:0:1';
  return false;
}

/** Header values as Node gives them (lower-case names). */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Constant-time comparison of two secrets (different lengths are simply unequal). */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The cookies of a request (the last value wins; malformed pairs are skipped). */
export function parseCookies(headers: Headers): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header(headers, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

export const SESSION_COOKIE = 'hatter_console';

/**
 * Whether the request carries the right credentials: `Authorization: Bearer TOKEN`, or the session
 * cookie a one-time login link set. Without a token (a loopback console) everything is authenticated.
 */
export function authenticated(headers: Headers, token: string | undefined, sessions: ReadonlySet<string>): boolean {
  if (!token) return true;
  const authorization = header(headers, 'authorization');
  const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (secretsEqual(bearer, token)) return true;
  const session = parseCookies(headers).get(SESSION_COOKIE);
  return session !== undefined && sessions.has(session);
}

/**
 * The Host header must name the console itself (its bind address and port, or localhost on a loopback
 * bind). This defeats DNS rebinding: a page from evil.example that rebinds its name to 127.0.0.1 sends
 * Host: evil.example.
 */
export function hostAllowed(headers: Headers, allowedHosts: ReadonlySet<string> | 'any'): boolean {
  const host = header(headers, 'host')?.toLowerCase();
  return host !== undefined && /^[a-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9a-f:.]+\](:[0-9]{1,5})?$/.test(host) && (allowedHosts === 'any' || allowedHosts.has(host));
}

/**
 * A state-changing request must come from the console's own page: its Origin (or, when a browser
 * sends none, its Referer) must be http://HOST where HOST is the Host header, which hostAllowed() has
 * already checked. A request with neither is refused: browsers always send Origin on a POST.
 */
export function sameOrigin(headers: Headers): boolean {
  const host = header(headers, 'host')?.toLowerCase();
  if (!host) return false;
  const origin = header(headers, 'origin') ?? header(headers, 'referer');
  if (!origin) return false;
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host.toLowerCase() === host;
  } catch {
    return false;
  }
}

/** The full check of one request before it reaches a route; undefined means it may proceed. */
export function checkRequest(request: {
  readonly method: string;
  readonly headers: Headers;
  readonly token: string | undefined;
  readonly sessions: ReadonlySet<string>;
  readonly allowedHosts: ReadonlySet<string> | 'any';
  readonly csrf: string;
  /** The login route checks its own one-time token. */
  readonly isLogin: boolean;
}): Refusal | undefined {
  if (!hostAllowed(request.headers, request.allowedHosts)) return { status: 400, code: 'console/bad-host', message: 'the Host header does not name this console' };
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'POST') return { status: 405, code: 'console/bad-method', message: `method ${request.method} is not used by the console` };
  if (!request.isLogin && !authenticated(request.headers, request.token, request.sessions)) return { status: 401, code: 'console/unauthenticated', message: 'a token is needed: Authorization: Bearer TOKEN, or open the login link hatter console printed' };
  if (request.method === 'POST') {
    if (!sameOrigin(request.headers)) return { status: 403, code: 'console/cross-origin', message: 'state-changing requests must come from the console page itself (Origin does not match Host)' };
    if (!secretsEqual(header(request.headers, 'x-hatter-csrf'), request.csrf)) return { status: 403, code: 'console/bad-csrf', message: 'missing or wrong CSRF token (X-Hatter-CSRF); reload the page' };
    const type = header(request.headers, 'content-type') ?? '';
    if (!/^application\/json\b/i.test(type)) return { status: 400, code: 'console/bad-content-type', message: 'POST bodies are JSON (Content-Type: application/json)' };
  }
  return undefined;
}

/** A proposal group id as `hatter learn` numbers them (g1, g2 ...): nothing else is a group. */
export function isGroupId(value: unknown): value is string {
  return typeof value === 'string' && /^g[1-9][0-9]{0,5}$/.test(value);
}
