// serve --denials-log on a real kernel: the Landlock denial of bob's /read?path=<alice's secret> reaches the
// denials log attributed to bob's hat, and a forged record written into /dev/kmsg is not taken.
// Needs root, Landlock ABI 7 and the kernel's audit (switched on here if off), else skipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { followLandlockDenials, type DenialsFollower } from '../../src/cli/serve-denials.js';
import { readEvents, type AuditEvent } from '../../src/logs/index.js';
import { Readable } from 'node:stream';
import { kernelLandlockAuditUnavailable } from '../support/kernel-audit.js';
import { repoRoot } from '../support/repo.js';
import { get, startFromFile, type TestServer } from '../server/helpers.js';

const unavailable = await kernelLandlockAuditUnavailable();
const skip = unavailable ? `skipped: ${unavailable}` : false;

let server: TestServer | undefined;
let follower: DenialsFollower | undefined;
let dir = '';
let denialsLog = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'hatter-denials-'));
  denialsLog = join(dir, 'denials.jsonl');
  // As serve does: following starts before the workers (their domains are named with their first denial).
  follower = followLandlockDenials({
    source: '/dev/kmsg', denialsLog, intervalMs: 60_000, pollMs: 100,
    confinedProcesses: () => server?.supervisor.confinedProcesses() ?? new Map(),
    warn: (line) => process.stderr.write(`${line}\n`),
  });
  server = await startFromFile(join(repoRoot, 'examples', 'hosting', 'hatter.yaml'), true, { backend: 'landlock' });
});

after(async () => {
  follower?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function logged(): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const e of readEvents(Readable.from([readFileSync(denialsLog)]))) events.push(e);
  return events;
}

async function waitFor(predicate: (events: AuditEvent[]) => boolean, ms: number): Promise<AuditEvent[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const events = await logged();
    if (predicate(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The kernel's printk rate limit (kernel.printk_ratelimit: 5 s, burst 10) drops audit records on the way to /dev/kmsg: let the workers' start-up denials age out. */
const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, 5500));

test('the kernel\'s denial of bob reading alice\'s secret is logged under bob\'s hat, as hatter logs reads it', { skip, timeout: 120_000 }, async () => {
  await quiet();
  const secret = join(repoRoot, 'examples', 'hosting', 'alice', 'secret.txt');
  const bob = await get(server!.port, 'bob.localhost', `/read?path=${encodeURIComponent(secret)}`);
  assert.equal(bob.status, 403);
  const events = await waitFor((es) => es.some((e) => e.object.name === secret), 2000);
  const denial = events.find((e) => e.object.name === secret);
  assert.ok(denial, `bob's denial in the log (${events.length} events: ${events.map((e) => e.object.name).join(', ')})`);
  assert.equal(denial.type, 'DENIED');
  assert.equal(denial.label?.text, 'hatter-demo//bob.localhost');
  assert.deepEqual(denial.requested?.perms, ['r']);
  assert.deepEqual(denial.landlock?.blockers, ['fs.read_file']);
  for (const e of events) assert.match(e.label?.text ?? '', /^hatter-demo(\/\/|$)/, 'every logged denial is one of ours, attributed');
});

test('a record written into /dev/kmsg (facility user) is not taken as a denial', { skip, timeout: 60_000 }, async () => {
  await quiet();
  const workers = [...server!.supervisor.confinedProcesses()].find(([, label]) => label.endsWith('alice.localhost'));
  assert.ok(workers, 'an alice worker');
  const forged = '/forged/by/a/worker';
  // What a compromised worker could write (anyone who may open /dev/kmsg for writing), with the kernel's priority.
  const domain = 'fffffff01';
  writeFileSync('/dev/kmsg', `<5>audit: type=1423 audit(1796645063.023:999999): domain=${domain} blockers=fs.read_file path="${forged}" dev="vda" ino=1\n`);
  writeFileSync('/dev/kmsg', `<5>audit: type=1424 audit(1796645063.023:999999): domain=${domain} status=allocated mode=enforcing pid=${workers[0]} uid=0 exe="/x" comm="x"\n`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(!(await logged()).some((e) => e.object.name === forged), 'the forged denial is not in the log');
  assert.ok(follower!.stats.rejected >= 2, `rejected ${follower!.stats.rejected}`);
});
