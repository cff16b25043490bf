// readEvents over byte streams: chunk boundaries anywhere, serial correlation, bounded lines, bad bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { EventReader, newReadStats, readEvents, MAX_LINE_LENGTH, type AuditEvent } from '../../src/logs/index.js';

const LINES = [
  'type=AVC msg=audit(1763776800.100:10): apparmor="DENIED" operation="open" profile="apache2//a.org" name="/srv/b.org/x" pid=1 comm="apache2" requested_mask="r" denied_mask="r" fsuid=33 ouid=33',
  'type=SYSCALL msg=audit(1763776800.100:10): arch=c000003e syscall=257 success=no exit=-13 pid=1 comm="apache2" exe="/usr/sbin/apache2" subj=apache2//a.org key=(null)',
  'type=PROCTITLE msg=audit(1763776800.100:10): proctitle=2F7573722F7362696E2F617061636865322D6B7374617274',
  'Nov 22 10:00:01 web01 kernel: [ 12.5] audit: type=1400 audit(1763776801.200:11): apparmor="ALLOWED" operation="capable" class="cap" profile="php-fpm//shop" pid=2 comm="php-fpm8.2" capability=1  capname="dac_override"',
  '',
  'garbage line',
  '[ 13.0] audit: type=1400 audit(1763776802.300:12): apparmor="DENIED" operation="exec" class="file" profile="php-fpm//shop" name="/usr/bin/curl" pid=3 comm="php-fpm8.2" requested_mask="x" denied_mask="x" fsuid=1001 ouid=0 target="php-fpm//shop//null-/usr/bin/curl"',
];
const TEXT = `${LINES.join('\r\n')}\n`;

async function collect(chunks: (string | Buffer)[], options = {}): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const e of readEvents(Readable.from(chunks), options)) events.push(e);
  return events;
}

function summary(events: AuditEvent[]): string[] {
  return events.map((e) => `${e.line}:${e.type}:${e.label?.text}:${e.operation}:${e.exe ?? ''}`);
}

test('events come out the same wherever the chunks split the bytes', async () => {
  const whole = await collect([Buffer.from(TEXT)]);
  assert.deepEqual(summary(whole), [
    '1:DENIED:apache2//a.org:open:/usr/sbin/apache2',
    '4:ALLOWED:php-fpm//shop:capable:',
    '7:DENIED:php-fpm//shop:exec:',
  ]);
  const bytes = Buffer.from(TEXT);
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const split = await collect([bytes.subarray(0, cut), bytes.subarray(cut)]);
    assert.deepEqual(summary(split), summary(whole), `split at ${cut}`);
  }
  const byteByByte = await collect([...bytes].map((b) => Buffer.from([b])));
  assert.deepEqual(summary(byteByByte), summary(whole));
});

test('the SYSCALL record of the same serial supplies exe; stats count every line', async () => {
  const stats = newReadStats();
  const events = await collect([TEXT], { stats, file: 'audit.log' });
  assert.equal(events[0]!.exe, '/usr/sbin/apache2');
  assert.equal(events[0]!.file, 'audit.log');
  assert.equal(stats.lines, 7);
  assert.equal(stats.events, 3);
  assert.equal(stats.related, 2);
  assert.deepEqual(stats.skipped, { empty: 1, 'unknown-prefix': 1 });
});

test('events leave in line order: an event that is not held releases the held auditd events first', async () => {
  const lines = [
    LINES[0]!, // auditd, serial 10: held for its SYSCALL record
    'Nov 22 10:00:00 web01 kernel: audit: type=1400 audit(1763776800.100:10): apparmor="DENIED" operation="open" profile="apache2//a.org" name="/srv/c.org/y" pid=1 comm="apache2"',
    LINES[1]!, // the SYSCALL of serial 10, after the held event was released: not correlated
  ];
  const stats = newReadStats();
  const events = await collect([`${lines.join('\n')}\n`], { stats });
  assert.deepEqual(events.map((e) => [e.line, e.source, e.exe]), [[1, 'auditd', undefined], [2, 'syslog', undefined]]);
  assert.equal(stats.related, 0);
  assert.deepEqual(stats.skipped, { 'not-apparmor': 1 });
});

test('a line without a final newline is still read', async () => {
  const events = await collect([LINES[0]!]);
  assert.equal(events.length, 1);
});

test('an endless line is dropped while reading (bounded memory) and counted; reading goes on', async () => {
  const stats = newReadStats();
  const skipped: string[] = [];
  const reader = new EventReader({ stats, onSkip: (s) => skipped.push(`${s.line}:${s.reason}`) });
  const events: AuditEvent[] = [];
  events.push(...reader.push(`${LINES[0]}\n`));
  const junk = Buffer.alloc(256 * 1024, 0x41);
  for (let i = 0; i < 8; i++) events.push(...reader.push(junk)); // 2 MiB without a newline
  events.push(...reader.push(`\n${LINES[3]}\n`));
  events.push(...reader.end());
  assert.equal(events.length, 2);
  assert.deepEqual(skipped, ['2:line-too-long']);
  assert.ok(MAX_LINE_LENGTH < junk.length * 8);
});

test('invalid UTF-8 is read leniently and counted, NUL bytes skip the line', async () => {
  const stats = newReadStats();
  const bad = Buffer.concat([
    Buffer.from('type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="p" name="/srv/'),
    Buffer.from([0xff, 0xfe, 0xc3]),
    Buffer.from('" pid=1\n'),
    Buffer.from('type=AVC msg=audit(1.000:2): apparmor="DENIED" operation="open" profile="p\0" name="/x"\n'),
  ]);
  const events = await collect([bad], { stats });
  assert.equal(events.length, 1);
  assert.match(events[0]!.object.name!, /^\/srv\/\uFFFD/);
  assert.equal(stats.invalidUtf8, 1);
  assert.equal(stats.skipped['nul-byte'], 1);
});

test('NUL bytes and bad UTF-8 in the middle of a chunk affect only their own lines', async () => {
  const stats = newReadStats();
  const good = (n: number) => `type=AVC msg=audit(1.000:${n}): apparmor="DENIED" operation="open" profile="p" name="/ok${n}"\n`;
  const chunk = Buffer.concat([
    Buffer.from(good(1) + good(2)),
    Buffer.from('type=AVC msg=audit(1.000:3): apparmor="DENIED" operation="open" profile="p" name="/a\0b"\n'),
    Buffer.from(good(4)),
    Buffer.concat([Buffer.from('type=AVC msg=audit(1.000:5): apparmor="DENIED" operation="open" profile="p" name="/'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]),
    Buffer.from(good(6) + good(7)),
  ]);
  const events = await collect([chunk], { stats });
  assert.deepEqual(events.map((e) => e.time?.serial), [1, 2, 4, 5, 6, 7]);
  assert.equal(stats.skipped['nul-byte'], 1);
  assert.equal(stats.invalidUtf8, 1);
});

test('a large chunk read in pieces gives exactly what reading one line at a time gives', async () => {
  // Lines of every kind: ASCII (decoded as latin1), UTF-8 (é, 😀), invalid UTF-8, NUL, empty, CRLF, and
  // long ones, so that the reader's piece boundaries land everywhere, including on a line longer than a piece.
  const pool: Buffer[] = [
    ...LINES.map((l) => Buffer.from(l)),
    Buffer.from('type=AVC msg=audit(1.000:7): apparmor="DENIED" operation="open" profile="p//é" name="/srv/😀 x" pid=1'),
    Buffer.concat([Buffer.from('type=AVC msg=audit(1.000:8): apparmor="DENIED" operation="open" profile="p" name="/'), Buffer.from([0xff, 0xc3]), Buffer.from('"')]),
    Buffer.from('type=AVC msg=audit(1.000:9): apparmor="DENIED" operation="open" profile="p" name="/a\0b"'),
    Buffer.from(`type=AVC msg=audit(1.000:10): apparmor="DENIED" operation="open" profile="p" name="/${'x'.repeat(50_000)}"\r`),
    Buffer.from(`type=AVC msg=audit(1.000:11): apparmor="DENIED" operation="open" profile="p" name="/${'y'.repeat(MAX_LINE_LENGTH)}"`),
  ];
  const normalized = (events: AuditEvent[], stats: ReturnType<typeof newReadStats>) => JSON.stringify({ events, stats });
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(pool.length - 1), { minLength: 1, maxLength: 600 }), fc.nat(), async (picks, seed) => {
      const lines = picks.map((k) => pool[k]!);
      const whole = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      const oneByOne = newReadStats();
      const reference = new EventReader({ stats: oneByOne });
      const expected: AuditEvent[] = [];
      for (const line of lines) expected.push(...reference.push(Buffer.concat([line, Buffer.from('\n')])));
      expected.push(...reference.end());
      // the same bytes in one or two large chunks, cut anywhere
      const cut = seed % whole.length;
      const chunked = newReadStats();
      const reader = new EventReader({ stats: chunked });
      const actual = [...reader.push(whole.subarray(0, cut)), ...reader.push(whole.subarray(cut)), ...reader.end()];
      assert.equal(normalized(actual, chunked), normalized(expected, oneByOne));
    }),
    { numRuns: 40 },
  );
});
