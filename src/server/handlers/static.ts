// The static file handler: GET and HEAD of files under one root, with validators, conditional
// requests, byte ranges (single and multipart), directory index and trailing-slash redirect.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, readSync, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Handler, HandlerContext, ResponseWriter, SimpleRequest } from '../handler.js';
import {
  evaluatePreconditions, httpDate, ifRangeAllows, parseRange, validatorsFor, type ByteRange, type Validators,
} from './conditional.js';
import { contentTypeFor } from './mime.js';
import { failInternally, sendStatus } from './respond.js';
import {
  isRefusal, mapOntoRoot, pathSegments, redirectLocation, refusalForError, resolveInside, RootDirectory, splitTarget, TargetMemo, type PathRefusal,
} from './request-path.js';

export interface StaticHandlerOptions {
  readonly root: string;
  readonly index?: readonly string[];
}

/** Files up to this size are read in one go and sent with a single write. */
const SMALL_FILE = 64 * 1024;
const ALLOW = 'GET, HEAD';
/** Files up to this size are kept in memory (FileCache), up to CACHE_BYTES per handler. */
const CACHED_FILE = 16 * 1024;
const CACHE_BYTES = 8 * 1024 * 1024;
/** How long a cached URL-to-file mapping (realpath, inside-the-root check) is trusted before it is redone. */
const CACHE_PATH_MS = 1000;

/**
 * A small file as last sent: its bytes and the response headers, reused while a stat of its realpath
 * still shows the same device, inode, size, modification and change times (one system call instead
 * of realpath, stat, open, fstat, read and close). The URL's realpath is redone every CACHE_PATH_MS,
 * so a symlink changed inside the root takes effect within that time; the file served is always one
 * that was inside the root when it was read, and never other bytes than that file's current ones.
 */
interface CachedFile {
  readonly real: string;
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly body: Buffer;
  readonly validators: Validators;
  /** Content-Type, validators and length, flat, for writeHead. */
  readonly headers: readonly string[];
  /**
   * The same without Content-Length (the fast lane's writer adds the framing itself). Frozen, as
   * validatorHeaders: the lane then checks and joins their lines once, not per response.
   */
  readonly unframedHeaders: readonly string[];
  readonly validatorHeaders: readonly string[];
  pathCheckedAt: number;
}

function cachedFile(real: string, info: Stats, body: Buffer, contentType: string, now: number): CachedFile {
  const validators = validatorsFor(info.size, info.mtimeMs);
  const validatorHeaders = Object.freeze(['ETag', validators.etag, 'Last-Modified', httpDate(validators.lastModifiedSeconds), 'Accept-Ranges', 'bytes']);
  return {
    real, dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, body, validators,
    headers: Object.freeze([...validatorHeaders, 'Content-Type', contentType, 'Content-Length', String(body.length)]),
    unframedHeaders: Object.freeze([...validatorHeaders, 'Content-Type', contentType]), validatorHeaders, pathCheckedAt: now,
  };
}

class FileCache {
  private readonly entries = new Map<string, CachedFile>();
  private bytes = 0;

  /**
   * The entry for `key` (a path under `rootReal`) if its file is unchanged; undefined (and dropped)
   * otherwise. Past CACHE_PATH_MS the path is resolved again: the same realpath keeps the entry.
   */
  lookup(key: string, rootReal: string, now: number): CachedFile | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.pathCheckedAt > CACHE_PATH_MS) {
      if (resolveInside(rootReal, key) !== entry.real) {
        this.drop(key, entry);
        return undefined;
      }
      entry.pathCheckedAt = now;
    }
    const info = statSync(entry.real, { throwIfNoEntry: false });
    if (!info || info.ino !== entry.ino || info.dev !== entry.dev || info.size !== entry.size || info.mtimeMs !== entry.mtimeMs || info.ctimeMs !== entry.ctimeMs) {
      this.drop(key, entry);
      return undefined;
    }
    return entry;
  }

  /** Keep `entry` for `key`, if it is small enough, evicting the oldest entries beyond CACHE_BYTES. */
  store(key: string, entry: CachedFile): void {
    if (entry.body.length > CACHED_FILE) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    while (this.bytes + entry.body.length > CACHE_BYTES && this.entries.size > 0) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, CachedFile];
      this.drop(oldestKey, oldest);
    }
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
  }

  private drop(key: string, entry: CachedFile): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}

/** What the fast lane made of a request target: the file's path on disk, or not for the lane (undefined). */
interface LaneTarget {
  readonly locationPrefix: string;
  readonly rootReal: string;
  readonly key: string | undefined;
}

export class StaticHandler implements Handler {
  private readonly root: RootDirectory;
  private readonly index: readonly string[];
  private readonly cache = new FileCache();
  private readonly laneTargets = new TargetMemo<LaneTarget>();

  constructor(options: StaticHandlerOptions, configDir = process.cwd()) {
    this.root = new RootDirectory(resolve(configDir, options.root));
    this.index = options.index ?? ['index.html'];
  }

  async handle(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    try {
      await this.serve(req, res, ctx);
    } catch (error) {
      failInternally(res, 'handlers/internal-error', 'static', error);
    }
  }

  async close(): Promise<void> {}

  /**
   * The fast lane: a whole small file (no Range), answered 200, 304 or 404/403 in one write; from the
   * cache when it is there and unchanged, read (and cached) when not. A directory, a range, 412, a file
   * over SMALL_FILE or one changing while read is `handle`'s. Every request that reaches a file takes
   * this path, so a connection stays in the lane: one handed to node:http never comes back.
   */
  serveRaw(request: SimpleRequest, out: ResponseWriter, ctx: HandlerContext): boolean {
    if (request.headers.range !== undefined) return false;
    const rootReal = this.root.resolved();
    if (rootReal === undefined) return false;
    const key = this.laneKey(request.url, ctx.locationPrefix, rootReal);
    if (key === undefined) return false;
    const now = performance.now();
    const file = this.cache.lookup(key, rootReal, now) ?? this.readSmall(rootReal, key, now);
    if (file === undefined) return false;
    if (isRefusal(file)) {
      out.status(file.refused);
      return true;
    }
    const precondition = evaluatePreconditions(request.headers, file.validators);
    if (precondition === 'precondition-failed') return false;
    if (precondition === 'not-modified') out.whole(304, undefined, file.validatorHeaders, undefined, true);
    else out.whole(200, undefined, file.unframedHeaders, file.body, false); // HEAD: the writer sends the length, not the body
    return true;
  }

  /** The on-disk path (cache key) a request target names, for a target the lane takes; remembered. */
  private laneKey(url: string, locationPrefix: string, rootReal: string): string | undefined {
    const known = this.laneTargets.get(url);
    if (known && known.locationPrefix === locationPrefix && known.rootReal === rootReal) return known.key;
    const target = splitTarget(url);
    const mapped = isRefusal(target) ? target : pathSegments(target.rawPath, locationPrefix);
    // Refused targets and directories (index, redirect) take the full path, which answers them.
    const key = isRefusal(target) || isRefusal(mapped) || target.rawPath.endsWith('/') ? undefined : join(rootReal, ...mapped.segments);
    this.laneTargets.remember(url, { locationPrefix, rootReal, key });
    return key;
  }

  /**
   * A file read whole for the lane (and cached when small enough), a refusal (404, 403) to answer, or
   * undefined for the full path: a directory, a file over SMALL_FILE, one that shrank while read.
   */
  private readSmall(rootReal: string, key: string, now: number): CachedFile | PathRefusal | undefined {
    const found = this.find(rootReal, key);
    if (isRefusal(found)) return found;
    if (found.directory) return undefined;
    const file = OpenFile.open(found.path);
    if (isRefusal(file)) return file;
    try {
      const info = file.stat();
      if (!info.isFile()) return { refused: 403 };
      if (info.size > SMALL_FILE) return undefined;
      const body = file.readWhole(info.size);
      if (body === undefined) return undefined;
      const entry = cachedFile(found.path, info, body, contentTypeFor(found.path), now);
      this.cache.store(key, entry);
      return entry;
    } finally {
      file.close();
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendStatus(res, req.method === 'OPTIONS' ? 204 : 405, { Allow: ALLOW });
      return;
    }
    const onRoot = await mapOntoRoot(req.url, ctx.locationPrefix, this.root, 'static', res);
    if (!onRoot) return;
    const { target, mapped, rootReal } = onRoot;
    const key = join(rootReal, ...mapped.segments);
    // Range requests take the full path below (the cache keeps whole small files only).
    if (req.headers.range === undefined && !target.rawPath.endsWith('/')) {
      const cached = this.cache.lookup(key, rootReal, performance.now());
      if (cached) return sendCached(req, res, cached);
    }
    const found = this.find(rootReal, key);
    if (isRefusal(found)) return sendStatus(res, found.refused);
    if (found.directory) {
      if (!target.rawPath.endsWith('/')) {
        res.writeHead(301, { Location: redirectLocation(target), 'Content-Length': 0 });
        res.end();
        return;
      }
      const indexFile = this.findIndex(rootReal, found.path);
      if (indexFile === undefined) return sendStatus(res, 403);
      return this.sendFile(req, res, ctx, indexFile);
    }
    return this.sendFile(req, res, ctx, found.path, key);
  }

  /** `path` (under `rootReal`) resolved: a file or directory inside the root, or a refusal. */
  private find(rootReal: string, path: string): { path: string; directory: boolean } | PathRefusal {
    const real = resolveInside(rootReal, path);
    if (isRefusal(real)) return real;
    let info: Stats;
    try {
      info = statSync(real);
    } catch (error) {
      return { refused: refusalForError(error) };
    }
    if (info.isDirectory()) return { path: real, directory: true };
    if (!info.isFile()) return { refused: 403 };
    return { path: real, directory: false };
  }

  private findIndex(rootReal: string, directory: string): string | undefined {
    for (const name of this.index) {
      const real = resolveInside(rootReal, join(directory, name));
      if (isRefusal(real)) continue;
      try {
        if (statSync(real).isFile()) return real;
      } catch { /* try the next name */ }
    }
    return undefined;
  }

  /** cacheKey: the request's path on disk, for a file that may be kept in FileCache. */
  private async sendFile(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext, path: string, cacheKey?: string): Promise<void> {
    const file = OpenFile.open(path);
    if (isRefusal(file)) return sendStatus(res, file.refused);
    let closeFile = true;
    try {
      const info = file.stat();
      if (!info.isFile()) return sendStatus(res, 403);
      const validators = validatorsFor(info.size, info.mtimeMs);
      const headers: Record<string, string | number> = {
        ETag: validators.etag,
        'Last-Modified': httpDate(validators.lastModifiedSeconds),
        'Accept-Ranges': 'bytes',
      };
      const precondition = evaluatePreconditions(req.headers, validators);
      if (precondition === 'not-modified') {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      if (precondition === 'precondition-failed') return sendStatus(res, 412);

      const contentType = contentTypeFor(path);
      const rangeHeader = req.method === 'GET' && ifRangeAllows(singleHeader(req.headers['if-range']), validators)
        ? singleHeader(req.headers.range) : undefined;
      const range = parseRange(rangeHeader, info.size);
      if (range.kind === 'unsatisfiable') {
        return sendStatus(res, 416, { 'Content-Range': `bytes */${info.size}` });
      }
      if (range.kind === 'partial' && range.ranges.length === 1) {
        const only = range.ranges[0]!;
        res.writeHead(206, {
          ...headers,
          'Content-Type': contentType,
          'Content-Range': `bytes ${only.start}-${only.end}/${info.size}`,
          'Content-Length': only.end - only.start + 1,
        });
        closeFile = false;
        await this.stream(file, res, ctx, [only]);
        return;
      }
      if (range.kind === 'partial') {
        closeFile = false;
        await this.sendMultipart(file, res, ctx, headers, contentType, info.size, range.ranges);
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': contentType, 'Content-Length': info.size });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      if (info.size <= SMALL_FILE) {
        const body = file.readWhole(info.size);
        // A file that shrank under us: never send fewer bytes than announced, cut the connection.
        if (body === undefined) res.destroy();
        else {
          res.end(body);
          if (cacheKey !== undefined && range.kind === 'full') this.cache.store(cacheKey, cachedFile(path, info, body, contentType, performance.now()));
        }
        return;
      }
      closeFile = false;
      await this.stream(file, res, ctx, [{ start: 0, end: info.size - 1 }]);
    } finally {
      if (closeFile) file.close();
    }
  }

  private async sendMultipart(
    file: OpenFile, res: ServerResponse, ctx: HandlerContext, headers: Record<string, string | number>,
    contentType: string, size: number, ranges: readonly ByteRange[],
  ): Promise<void> {
    const boundary = randomBytes(12).toString('hex');
    const partHeads = ranges.map((r) =>
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`));
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const length = partHeads.reduce((sum, head, i) => sum + head.length + ranges[i]!.end - ranges[i]!.start + 1, tail.length);
    res.writeHead(206, {
      ...headers,
      'Content-Type': `multipart/byteranges; boundary=${boundary}`,
      'Content-Length': length,
    });
    await this.stream(file, res, ctx, ranges, partHeads, tail);
  }

  /** Stream byte ranges of an open file with backpressure; closes the file. */
  private async stream(
    file: OpenFile, res: ServerResponse, ctx: HandlerContext, ranges: readonly ByteRange[],
    partHeads?: readonly Buffer[], tail?: Buffer,
  ): Promise<void> {
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < ranges.length; i++) {
        if (partHeads) yield partHeads[i]!;
        const { start, end } = ranges[i]!;
        let position = start;
        while (position <= end) {
          const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, end - position + 1));
          const bytesRead = await file.read(chunk, 0, chunk.length, position);
          if (bytesRead === 0) throw new Error('file shrank while being sent');
          position += bytesRead;
          yield bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead);
        }
      }
      if (tail) yield tail;
    }
    try {
      await pipeline(Readable.from(body(), { objectMode: false }), res, { signal: ctx.signal });
    } catch (error) {
      // The client went away or the request was aborted: nothing to answer. Anything else is logged.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && code !== 'ABORT_ERR' && code !== 'EPIPE' && code !== 'ECONNRESET') {
        failInternally(res, 'handlers/internal-error', 'static', error);
      }
      res.destroy();
    } finally {
      file.close();
    }
  }
}

/** A GET or HEAD answered from FileCache: the same answers as sendFile for a request without Range. */
function sendCached(req: IncomingMessage, res: ServerResponse, cached: CachedFile): void {
  const precondition = evaluatePreconditions(req.headers, cached.validators);
  if (precondition === 'not-modified') {
    res.writeHead(304, cached.validatorHeaders as string[]);
    res.end();
    return;
  }
  if (precondition === 'precondition-failed') return sendStatus(res, 412);
  res.writeHead(200, cached.headers as string[]);
  if (req.method === 'HEAD') res.end();
  else res.end(cached.body);
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A file descriptor with the few operations the handler needs: sync for small files, async for streams. */
class OpenFile {
  private closed = false;
  private constructor(private readonly fd: number) {}
  /** `path` (a realpath) opened for reading; O_NOFOLLOW refuses a symlink swapped in since it was resolved. */
  static open(path: string): OpenFile | PathRefusal {
    try {
      return new OpenFile(openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW));
    } catch (error) {
      return { refused: refusalForError(error) };
    }
  }
  stat(): Stats {
    return fstatSync(this.fd);
  }
  /** The first `size` bytes, read now; undefined when the file has fewer (it shrank since its stat). */
  readWhole(size: number): Buffer | undefined {
    const body = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const bytesRead = readSync(this.fd, body, filled, size - filled, filled);
      if (bytesRead === 0) return undefined;
      filled += bytesRead;
    }
    return body;
  }
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      read(this.fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
    });
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}
