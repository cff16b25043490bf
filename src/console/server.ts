// The console's HTTP edge: a request handler that can run on its own listener (`hatter console`) or
// under a prefix of serve's admin listener. Every request passes checkRequest() (Host, method,
// authentication, and for POST: same origin, CSRF token, JSON body) before any route runs. Routes take
// no file names: assets come from a fixed table, group ids must look like g1, g2 ... and the only
// write is services.apply(), which applies `hatter learn` proposals to the policy hatter was given.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { checkRequest, isGroupId, secretsEqual, SESSION_COOKIE, type Refusal } from './security.js';
import type { ConsoleAnswer, ConsoleServices, ConsoleTopic } from './services.js';
import { PAGE_CSS, pageHtml } from './page.js';

export interface ConsoleOptions {
  readonly services: ConsoleServices;
  /** Host header values that name this console (`127.0.0.1:8082`, `localhost:8082` ...); 'any' on a wildcard bind (the token guards it). */
  readonly allowedHosts: ReadonlySet<string> | 'any';
  /**
   * The bearer token. hatter's commands always give one, on loopback too (a confined site can reach
   * loopback: docs/console.md); without one every request counts as authenticated.
   */
  readonly token?: string;
  /** Path prefix the console lives under ('' on its own listener, '/_hatter/console' on serve's admin). */
  readonly base?: string;
  /** Largest POST body accepted, bytes. Default 64 KiB. */
  readonly maxBody?: number;
  /** Most Server-Sent Event streams open at once. Default 32. */
  readonly maxStreams?: number;
}

export interface ConsoleHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** A fresh one-time login path (`/login?once=...`): opening it sets the session cookie, once. */
  loginPath(): string;
  /** Close every event stream and stop watching. */
  close(): void;
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/** The page's scripts and styles: the only files the console serves, by fixed name. */
const ASSETS: Readonly<Record<string, { file?: URL; text?: string; type: string }>> = {
  'console.css': { text: PAGE_CSS, type: 'text/css; charset=utf-8' },
  'app.js': { file: new URL('./ui/app.js', import.meta.url), type: 'text/javascript; charset=utf-8' },
};

const assetCache = new Map<string, Buffer>();
function asset(name: string): Buffer | undefined {
  const entry = ASSETS[name];
  if (!entry) return undefined;
  let body = assetCache.get(name);
  if (!body) {
    try { body = entry.text !== undefined ? Buffer.from(entry.text) : readFileSync(fileURLToPath(entry.file!)); } catch { return undefined; }
    assetCache.set(name, body);
  }
  return body;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  if (res.headersSent) { res.end(); return; }
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value)}\n`);
}

function refuse(res: ServerResponse, refusal: Refusal): void {
  sendJson(res, refusal.status, { error: refusal.message, code: refusal.code });
}

/** Read a JSON body of at most `limit` bytes; undefined after answering the client itself. */
function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: unknown, refusal?: Refusal) => {
      if (done) return;
      done = true;
      if (refusal) { refuse(res, refusal); req.resume(); }
      resolve(refusal ? undefined : value);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(undefined, { status: 413, code: 'console/body-too-large', message: `request bodies are at most ${limit} bytes` });
      else if (!done) chunks.push(chunk);
    });
    req.on('end', () => {
      try { finish(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { finish(undefined, { status: 400, code: 'console/bad-json', message: 'the request body is not JSON' }); }
    });
    req.on('error', () => finish(undefined, { status: 400, code: 'console/bad-json', message: 'the request body could not be read' }));
  });
}

/** `{"answers":[...]}` from the page, checked field by field; a string describes the first problem. */
export function parseConsoleAnswers(body: unknown): ConsoleAnswer[] | string {
  const list = (body as { answers?: unknown } | null)?.answers;
  if (!Array.isArray(list)) return 'the body must be {"answers":[...]}';
  if (list.length > 10_000) return 'at most 10000 answers';
  const answers: ConsoleAnswer[] = [];
  for (const [i, entry] of list.entries()) {
    if (typeof entry !== 'object' || entry === null) return `answer ${i} is not an object`;
    const { group, action, alternative, override } = entry as Record<string, unknown>;
    if (!isGroupId(group)) return `answer ${i}: "group" must be a proposal group id like g1`;
    if (action !== 'accept' && action !== 'ignore') return `answer ${i}: "action" must be "accept" or "ignore"`;
    if (alternative !== undefined && (typeof alternative !== 'number' || !Number.isInteger(alternative) || alternative < 0 || alternative > 999)) return `answer ${i}: "alternative" must be a whole number from 0 to 999`;
    if (override !== undefined && typeof override !== 'boolean') return `answer ${i}: "override" must be true or false`;
    answers.push({ group, action, ...(alternative !== undefined ? { alternative: alternative as number } : {}), ...(override === true ? { override: true } : {}) });
  }
  return answers;
}

export function createConsoleHandler(options: ConsoleOptions): ConsoleHandler {
  const base = options.base ?? '';
  const csrf = randomBytes(24).toString('base64url');
  const sessions = new Set<string>();
  const logins = new Set<string>();
  const streams = new Set<ServerResponse>();
  const maxBody = options.maxBody ?? 64 * 1024;
  const maxStreams = options.maxStreams ?? 32;
  const secureCookie = '; HttpOnly; SameSite=Strict; Path=/';

  const broadcast = (topic: ConsoleTopic) => {
    for (const stream of streams) stream.write(`event: ${topic}\ndata: {}\n\n`);
  };
  const unwatch = options.services.watch(broadcast);
  const heartbeat = setInterval(() => { for (const stream of streams) stream.write(': keep-alive\n\n'); }, 15_000);
  heartbeat.unref();

  const routes: Record<string, () => Promise<unknown>> = {
    '/api/sites': () => options.services.sites(),
    '/api/denials': () => options.services.denials(),
    '/api/learn': () => options.services.learn(),
    '/api/isolation': () => options.services.isolation(),
    '/api/policy': () => options.services.policy(),
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/login') {
      const once = new URL(req.url ?? '/', 'http://console').searchParams.get('once') ?? undefined;
      const match = [...logins].find((l) => secretsEqual(once, l));
      if (req.method !== 'GET' || !match) { sendJson(res, 401, { error: 'this login link is unknown or was used already; ask hatter console for a new one', code: 'console/bad-login' }); return; }
      logins.delete(match);
      const session = randomBytes(32).toString('base64url');
      sessions.add(session);
      send(res, 303, 'text/plain; charset=utf-8', 'logged in\n', { location: `${base}/`, 'set-cookie': `${SESSION_COOKIE}=${session}${secureCookie}` });
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/' || path === '/index.html') { send(res, 200, 'text/html; charset=utf-8', pageHtml(csrf)); return; }
      if (path.startsWith('/assets/')) {
        const body = asset(path.slice('/assets/'.length));
        if (!body) { sendJson(res, 404, { error: 'no such asset', code: 'console/not-found' }); return; }
        send(res, 200, ASSETS[path.slice('/assets/'.length)]!.type, body);
        return;
      }
      if (path === '/api/events') {
        if (streams.size >= maxStreams) { sendJson(res, 503, { error: `at most ${maxStreams} live streams`, code: 'console/too-many-streams' }); return; }
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
        res.write('retry: 1000\n\n');
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
      const route = routes[path];
      if (route) { sendJson(res, 200, await route()); return; }
      sendJson(res, 404, { error: 'not found', code: 'console/not-found' });
      return;
    }
    // POST
    if (path !== '/api/learn/preview' && path !== '/api/learn/apply') { sendJson(res, 404, { error: 'not found', code: 'console/not-found' }); return; }
    const body = await readJson(req, res, maxBody);
    if (body === undefined) return;
    const answers = parseConsoleAnswers(body);
    if (typeof answers === 'string') { sendJson(res, 400, { error: answers, code: 'console/bad-answers' }); return; }
    const outcome = path === '/api/learn/preview' ? await options.services.preview(answers) : await options.services.apply(answers);
    if (path === '/api/learn/apply' && outcome.written.length) broadcast('policy');
    sendJson(res, outcome.ok ? 200 : 422, outcome);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    let path: string;
    try {
      const raw = (req.url ?? '/').split('?')[0]!;
      if (!raw.startsWith('/')) throw new Error('not origin-form');
      path = decodeURIComponent(raw);
    } catch {
      refuse(res, { status: 400, code: 'console/bad-path', message: 'the request path is not a valid path' });
      return;
    }
    if (base) {
      if (path === base) { send(res, 308, 'text/plain; charset=utf-8', '', { location: `${base}/` }); return; }
      if (!path.startsWith(`${base}/`)) { sendJson(res, 404, { error: 'not found', code: 'console/not-found' }); return; }
      path = path.slice(base.length);
    }
    // Nothing the console serves has a dot segment, a backslash or a NUL: refuse them before any route.
    if (/(^|\/)\.\.?(\/|$)|\\|\0/.test(path)) { refuse(res, { status: 400, code: 'console/bad-path', message: 'the request path has a dot segment, backslash or NUL' }); return; }
    const refusal = checkRequest({
      method: req.method ?? '', headers: req.headers, token: options.token, sessions, allowedHosts: options.allowedHosts, csrf, isLogin: path === '/login',
    });
    if (refusal) { refuse(res, refusal); if (req.method === 'POST') req.resume(); return; }
    answer(req, res, path).catch((error: unknown) => {
      sendJson(res, 500, { error: `the console could not answer: ${error instanceof Error ? error.message : String(error)}`, code: 'console/internal' });
    });
  }) as ConsoleHandler;
  handler.loginPath = () => {
    const once = randomBytes(24).toString('base64url');
    logins.add(once);
    return `${base}/login?once=${once}`;
  };
  handler.close = () => {
    clearInterval(heartbeat);
    unwatch();
    for (const stream of streams) stream.end();
    streams.clear();
  };
  return handler;
}

/** The Host header values a console bound to host:port answers to. */
export function hostsFor(host: string, port: number): Set<string> {
  const hosts = new Set<string>();
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  hosts.add(`${bracketed}:${port}`.toLowerCase());
  if (host === '127.0.0.1' || host === '::1' || host === 'localhost') hosts.add(`localhost:${port}`);
  return hosts;
}

/** Start the console's listener; resolves once it listens. */
export async function startConsoleListener(host: string, port: number, handlerFor: (hosts: ReadonlySet<string> | 'any') => ConsoleHandler): Promise<{ server: Server; handler: ConsoleHandler; port: number }> {
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 });
  await new Promise<void>((done, fail) => { server.once('error', fail); server.listen(port, host, () => { server.off('error', fail); done(); }); });
  const bound = (server.address() as { port: number }).port;
  const wildcard = host === '0.0.0.0' || host === '::';
  const handler = handlerFor(wildcard ? 'any' : hostsFor(host, bound));
  server.on('request', handler);
  // A malformed request is answered 400 by Node itself; never let a client error end the console.
  server.on('clientError', (_error, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });
  return { server, handler, port: bound };
}
