// followFile on a real temp file: append, rotate by rename, truncate; every step bounded in time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventReader, type AuditEvent } from '../../src/logs/index.js';
import { followFile } from '../../src/logs-node/index.js';

const line = (serial: number) =>
  `type=AVC msg=audit(1763776800.000:${serial}): apparmor="DENIED" operation="open" profile="worker//siteA" name="/f/${serial}" pid=1 comm="w" requested_mask="r" denied_mask="r"\n`;

test('follow reads appended lines, survives rotation by rename and truncation', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-follow-'));
  const path = join(dir, 'audit.log');
  writeFileSync(path, line(1));
  const controller = new AbortController();
  const reopened: string[] = [];
  const reader = new EventReader({ immediate: true });
  const seen: number[] = [];
  const waiters: { serial: number; resolve: () => void }[] = [];
  const until = (serial: number) => new Promise<void>((resolve, reject) => {
    if (seen.includes(serial)) return resolve();
    waiters.push({ serial, resolve });
    setTimeout(() => reject(new Error(`event ${serial} not seen within 5 s (seen: ${seen.join(',')})`)), 5000).unref();
  });
  const note = (events: AuditEvent[]) => {
    for (const e of events) {
      seen.push(e.time!.serial);
      for (const w of waiters) if (w.serial === e.time!.serial) w.resolve();
    }
  };
  const loop = (async () => {
    for await (const chunk of followFile(path, { signal: controller.signal, pollMs: 20, onReopen: (why) => reopened.push(why) })) note(reader.push(chunk));
    note(reader.end());
  })();
  try {
    await until(1);
    appendFileSync(path, line(2));
    // a line written in two pieces is read once it is complete
    const third = line(3);
    appendFileSync(path, third.slice(0, 40));
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(path, third.slice(40));
    await until(3);
    // rotation: rename away (a last line lands in the old file first), then a new file
    appendFileSync(path, line(4));
    renameSync(path, `${path}.1`);
    writeFileSync(path, line(5));
    await until(5);
    // truncation (copytruncate)
    truncateSync(path, 0);
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(path, line(6));
    await until(6);
  } finally {
    controller.abort();
    await loop;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.ok(reopened.includes('rotated'), `reopened: ${reopened.join(',')}`);
  assert.ok(reopened.includes('truncated'), `reopened: ${reopened.join(',')}`);
});

test('follow waits for a file that does not exist yet, and stops when aborted', { timeout: 10_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-follow-'));
  const path = join(dir, 'later.log');
  const controller = new AbortController();
  const chunks: string[] = [];
  const loop = (async () => {
    for await (const chunk of followFile(path, { signal: controller.signal, pollMs: 20 })) {
      chunks.push(chunk.toString());
      controller.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 80));
  writeFileSync(path, line(9));
  await loop;
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(chunks, [line(9)]);
});
