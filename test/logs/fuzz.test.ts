// Property tests: parseLine never throws, always answers, and takes time linear in the line length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseLine, readEvents } from '../../src/logs/index.js';
import { parseRange } from '../../src/logs/event.js';
import { Readable } from 'node:stream';

const FRAGMENTS = [
  'type=AVC ', 'type=1400 ', 'msg=', 'audit(', '1763776800.123:45', '): ', 'apparmor="DENIED" ', 'apparmor=', '"', "'",
  'operation="open" ', 'profile="a//b" ', 'profile=2F61', 'name=', '2F', 'F', '=', ' ', '  ', '\x1d', 'FSUID="x"',
  '[ 12.5] ', 'audit: ', 'Nov 22 10:00:01 h kernel: ', '2026-11-22T10:00:01Z h kernel: ', '{"MESSAGE":', '}', '[',
  ']', 'requested_mask="rw" ', 'class="file" ', 'msg=\'', 'REJECTING r access to /x (a(1) profile p active h)',
  'capability=2  capname="x"', 'pid=', '-', '12', '\\', '\n', '\r', 'é', '\uFFFD', 'dbus[1]: ', 'error=-13 ',
];

const lineArbitrary = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join('')),
  fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 8 })), { maxLength: 40 }).map((parts) => parts.join('')),
);

test('parseLine never throws and always returns a record kind', () => {
  fc.assert(
    fc.property(lineArbitrary, (line) => {
      const r = parseLine(line, 1);
      assert.ok(r.kind === 'event' || r.kind === 'skip' || r.kind === 'related');
      if (r.kind === 'event') assert.ok(['DENIED', 'ALLOWED', 'AUDIT', 'KILLED', 'HINT', 'STATUS', 'ERROR'].includes(r.event.type));
    }),
    { numRuns: 3000 },
  );
});

test('a line parsed in place inside a larger text reads nothing of its neighbours', () => {
  const noNewline = lineArbitrary.map((l) => l.replace(/[\n\r]/g, ' '));
  fc.assert(
    fc.property(noNewline, noNewline, noNewline, (before, line, after) => {
      const text = `${before}\n${line}\n${after}`;
      const from = before.length + 1;
      const inPlace = parseRange(text, from, from + line.length, 1);
      assert.deepEqual(JSON.parse(JSON.stringify(inPlace)), JSON.parse(JSON.stringify(parseLine(line, 1))));
    }),
    { numRuns: 2000 },
  );
});

test('readEvents never throws on arbitrary bytes and counts every line', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), async (chunks) => {
      const stats = { lines: 0, events: 0, related: 0, skipped: {}, invalidUtf8: 0 };
      let events = 0;
      for await (const _ of readEvents(Readable.from(chunks.map((c) => Buffer.from(c))), { stats })) events++;
      const newlines = chunks.reduce((n, c) => n + c.filter((b) => b === 10).length, 0);
      const total = chunks.reduce((n, c) => n + c.length, 0);
      assert.equal(events, stats.events);
      assert.ok(stats.lines >= newlines && stats.lines <= newlines + 1, `${stats.lines} lines for ${newlines} newlines, ${total} bytes`);
    }),
    { numRuns: 300 },
  );
});

test('parse time grows linearly with line length (no quadratic corner)', () => {
  const shapes = [
    (n: number) => `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="p" name="${'/a'.repeat(n)}"`,
    (n: number) => `type=AVC msg=audit(1.000:1): ${'a=b '.repeat(n)}`,
    (n: number) => `type=AVC msg=audit(1.000:1): apparmor="DENIED" ${'"'.repeat(n)}`,
    (n: number) => `type=AVC msg=audit(1.000:1): name=${'2F'.repeat(n)}`,
    (n: number) => `Nov 22 10:00:01 ${'h'.repeat(n)}`,
    (n: number) => `type=AVC msg=audit(1.000:1): msg='${"x='".repeat(n)}`,
    (n: number) => `${'['.repeat(n)}`,
    (n: number) => `type=AVC msg=audit(1.000:1): ${'x'.repeat(n)}=`,
  ];
  // CPU time, best of several: wall time on a shared machine measures the neighbours
  const time = (line: string) => {
    let best = Infinity;
    for (let i = 0; i < 7; i++) {
      const t = process.cpuUsage();
      for (let k = 0; k < 10; k++) parseLine(line);
      const used = process.cpuUsage(t);
      best = Math.min(best, (used.user + used.system) * 1000);
    }
    return best;
  };
  for (const shape of shapes) {
    const small = time(shape(1000));
    const large = time(shape(16000)); // 16x the input (still under MAX_LINE_LENGTH)
    // linear would be ~16x; quadratic ~256x. Allow generous noise on a busy machine.
    assert.ok(large < small * 60 + 2_000_000, `${shape(3).slice(0, 60)}: ${small} ns → ${large} ns`);
  }
});
