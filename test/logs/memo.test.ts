// The line memo (memo.ts) must never change what is read: a reader with it and a reader without it give
// the same events, counters and skipped lines, on logs where lines repeat with other digits in every
// place a digit can stand (times, serials, pids, prefixes, but also names, types and numeric fields).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EventReader, eventFilter, newReadStats, Summarizer, SummarySink, type AuditEvent, type EventFilterSpec, type EventType, type SkippedLine,
} from '../../src/logs/index.js';
import { KeptEvents } from '../../src/logs/filter.js';

// '#n' is n digits, filled per line (mostly the same digits, sometimes others); '%n' is n digits that are
// new on every line (where times, serials and pids stand). Everything else is copied.
const PREFIXES = [
  '', 'node=web#1 ', '  \t', 'Nov #2 #2:#2:#2 web#2 kernel: [ #4.#6] audit: ', 'Nov  # #2:#2:#2 host dbus-daemon[#3]: ',
  '%4-%2-%2T%2:%2:%2.%3+00:00 web#1 kernel: audit: ', '[ %5.%6] audit: ', '[#1 audit: ', 'Nov #2 #2:#2:#2 kernel: ',
  'Dec #2 #2:#2:#2 x#1 kernel: [#2] ', 'garbage#2 ', '[#1 ', '#4-#2-#2 #2:#2:#2 h kernel: ', '{"MESSAGE":"',
];
const HEADERS = [
  'type=AVC msg=', 'type=1400 ', 'type=#4 ', 'type=1503 ', 'type=SYSCALL msg=', 'type=USER_AVC msg=', 'type=APPARMOR_DENIED msg=',
  'type=CRED_ACQ msg=', '', 'type=AVC msg=audit(#2.#3:#2): ', 'type=1423 ', 'type=UNKNOWN[1424] msg=', 'type=LANDLOCK_ACCESS msg=',
];
const IDS = ['audit(%10.%3:%4): ', 'audit(%10.%3:%4): ', 'audit(#1.#1:#1): ', 'audit(#12.#6:#7):', 'audit(#3.#3:0): ', 'audit(#2.:#2): ', 'audit(#2.#3:#2) '];
const FIELDS = [
  'apparmor="DENIED"', 'apparmor="ALLOWED"', 'apparmor="AUDIT"', 'operation="open"', 'operation="change_hat"', 'operation="capable"',
  'class="file"', 'class="net"', 'profile="apache2//a#1.org"', 'profile="php-fpm//pool#2"', 'label="x//y"', 'name="/srv/a pid=#3 b"',
  'name="/srv/#2/x"', 'name=2F612062', 'name=2F61F', 'pid=%5', 'pid=%5', 'pid=%1', 'pid=#1', 'pid="#3"', 'pid=-#2', 'pid=#3abc', 'pid=', 'peer_pid=#3',
  'comm="php#1"', 'requested_mask="r"', 'denied_mask="rw"', 'fsuid=#2', 'ouid=#2', 'capability=#1 capname="setuid"',
  'info="hat not found" error=-#1', "msg='apparmor=\"DENIED\" operation=\"dbus_method_call\" pid=#3 label=\"x\"'", 'exe="/usr/bin/x#1"',
  'arch=c000003e syscall=#3', 'family="inet" sock_type="stream" protocol=#1', 'signal=#2 peer="w//s#1"', 'name="unterminated',
  'domain=1e#7', 'blockers=fs.read_file', 'blockers=fs.write_file,fs.truncate', 'status=allocated', 'path="/srv/#2/x"',
  'name="é#1"', 'x=]', 'name="a\0#1"', 'target="p//null-#2"', 'ppid=#1 pid=#4 auid=#3', 'pid=#2 pid=#2', 'REJECTING r access to /x (a(#3) profile p active h)',
  'fsuid=%3', 'ouid=%1', 'fsuid=-#1', 'ouid="#2"', 'fsuid=#2x', 'name="/a ouid=#2"', 'fsuid=#2 fsuid=%3', 'ouid=', 'FSUID="root" OUID="#1"', 'euid=#2 suid=#2',
  'xyz#1', '===', 'protocol=tcp', 'protocol=#3', 'addr=none', 'peer_addr=none', '"', 'lport=#2x', 'subj=/x (enforce)',
];
const SUFFIXES = ['', '', '', '\x1dFSUID="www-data" OUID="root"', '\r', ' ', '"}'];

/** A line shape: placeholders where digits go. */
const anyShape = fc.tuple(
  fc.constantFrom(...PREFIXES), fc.constantFrom(...HEADERS), fc.constantFrom(...IDS),
  fc.array(fc.constantFrom(...FIELDS), { maxLength: 9 }), fc.constantFrom(...SUFFIXES),
).map(([prefix, header, id, fields, suffix]) => `${prefix}${header}${id}${fields.join(' ')}${suffix}`);

/** Shapes of the lines the memo is for (kernel AVC records in the common framings), to make sure it is exercised. */
const commonShape = fc.tuple(
  fc.constantFrom(PREFIXES[0]!, PREFIXES[3]!, PREFIXES[5]!, PREFIXES[6]!), fc.constantFrom('type=AVC msg=', 'type=1400 ', 'type=SYSCALL msg='),
  fc.subarray(['apparmor="DENIED"', 'operation="open"', 'class="file"', 'profile="apache2//a#1.org"', 'name="/srv/#2/x"', 'pid=%5', 'comm="php#1"', 'denied_mask="rw"', 'fsuid=%1', 'ouid=%1']),
).map(([prefix, header, fields]) => `${prefix}${header}audit(%10.%3:%4): ${fields.join(' ')}`);

/** Records of one event in several framings under the same serial (mostly 7): correlation and release order. */
const correlatedShape = fc.tuple(
  fc.constantFrom(PREFIXES[0]!, PREFIXES[3]!), fc.constantFrom('type=AVC msg=', 'type=1400 ', 'type=SYSCALL msg='),
  fc.subarray(['apparmor="DENIED"', 'operation="open"', 'profile="apache2//a#1.org"', 'name="/srv/#1/x"', 'pid=%3', 'exe="/usr/bin/x#1"', 'fsuid=%1', 'ouid=%1']),
).map(([prefix, header, fields]) => `${prefix}${header}audit(1700000000.#1:#1): ${fields.join(' ')}`);

const shape = fc.oneof(anyShape, commonShape, correlatedShape);

/** xorshift32, for the digits. */
function digits(seed: number): (kind: string, n: number) => string {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const random = (n: number) => Array.from({ length: n }, () => String(next() % 10)).join('');
  // '#': mostly the same digits (lines that repeat except in some places), '%': new digits
  return (kind, n) => (kind === '#' && next() % 8 !== 0 ? '7'.repeat(n) : random(n));
}

function fill(template: string, digitsOf: (kind: string, n: number) => string): string {
  return template.replace(/([#%])(\d+)/g, (_, kind: string, n: string) => digitsOf(kind, Number(n)));
}

/** A generated log (lines of a few shapes, repeated with other digits) and where to cut it into chunks. */
const anyLog = fc.tuple(
  fc.array(shape, { minLength: 1, maxLength: 8 }),
  fc.array(fc.nat(), { minLength: 1, maxLength: 300, size: 'max' }),
  fc.nat(),
  fc.array(fc.nat(), { maxLength: 3 }),
).map(([shapes, picks, seed, cutSeeds]) => {
  const digitsOf = digits(seed);
  const lines = picks.map((k) => fill(shapes[k % shapes.length]!, digitsOf));
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  return { bytes, cuts: cutSeeds.map((c) => c % bytes.length) };
});

interface Read {
  readonly events: readonly AuditEvent[];
  readonly stats: ReturnType<typeof newReadStats>;
  readonly skipped: readonly SkippedLine[];
  readonly hits: number;
}

function read(bytes: Buffer, cuts: readonly number[], memo: boolean): Read {
  const stats = newReadStats();
  const skipped: SkippedLine[] = [];
  const reader = new EventReader({ memo, stats, file: 'audit.log', onSkip: (s) => skipped.push(s) });
  const events: AuditEvent[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    events.push(...reader.push(bytes.subarray(from, Math.max(from, cut))));
    from = Math.max(from, cut);
  }
  events.push(...reader.push(bytes.subarray(from)), ...reader.end());
  return { events, stats, skipped, hits: reader.memoHits };
}

test('the line memo changes nothing: events, counters and skipped lines are those of parsing every line', () => {
  let hits = 0;
  fc.assert(
    fc.property(anyLog, ({ bytes, cuts }) => {
      const withMemo = read(bytes, cuts, true);
      const without = read(bytes, cuts, false);
      hits += withMemo.hits;
      assert.equal(without.hits, 0);
      assert.deepEqual(withMemo.events, without.events);
      assert.deepEqual(withMemo.stats, without.stats);
      assert.deepEqual(withMemo.skipped, without.skipped);
    }),
    { numRuns: 300 },
  );
  // the property was tested on lines the memo did take, not only on ones it passed to the scanner
  assert.ok(hits > 1000, `memo hits: ${hits}`);
});

/** Read into a SummarySink (memo on: repeated lines are counted without events). */
function summaryThroughSink(bytes: Buffer, cuts: readonly number[], filter: EventFilterSpec) {
  const stats = newReadStats();
  const skipped: SkippedLine[] = [];
  const summarizer = new Summarizer({ floodPerSecond: 2, changeHatLoop: 3 });
  const sink = new SummarySink(summarizer, filter);
  let repeats = 0;
  const counting = { event: (e: AuditEvent) => sink.event(e), repeat: (...args: Parameters<SummarySink['repeat']>) => { repeats++; sink.repeat(...args); } };
  const reader = new EventReader({ stats, file: 'audit.log', onSkip: (s) => skipped.push(s), sink: counting });
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    assert.deepEqual(reader.push(bytes.subarray(from, Math.max(from, cut))), []);
    from = Math.max(from, cut);
  }
  reader.push(bytes.subarray(from));
  reader.end();
  return { summary: summarizer.result(), denied: sink.denied, stats, skipped, repeats };
}

/** Every line parsed, every event built, filtered and added one by one. */
function summaryOfEvents(bytes: Buffer, cuts: readonly number[], filter: EventFilterSpec) {
  const { events, stats, skipped } = read(bytes, cuts, false);
  const summarizer = new Summarizer({ floodPerSecond: 2, changeHatLoop: 3 });
  const kept = new KeptEvents(eventFilter(filter), (e) => summarizer.add(e));
  kept.take(events);
  return { summary: summarizer.result(), denied: kept.denied, stats, skipped };
}

const anyFilter: fc.Arbitrary<EventFilterSpec> = fc.record({
  types: fc.subarray<EventType>(['DENIED', 'ALLOWED', 'AUDIT']),
  profile: fc.constantFrom('apache2//*', 'php-fpm//**', 'x//y', '**'),
  // epochs in the logs are 10 random digits (%10) or 7777777777 (#): a bound between drops some of each
  since: fc.integer({ min: 0, max: 9_999_999_999 }).map((s) => s * 1000),
}, { requiredKeys: [] });

test('reading into a summary sink gives the summary of every event parsed, filtered and added', () => {
  let repeats = 0;
  fc.assert(
    fc.property(anyLog, fc.oneof(fc.constant({}), anyFilter), ({ bytes, cuts }, filter) => {
      const sunk = summaryThroughSink(bytes, cuts, filter);
      const built = summaryOfEvents(bytes, cuts, filter);
      repeats += sunk.repeats;
      assert.deepEqual(sunk.summary, built.summary);
      assert.equal(sunk.denied, built.denied);
      assert.deepEqual(sunk.stats, built.stats);
      assert.deepEqual(sunk.skipped, built.skipped);
    }),
    { numRuns: 300 },
  );
  // the sink took many lines without their events
  assert.ok(repeats > 1000, `repeats: ${repeats}`);
});

test('repeated lines are recognized, with their own time, serial, pid and source', () => {
  const lines = [
    'type=AVC msg=audit(1700000000.100:10): apparmor="DENIED" operation="open" profile="a" name="/x" pid=11 comm="c" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
    'Nov 22 02:00:00 web01 kernel: [   10.010000] audit: type=1400 audit(1700000001.200:11): apparmor="DENIED" operation="open" profile="a" name="/x" pid=22 comm="c" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
    'Nov 22 02:00:09 web01 kernel: [   19.910000] audit: type=1400 audit(1700000002.345:12): apparmor="DENIED" operation="open" profile="a" name="/x" pid=3 comm="c" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
    'type=AVC msg=audit(1700000003.400:13): apparmor="DENIED" operation="open" profile="a" name="/x" pid=44 comm="c" requested_mask="r" denied_mask="r" fsuid=33 ouid=0',
    // a digit outside the masked runs: another line, not a repeat
    'type=AVC msg=audit(1700000003.500:14): apparmor="DENIED" operation="open" profile="a" name="/y" pid=44 comm="c" requested_mask="r" denied_mask="r" fsuid=34 ouid=0',
  ];
  const result = read(Buffer.from(`${lines.join('\n')}\n`), [], true);
  assert.equal(result.hits, 2); // lines 3 and 4 repeat lines 2 and 1
  assert.deepEqual(result.events.map((e) => [e.line, e.source, e.pid, e.time?.epoch, e.time?.millis, e.time?.serial, e.object.name, e.fsuid]), [
    [1, 'auditd', 11, 1700000000, 100, 10, '/x', 33],
    [2, 'syslog', 22, 1700000001, 200, 11, '/x', 33],
    [3, 'syslog', 3, 1700000002, 345, 12, '/x', 33],
    [4, 'auditd', 44, 1700000003, 400, 13, '/x', 33],
    [5, 'auditd', 44, 1700000003, 500, 14, '/y', 34],
  ]);
});

test('a pid= inside a quoted value is not the pid: lines that differ there are different lines', () => {
  const line = (n: string, pid: string) => `type=AVC msg=audit(1700000000.100:10): apparmor="DENIED" operation="open" profile="a" name="/a pid=${n}" pid=${pid} comm="c"`;
  const result = read(Buffer.from(`${[line('1', '5'), line('2', '5'), line('2', '6')].join('\n')}\n`), [], true);
  assert.deepEqual(result.events.map((e) => [e.object.name, e.pid]), [['/a pid=1', 5], ['/a pid=2', 5], ['/a pid=2', 6]]);
  assert.equal(result.hits, 0, 'the first ` pid=` is inside quotes: the scanner did not read it as the pid, so no template');
});

test('fsuid and ouid are masked like the pid, whatever their length: owner follows each line', () => {
  const line = (serial: number, pid: string, fsuid: string, ouid: string) =>
    `type=AVC msg=audit(1700000000.${serial}:${serial}): apparmor="DENIED" operation="open" profile="a" name="/x" pid=${pid} comm="c" requested_mask="r" denied_mask="r" fsuid=${fsuid} ouid=${ouid}`;
  const lines = [line(100, '11', '33', '33'), line(200, '12345', '1005', '0'), line(300, '7', '0', '0'), line(400, '8', '4294967295', '4294967295')];
  const result = read(Buffer.from(`${lines.join('\n')}\n`), [], true);
  assert.equal(result.hits, 3, 'one kind of line: the digits that differ are all masked');
  assert.deepEqual(result.events.map((e) => [e.pid, e.fsuid, e.ouid, e.owner]), [
    [11, 33, 33, true], [12345, 1005, 0, false], [7, 0, 0, true], [8, 4294967295, 4294967295, true],
  ]);
  assert.deepEqual(result.events, read(Buffer.from(`${lines.join('\n')}\n`), [], false).events);
});
