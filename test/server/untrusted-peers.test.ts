// Workers are untrusted peers: code running in a site's worker (a web shell) sends the supervisor
// whatever IPC messages it likes. The supervisor (in this test process: a crash fails the whole file)
// must validate each one, kill and replace the sender of an invalid one, count it on the status page,
// and keep every other site serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { get, serverStatus, sleep, startFromYaml, type TestServer } from './helpers.js';

// The attacker's handler: answers first, then sends what the request asked for (optionally with a
// handle beside it), so the answer is out before the supervisor kills the sender.
const FORGE = `import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
async function besideOf(kind) {
  if (kind === 'udp') { const s = createSocket('udp4'); await new Promise((r) => s.bind(0, '127.0.0.1', r)); return s; }
  if (kind === 'listener') { const s = createServer(); await new Promise((r) => s.listen(0, '127.0.0.1', r)); return s; }
  if (kind === 'outbound') {
    const target = createServer((c) => c.on('error', () => {}));
    await new Promise((r) => target.listen(0, '127.0.0.1', r));
    const s = connect(target.address().port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    return s;
  }
  return undefined;
}
export default async function handler(request) {
  const url = new URL(request.url);
  if (url.pathname === '/forge/pid') return Response.json({ pid: process.pid });
  const { messages, handle } = await request.json();
  let beside = await besideOf(handle);
  let sent = 0;
  const send = () => {
    for (const message of messages) {
      try { process.send(message, beside); sent++; } catch { /* values Node itself refuses to send */ }
      beside = undefined;
    }
  };
  setTimeout(send, 50);
  return Response.json({ pid: process.pid, count: messages.length });
}
`;
const ECHO = `export default () => Response.json({ hat: process.env.HATTER_HAT, pid: process.pid });\n`;
/** One site (so one pool, with its own restart delay) per attack: a kill in one does not slow the next. */
const EVIL_SITES = 40;

let server: TestServer & { dir: string };
let logDir: string;
let nextSite = 0;

before(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'hatter-peers-log-'));
  const evil = Array.from({ length: EVIL_SITES }, (_, i) => `  - serverName: evil${i}.test
    documentRoot: pub
    locations:
      - prefix: /forge
        handler: { type: node, module: forge.mjs }
`).join('');
  server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
pool: { min: 0, max: 1 }
sites:
  - serverName: good.test
    documentRoot: pub
    locations:
      - prefix: /echo
        handler: { type: node, module: echo.mjs }
${evil}`, { 'forge.mjs': FORGE, 'echo.mjs': ECHO, 'pub/index.html': 'x\n' }, { accessLog: join(logDir, 'access.jsonl') });
});
after(async () => { await server.stop(); rmSync(logDir, { recursive: true, force: true }); });

async function poolOf(hat: string): Promise<Record<string, any> | undefined> {
  const status = await serverStatus(server.adminPort);
  return (status.pools as any[]).find((p) => p.hat === hat);
}

async function forge(site: string, messages: unknown[], handle?: string): Promise<number> {
  const reply = await get(server.port, site, '/forge', { method: 'POST', body: JSON.stringify({ messages, ...(handle ? { handle } : {}) }), headers: { 'content-type': 'application/json' } });
  assert.equal(reply.status, 200, reply.body.toString());
  return (JSON.parse(reply.body.toString()) as { pid: number }).pid;
}

async function pidOf(site: string): Promise<number> {
  const reply = await get(server.port, site, '/forge/pid');
  assert.equal(reply.status, 200);
  return (JSON.parse(reply.body.toString()) as { pid: number }).pid;
}

async function goodStillServes(): Promise<void> {
  const reply = await get(server.port, 'good.test', '/echo');
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.body.toString()).hat, 'good.test');
}

/** Wait until `check` holds for the site's pool (status page), or fail with what it shows. */
async function poolUntil(hat: string, check: (pool: Record<string, any>) => boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pool = await poolOf(hat);
    if (pool && check(pool)) return pool;
    if (Date.now() > deadline) throw new Error(`pool ${hat} never got there: ${JSON.stringify(pool)}`);
    await sleep(50);
  }
}

/** Forge from a fresh site: the sender is killed, counted, replaced by a new worker; the other site serves. */
async function refused(messages: unknown[], handle?: string): Promise<Record<string, any>> {
  const site = `evil${nextSite++}.test`;
  const sender = await forge(site, messages, handle);
  const pool = await poolUntil(site, (p) => p.invalidMessages === 1 && !(p.workers as any[]).some((w) => w.pid === sender));
  assert.notEqual(await pidOf(site), sender, 'a new worker serves the site');
  await goodStillServes();
  return pool;
}

test('log with lines that are not a list: the sender is killed and replaced, the supervisor lives (it crashed before)', async () => {
  const pool = await refused([{ type: 'log', lines: 5 }]);
  assert.match(pool.lastInvalidMessage, /lines is not a list/);
  assert.ok(server.messages.some((m) => /REFUSED .*evil\d+\.test.*invalid message/.test(m)), 'the refusal is logged');
});

test('a malformed stats message (it crashed the status page and the worker\'s exit before)', async () => {
  await refused([{ type: 'stats', requests: 1 }]);
  await refused([{ type: 'stats', requests: -1, errors: 0, inFlight: 0, connections: 0, histogram: [] }]);
  await refused([{ type: 'stats', requests: 0, errors: 0, inFlight: 0, connections: 0, histogram: ['x'] }]);
});

test('other invalid shapes: unknown type, null, a list, extra fields, a handback without a handle, a huge reason', async () => {
  for (const message of [{ type: 'nonsense' }, null, [1, 2], { type: 'ready', extra: 1 }, { type: 'handback', bytes: '' }, { type: 'retire', reason: 'x'.repeat(5000) }]) {
    await refused([message]);
  }
});

test('handles beside messages: none belongs beside "released"; a listener, a UDP socket or an outbound connection is no client connection', async () => {
  await refused([{ type: 'released' }], 'listener');
  await refused([{ type: 'handback', bytes: '' }], 'udp');
  await refused([{ type: 'handback', bytes: '' }], 'listener');
  await refused([{ type: 'handback', bytes: '' }], 'outbound');
});

test('a forged access-log line in another site\'s name is refused and never written', async () => {
  const line = JSON.stringify({ time: new Date().toISOString(), method: 'GET', path: '/forged-entry', status: 200, hat: 'good.test', label: 'good.test' });
  await refused([{ type: 'log', lines: [line] }]);
  await refused([{ type: 'log', lines: ['not json'] }]);
  await sleep(200);
  const log = readFileSync(join(logDir, 'access.jsonl'), 'utf8');
  assert.ok(!log.includes('/forged-entry'), 'the forged line is not in the access log');
});

test('valid but hostile messages are survived without a kill: released and ready floods, huge counters, retire', async () => {
  const site = `evil${nextSite++}.test`;
  const messages = [
    ...Array.from({ length: 200 }, () => ({ type: 'released' })),
    ...Array.from({ length: 200 }, () => ({ type: 'ready' })),
    { type: 'stats', requests: Number.MAX_SAFE_INTEGER, errors: 0, inFlight: 0, connections: 0, histogram: Array.from({ length: 200 }, () => Number.MAX_SAFE_INTEGER) },
    { type: 'retire', reason: 'because I say so' },
  ];
  const sender = await forge(site, messages);
  await poolUntil(site, (p) => (p.workers as any[]).some((w) => w.pid === sender && w.state === 'draining'));
  const replacement = await pidOf(site);
  assert.notEqual(replacement, sender, 'the retired worker takes no new connection');
  assert.equal((await poolOf(site))!.invalidMessages, 0);
  await goodStillServes();
});

test('fuzz: 10,000 random and mutated messages from real workers never take the supervisor down; the other site keeps serving', async () => {
  const valid = fc.oneof(
    fc.constant({ type: 'ready' }), fc.constant({ type: 'released' }),
    fc.record({ type: fc.constant('handback'), bytes: fc.base64String() }),
    fc.record({ type: fc.constant('retire'), reason: fc.string() }),
    fc.record({ type: fc.constant('log'), lines: fc.array(fc.string()) }),
    fc.record({ type: fc.constant('stats'), requests: fc.nat(), errors: fc.nat(), inFlight: fc.nat(), connections: fc.nat(), histogram: fc.array(fc.nat(), { maxLength: 201 }) }),
  );
  // Mutations of a valid message: a field replaced by any value, removed, or one added.
  const mutated = fc.tuple(valid, fc.string(), fc.anything(), fc.nat(2)).map(([message, key, value, how]) => {
    const copy: Record<string, unknown> = { ...message };
    const keys = Object.keys(copy);
    const target = keys[key.length % keys.length]!;
    if (how === 0) copy[target] = value;
    else if (how === 1) delete copy[target];
    else copy[key || 'x'] = value;
    return copy;
  });
  const message = fc.oneof(valid, mutated, fc.anything(), fc.jsonValue());
  const batches = fc.sample(fc.array(message, { minLength: 1000, maxLength: 1000 }), { numRuns: 10, seed: 17 });
  let invalid = 0;
  for (const batch of batches) {
    const site = `evil${nextSite++}.test`;
    const sender = await forge(site, batch);
    // The worker is killed at its first invalid message (or retires at a valid retire): wait for that.
    const pool = await poolUntil(site, (p) => !(p.workers as any[]).some((w) => w.pid === sender && w.state === 'ready'));
    invalid += pool.invalidMessages as number;
    await goodStillServes();
  }
  assert.ok(invalid >= 5, `invalid messages counted: ${invalid}`);
  await goodStillServes();
});
