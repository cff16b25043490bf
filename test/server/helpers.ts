// Shared helpers for the server integration tests: start a real server (supervisor in this process,
// front and workers as child processes, backend none) on loopback ports chosen at run time.
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { parseServeConfig, type ServeConfig } from '../../src/server/config.js';
import { loadConfigFile, prepareServe, selectBackend, startServer, type DemoHost, type ServeOverrides } from '../../src/server/serve.js';
import type { Supervisor } from '../../src/server/supervisor.js';

export interface TestServer {
  readonly supervisor: Supervisor;
  readonly port: number;
  readonly adminPort: number;
  readonly messages: string[];
  stop(): Promise<void>;
}

const testOverrides: ServeOverrides = { listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, backend: 'none', accessLog: 'off' };

/** `demoHost`: what the demo takes the host to have (default: detected), e.g. no php-fpm. */
export async function startFromFile(file: string, demo: boolean, overrides: ServeOverrides = {}, demoHost?: DemoHost): Promise<TestServer> {
  const all = { ...testOverrides, ...overrides };
  const prepared = prepareServe(loadConfigFile(file), all, demo, demoHost);
  if (!prepared.prepared) throw new Error(prepared.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
  return start(prepared.prepared.config, prepared.prepared.hats, { file, overrides: all, demo, ...(demoHost ? { demoHost } : {}) });
}

async function start(config: ServeConfig, hats: Parameters<typeof startServer>[0]['hats'], reloadFrom?: Parameters<typeof startServer>[4]): Promise<TestServer> {
  const backend = config.backend === 'none' ? createBackend('none') : (await selectBackend(config, hats)).backend;
  if (!backend) throw new Error(`backend ${config.backend} is not available`);
  const messages: string[] = [];
  const output = { info: (line: string) => { messages.push(line); }, warn: (line: string) => { messages.push(line); } };
  const { supervisor } = await startServer({ config, hats, diagnostics: [] }, backend, `${backend.name} (test)`, output, reloadFrom);
  const running = supervisor.run();
  return {
    supervisor,
    port: supervisor.addresses[0]!.port,
    adminPort: supervisor.adminAddress!.port,
    messages,
    async stop() { supervisor.enqueue('stop'); await running; },
  };
}

/** Write a hatter.yaml (and files) into a fresh temp dir and start a server from it. */
export async function startFromYaml(yaml: string, files: Record<string, string> = {}, overrides: ServeOverrides = {}): Promise<TestServer & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-serve-test-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    if (path.endsWith('.cgi')) chmodSync(full, 0o755);
  }
  const file = join(dir, 'hatter.yaml');
  writeFileSync(file, yaml);
  const parsed = parseServeConfig(yaml, file);
  if (!parsed.config) throw new Error(parsed.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join('\n'));
  const server = await startFromFile(file, false, overrides);
  return { ...server, dir, async stop() { await server.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly localPort: number;
}

/** One request; `timeoutMs` (default 15 s) of silence fails it. */
export function get(port: number, host: string, path: string, options: { agent?: Agent; method?: string; body?: Buffer | string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent ?? false, headers: { host, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: res.socket?.localPort ?? 0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`timeout: ${host}${path}`)));
    req.end(options.body);
  });
}

export async function json(port: number, host: string, path: string, options: Parameters<typeof get>[3] = {}): Promise<Record<string, unknown>> {
  const reply = await get(port, host, path, options);
  return JSON.parse(reply.body.toString()) as Record<string, unknown>;
}

/** Send raw bytes on one connection; collect everything until the server closes or `idleMs` of silence. */
export function raw(port: number, data: string | Buffer, idleMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer = setTimeout(() => socket.destroy(), idleMs);
    socket.on('data', (c: Buffer) => { chunks.push(c); clearTimeout(timer); timer = setTimeout(() => socket.destroy(), idleMs); });
    socket.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('latin1')); });
    socket.on('error', () => {});
    socket.write(data);
  });
}

/** A keep-alive client on one raw connection: send a request, read exactly one response. */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  closed = false;
  private readonly socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => { this.buffer = Buffer.concat([this.buffer, c]); this.waiting?.(); });
    this.socket.on('close', () => { this.closed = true; this.waiting?.(); });
    this.socket.on('error', () => {});
  }

  write(data: string): void { this.socket.write(data); }

  /** Read one response with a Content-Length body. */
  async response(timeoutMs = 10_000): Promise<{ status: number; headers: string; body: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.buffer.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = text.slice(0, end);
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length >= end + 4 + length) {
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status: Number(head.split(' ')[1]), headers: head, body: text.slice(end + 4, end + 4 + length) };
        }
      }
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(text.slice(0, 200))}`);
      if (Date.now() > deadline) throw new Error('timeout waiting for a response');
      await new Promise<void>((r) => { this.waiting = r; setTimeout(r, 100); });
      this.waiting = undefined;
    }
  }

  close(): void { this.socket.destroy(); }
}

export async function serverStatus(adminPort: number): Promise<Record<string, any>> {
  const reply = await get(adminPort, '127.0.0.1', '/_hatter/status');
  return JSON.parse(reply.body.toString()) as Record<string, any>;
}

/** Total requests served by a pool's workers, as the status page reports (stats arrive each second). */
export async function poolRequests(adminPort: number, label: string): Promise<number> {
  const status = await serverStatus(adminPort);
  const pool = (status.pools as any[]).find((p) => p.label === label);
  return pool ? pool.requests as number : 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Let the site's PHP-FPM children (another user when the tests run as root) read a test directory. */
export function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) openUp(path);
    else chmodSync(path, 0o644);
  }
}

/** One site whose .php files go to the PHP-FPM master hatter starts for it (the `sites:` key and below). */
export const PHP_SITE = `sites:
  - serverName: php.test
    documentRoot: www
    locations:
      - regex: '\\.php$'
        handler: { type: fastcgi, phpFpm: true, root: www }
`;
