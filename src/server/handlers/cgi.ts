// The CGI/1.1 handler (RFC 3875): the URL path below the location maps to a script under the root,
// the rest of the path is PATH_INFO; the script runs in its own process group with a minimal
// environment, the request body streams to its stdin and its stdout streams back to the client.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { Handler, HandlerContext } from '../handler.js';
import { cgiEnvironment, type CgiScript } from './cgi-environment.js';
import { CgiResponseError, isLocalRedirect, readCgiHead, relayCgiResponse } from './cgi-response.js';
import { failInternally, logHandlerError, sendStatus } from './respond.js';
import {
  isRefusal, mapOntoRoot, refusalForError, resolveInside, RootDirectory, type PathRefusal,
} from './request-path.js';

export interface CgiHandlerOptions {
  readonly root: string;
  /** Wall-clock limit for one script run; beyond it the process group is killed (504). */
  readonly timeoutMs?: number;
}

export const DEFAULT_CGI_TIMEOUT_MS = 30_000;
/** Scripts find their interpreters here; nothing else of the worker's environment is passed. */
const SCRIPT_PATH = '/usr/local/bin:/usr/bin:/bin';
const MAX_LOCAL_REDIRECTS = 5;

/** The parts of a request a script run needs; a local redirect replaces them with a bodiless GET. */
interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Readable | undefined;
}

export class CgiHandler implements Handler {
  private readonly root: RootDirectory;
  private readonly timeoutMs: number;
  private readonly running = new Set<ChildProcess>();

  constructor(options: CgiHandlerOptions, configDir = process.cwd()) {
    this.root = new RootDirectory(resolve(configDir, options.root));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CGI_TIMEOUT_MS;
  }

  async handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    const hasBody = req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const head: RequestHead = {
      method: req.method ?? 'GET', url: req.url ?? '/', httpVersion: req.httpVersion, headers: req.headers,
      body: hasBody ? req : undefined,
    };
    try {
      await this.serve(head, res, ctx, 0);
    } catch (error) {
      failInternally(res, 'handlers/internal-error', 'cgi', error);
    }
  }

  async close(): Promise<void> {
    for (const child of this.running) killGroup(child);
  }

  private async serve(request: RequestHead, res: ServerResponse, ctx: HandlerContext, redirects: number): Promise<void> {
    const onRoot = await mapOntoRoot(request.url, ctx.locationPrefix, this.root, 'cgi', res);
    if (!onRoot) return;
    const { target, mapped, rootReal } = onRoot;
    const script = await findScript(rootReal, mapped.segments, mapped.mount, target.rawPath.endsWith('/'));
    if (isRefusal(script)) return sendStatus(res, script.refused);

    const env = cgiEnvironment({ ...request, query: target.query }, script, ctx);
    env.PATH = SCRIPT_PATH;
    const outcome = await this.run(script, env, request, res, ctx);
    if (outcome.kind !== 'local-redirect') return;
    if (redirects >= MAX_LOCAL_REDIRECTS) return failInternally(res, 'handlers/cgi-redirect-loop', 'cgi', `more than ${MAX_LOCAL_REDIRECTS} local redirects`);
    const location = outcome.location;
    const prefix = ctx.locationPrefix.replace(/\/+$/, '');
    if (prefix !== '' && location !== prefix && !location.startsWith(prefix + '/')) {
      // Outside this handler's location: only the front could dispatch it, so the client is told to.
      res.writeHead(302, { Location: location, 'Content-Length': 0 });
      res.end();
      return;
    }
    const { 'content-length': _length, 'content-type': _type, 'transfer-encoding': _te, ...headers } = request.headers;
    await this.serve({ method: 'GET', url: location, httpVersion: request.httpVersion, headers, body: undefined }, res, ctx, redirects + 1);
  }

  private run(
    script: CgiScript, env: Record<string, string>, request: RequestHead, res: ServerResponse, ctx: HandlerContext,
  ): Promise<{ kind: 'done' } | { kind: 'local-redirect'; location: string }> {
    let child: ChildProcess;
    try {
      child = spawn(script.scriptFilename, [], {
        cwd: dirname(script.scriptFilename), env, detached: true, stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      failInternally(res, 'handlers/cgi-spawn-failed', `cgi ${script.scriptName}`, error);
      return Promise.resolve({ kind: 'done' });
    }
    this.running.add(child);
    return new Promise((settle) => {
      let finished = false;
      let timedOut = false;
      let exited = false;
      const reap = () => {
        clearTimeout(timer);
        this.running.delete(child);
      };
      child.once('exit', () => {
        exited = true;
        // Background processes the script left behind in its group go with it.
        if (finished) { killGroup(child); reap(); }
      });
      /** Settle the request; `kill` ends the script now, otherwise the timer still bounds its life. */
      const finish = (outcome: { kind: 'done' } | { kind: 'local-redirect'; location: string }, kill: boolean) => {
        if (finished) return;
        finished = true;
        ctx.signal.removeEventListener('abort', onAbort);
        if (kill || exited) {
          killGroup(child);
          reap();
        }
        settle(outcome);
      };
      const timer = setTimeout(() => {
        killGroup(child);
        reap();
        if (finished) return;
        timedOut = true;
        logHandlerError('handlers/cgi-timeout', `cgi ${script.scriptName}`, `timed out after ${this.timeoutMs} ms; process group killed`);
        sendStatus(res, 504);
        finish({ kind: 'done' }, true);
      }, this.timeoutMs);
      const onAbort = () => {
        sendStatus(res, 504);
        finish({ kind: 'done' }, true);
      };
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      res.once('close', () => { if (!res.writableFinished) finish({ kind: 'done' }, true); });

      child.on('error', (error) => {
        failInternally(res, 'handlers/cgi-spawn-failed', `cgi ${script.scriptName}`, error);
        finish({ kind: 'done' }, true);
      });
      relayStderr(child.stderr!, script.scriptName);
      const body = request.body;
      if (body) {
        // Not stream.pipeline: on EPIPE it would destroy the request, and with it the connection the
        // response still has to go out on. A script need not read its input: the rest is discarded.
        body.pipe(child.stdin!);
        child.stdin!.on('error', () => {
          body.unpipe(child.stdin!);
          body.resume();
        });
      } else {
        child.stdin!.on('error', () => {});
        child.stdin!.end();
      }

      readCgiHead(child.stdout!).then(
        async ({ head, rest }) => {
          if (finished) return;
          if (isLocalRedirect(head)) {
            child.stdout!.resume();
            finish({ kind: 'local-redirect', location: head.location! }, false);
            return;
          }
          try {
            await relayCgiResponse(res, head, rest, child.stdout!, request.method);
          } catch {
            if (!timedOut) res.destroy();
          }
          finish({ kind: 'done' }, false);
        },
        (error: unknown) => {
          if (finished) return;
          failInternally(res, error instanceof CgiResponseError ? 'handlers/cgi-bad-response' : 'handlers/internal-error', `cgi ${script.scriptName}`, error);
          finish({ kind: 'done' }, true);
        },
      );
    });
  }
}

/** Walk the segments until one names a file: that is the script, the rest is PATH_INFO. */
async function findScript(
  rootReal: string, segments: readonly string[], mount: string, trailingSlash: boolean,
): Promise<CgiScript | PathRefusal> {
  for (let i = 1; i <= segments.length; i++) {
    const candidate = join(rootReal, ...segments.slice(0, i));
    let info;
    try {
      info = await stat(candidate);
    } catch (error) {
      return { refused: refusalForError(error) };
    }
    if (info.isDirectory()) continue;
    if (!info.isFile()) return { refused: 403 };
    const real = await resolveInside(rootReal, candidate);
    if (isRefusal(real)) return real;
    try {
      await access(real, constants.X_OK);
    } catch {
      return { refused: 403 };
    }
    const rest = segments.slice(i);
    const pathInfo = rest.length === 0 ? (trailingSlash ? '/' : '') : '/' + rest.join('/') + (trailingSlash ? '/' : '');
    return { scriptName: mount + '/' + segments.slice(0, i).join('/'), scriptFilename: real, pathInfo };
  }
  // The path names the root or a directory: there is no script to run.
  return { refused: 403 };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    // The leader is gone but its group may live on (a background process holding stdout).
    if (child.pid !== undefined) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group gone */ }
    return;
  }
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}

function relayStderr(stream: Readable, scriptName: string): void {
  let pending = '';
  let logged = 0;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (logged++ < 100) logHandlerError('handlers/cgi-stderr', `cgi ${scriptName}`, line);
    }
    if (pending.length > 4096) pending = pending.slice(0, 4096);
  });
  stream.on('end', () => { if (pending && logged < 100) logHandlerError('handlers/cgi-stderr', `cgi ${scriptName}`, pending); });
}
