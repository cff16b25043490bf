// Real kernel lines (6.1 and 6.12) recorded by the aa-vm runner, read from ../shared at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEvents, newReadStats, summarize, type AuditEvent } from '../../src/logs/index.js';
import { repoRoot } from '../support/repo.js';

const dir = join(repoRoot, '..', 'shared', 'tools', 'aa-vm', 'examples', 'sample-audit');
const skip = existsSync(dir) ? false : `skipped: sample audit logs not found at ${dir}`;

async function read(file: string): Promise<{ events: AuditEvent[]; stats: ReturnType<typeof newReadStats> }> {
  const stats = newReadStats();
  const events: AuditEvent[] = [];
  for await (const e of readEvents(createReadStream(join(dir, file)), { stats, file })) events.push(e);
  return { events, stats };
}

test('every line of the 6.1 and 6.12 samples is an event; the kernels agree apart from class=', { skip }, async () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const byKernel = new Map<string, AuditEvent[]>();
  for (const file of files) {
    const { events, stats } = await read(file);
    assert.equal(stats.events, stats.lines, `${file}: ${JSON.stringify(stats.skipped)}`);
    byKernel.set(file, events);
  }
  for (const topic of ['hats', 'misc']) {
    const old = byKernel.get(files.find((f) => f.startsWith(`${topic}-6.1.`))!)!;
    const recent = byKernel.get(files.find((f) => f.startsWith(`${topic}-6.12.`))!)!;
    const shape = (e: AuditEvent) => [e.type, e.operation, e.label?.text, e.class, e.object.name, e.object.capability, e.denied?.raw].join('|');
    assert.deepEqual(recent.map(shape), old.map(shape), topic);
    assert.ok(recent.some((e) => !e.classInferred), `${topic}: 6.12 writes class=`);
    assert.ok(old.every((e) => e.class === undefined || e.classInferred), `${topic}: 6.1 does not`);
  }
});

test('the hats sample: denials per hat, the killed change_hat, and the worker//siteA label path', { skip }, async () => {
  const file = readdirSync(dir).find((f) => f.startsWith('hats-6.12'))!;
  const { events } = await read(file);
  const killed = events.filter((e) => e.type === 'KILLED');
  assert.equal(killed.length, 1);
  assert.equal(killed[0]!.operation, 'change_hat');
  assert.equal(killed[0]!.info, 'failed token match');
  assert.deepEqual(killed[0]!.label?.path, ['worker', 'siteA']);
  const s = summarize(events);
  const siteA = s.groups.find((g) => g.type === 'DENIED' && g.label === 'worker//siteA');
  assert.ok(siteA, 'a DENIED group for worker//siteA');
  assert.equal(siteA.hat, 'siteA');
  assert.equal(siteA.object, '/tmp/t/siteB/b.txt');
  assert.deepEqual(siteA.denied?.perms, ['r']);
});

test('the misc sample: capability lines with the double space, unix sockets, file_perm in a hat', { skip }, async () => {
  const file = readdirSync(dir).find((f) => f.startsWith('misc-6.1.'))!;
  const { events } = await read(file);
  const caps = events.filter((e) => e.class === 'cap').map((e) => e.object.capability);
  assert.ok(caps.includes('dac_read_search') && caps.includes('dac_override'));
  const net = events.find((e) => e.operation === 'create')!;
  assert.equal(net.class, 'net');
  assert.deepEqual([net.object.network?.family, net.object.network?.sockType, net.object.network?.protocol], ['unix', 'stream', 'ip']);
  const filePerm = events.find((e) => e.operation === 'file_perm')!;
  assert.deepEqual(filePerm.label?.path, ['misc', 'h']);
});
