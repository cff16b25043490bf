// Landlock's audit records (type 1423 LANDLOCK_ACCESS, 1424 LANDLOCK_DOMAIN) in every format the reader
// takes, as DENIED / STATUS events with the blockers mapped to AppArmor's class, operation and mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { eventFromJson, eventToJson, LandlockAttribution, parseKmsgRecord, parseLine, readEvents, type AuditEvent, type RelatedRecord } from '../../src/logs/index.js';
import { blockersMeaning, LANDLOCK_BLOCKERS } from '../../src/logs/landlock.js';

// Lines as the 6.18 kernel of this machine wrote them (dmesg), and the same records in the other framings.
const BODY = 'audit(1796645063.023:6): domain=1e371667b blockers=fs.read_file path="/etc/hostname" dev="vda" ino=612';
const DOMAIN_BODY = 'audit(1796645063.023:4): domain=1e371667b status=allocated mode=enforcing pid=27411 uid=0 exe="/usr/lib/hatter/hatter-launch" comm="hatter-launch"';

function event(line: string): AuditEvent {
  const r = parseLine(line, 7);
  assert.equal(r.kind, 'event', `${line} → ${JSON.stringify(r)}`);
  return (r as { event: AuditEvent }).event;
}

test('a LANDLOCK_ACCESS record reads as a DENIED event in every framing', () => {
  const lines: [string, string][] = [
    [`[45445.545503] audit: type=1423 ${BODY}`, 'dmesg'],
    [`audit: type=1423 ${BODY}`, 'kernel'],
    [`type=UNKNOWN[1423] msg=${BODY}`, 'auditd'],
    [`type=LANDLOCK_ACCESS msg=${BODY}`, 'auditd'],
    [`node=web1 type=LANDLOCK_ACCESS msg=${BODY}`, 'auditd'],
    [`Dec  7 12:04:23 web1 kernel: [45445.545503] audit: type=1423 ${BODY}`, 'syslog'],
    [`2026-12-07T12:04:23.023+00:00 web1 kernel: audit: type=1423 ${BODY}`, 'syslog'],
    [JSON.stringify({ MESSAGE: BODY.replace(/^audit\([^)]*\): /, ''), _AUDIT_TYPE: '1423', _AUDIT_ID: '6', __REALTIME_TIMESTAMP: '1796645063023000' }), 'journald'],
    [JSON.stringify({ MESSAGE: BODY.replace(/^audit\([^)]*\): /, 'LANDLOCK_ACCESS '), _AUDIT_TYPE: '1423', _AUDIT_TYPE_NAME: 'LANDLOCK_ACCESS', _AUDIT_ID: '6', __REALTIME_TIMESTAMP: '1796645063023000' }), 'journald'],
    [JSON.stringify({ MESSAGE: BODY.replace(/^audit\([^)]*\): /, 'AUDIT1423 '), _AUDIT_TYPE: '1423', _AUDIT_ID: '6', __REALTIME_TIMESTAMP: '1796645063023000' }), 'journald'],
  ];
  for (const [line, source] of lines) {
    const e = event(line);
    assert.equal(e.type, 'DENIED', line);
    assert.equal(e.source, source, line);
    assert.equal(e.class, 'file');
    assert.equal(e.operation, 'open');
    assert.equal(e.object.name, '/etc/hostname');
    assert.deepEqual(e.requested?.perms, ['r']);
    assert.deepEqual(e.denied?.perms, ['r']);
    assert.deepEqual(e.landlock, { domain: '1e371667b', blockers: ['fs.read_file'] });
    assert.equal(e.label, undefined, 'the kernel names no profile: serve attributes it');
    assert.deepEqual(e.time, { epoch: 1796645063, millis: 23, serial: 6 });
    assert.deepEqual(e.extra, { dev: 'vda', ino: '612' });
  }
});

test('a LANDLOCK_DOMAIN record reads as a STATUS event with the creator pid', () => {
  for (const line of [`[45445.545440] audit: type=1424 ${DOMAIN_BODY}`, `type=UNKNOWN[1424] msg=${DOMAIN_BODY}`, `type=LANDLOCK_DOMAIN msg=${DOMAIN_BODY}`]) {
    const e = event(line);
    assert.equal(e.type, 'STATUS');
    assert.equal(e.operation, 'landlock_domain');
    assert.equal(e.pid, 27411);
    assert.equal(e.exe, '/usr/lib/hatter/hatter-launch');
    assert.deepEqual(e.landlock, { domain: '1e371667b', status: 'allocated' });
  }
  const gone = event('audit: type=1424 audit(1796644870.411:3): domain=1e3716676 status=deallocated denials=2');
  assert.deepEqual(gone.landlock, { domain: '1e3716676', status: 'deallocated' });
  assert.equal(gone.extra?.['denials'], '2');
  assert.equal(gone.pid, undefined);
});

test('every blocker the kernel writes has a meaning; exact ones a mask, the others none', () => {
  const expected: Record<string, [string, string, string | undefined]> = {
    'fs.execute': ['file', 'exec', 'x'], 'fs.write_file': ['file', 'open', 'w'], 'fs.read_file': ['file', 'open', 'r'],
    'fs.read_dir': ['file', 'open', 'r'], 'fs.remove_dir': ['file', 'rmdir', 'd'], 'fs.remove_file': ['file', 'unlink', 'd'],
    'fs.make_char': ['file', 'mknod', 'c'], 'fs.make_dir': ['file', 'mkdir', 'c'], 'fs.make_reg': ['file', 'mknod', 'c'],
    'fs.make_sock': ['file', 'mknod', 'c'], 'fs.make_fifo': ['file', 'mknod', 'c'], 'fs.make_block': ['file', 'mknod', 'c'],
    'fs.make_sym': ['file', 'symlink', 'c'], 'fs.refer': ['file', 'rename', undefined], 'fs.truncate': ['file', 'truncate', 'w'],
    'fs.ioctl_dev': ['file', 'file_ioctl', undefined], 'fs.change_topology': ['mount', 'mount', undefined],
    'net.bind_tcp': ['net', 'bind', 'bind'], 'net.connect_tcp': ['net', 'connect', 'connect'],
    'scope.abstract_unix_socket': ['unix', 'connect', 'connect'], 'scope.signal': ['signal', 'signal', 'send'],
    'ptrace': ['ptrace', 'ptrace', 'trace'],
  };
  assert.deepEqual([...LANDLOCK_BLOCKERS.keys()].sort(), Object.keys(expected).sort());
  for (const [blocker, [klass, operation, mask]] of Object.entries(expected)) {
    assert.deepEqual(blockersMeaning([blocker]), { class: klass, operation, ...(mask ? { mask } : {}) }, blocker);
  }
  assert.equal(blockersMeaning(['fs.read_file', 'fs.write_file']).mask, 'rw');
  assert.equal(blockersMeaning(['fs.make_reg', 'fs.refer']).mask, undefined, 'one inexact blocker: no mask at all');
  assert.equal(blockersMeaning(['fs.read_file', 'fs.future_right']).mask, undefined);
  assert.deepEqual(blockersMeaning(['fs.future_right']), {});
});

test('net and hex-encoded paths', () => {
  const bind = event('audit: type=1423 audit(1.002:3): domain=1a blockers=net.bind_tcp saddr=127.0.0.1 src=8081');
  assert.equal(bind.class, 'net');
  assert.equal(bind.operation, 'bind');
  assert.equal(bind.object.network?.localPort, 8081);
  assert.equal(bind.object.name, undefined);
  const connect = event('audit: type=1423 audit(1.002:3): domain=1a blockers=net.connect_tcp daddr=10.0.0.1 dest=5432');
  assert.equal(connect.object.network?.foreignPort, 5432);
  assert.deepEqual(connect.requested?.perms, ['connect']);
  const spaced = event('type=UNKNOWN[1423] msg=audit(1.002:3): domain=1a blockers=fs.make_reg path=2F746D702F61206220 dev="vda" ino=1');
  assert.equal(spaced.object.name, '/tmp/a b ');
  assert.deepEqual(spaced.requested?.perms, ['c']);
});

test('a Landlock-typed record without a domain id is not taken as a denial', () => {
  for (const line of [
    'audit: type=1423 audit(1.002:3): blockers=fs.read_file path="/x"',
    'audit: type=1423 audit(1.002:3): domain=not-hex blockers=fs.read_file path="/x"',
    'audit: type=1423 audit(1.002:3): domain=1a blockers=fs.read_file path="/x',
  ]) {
    assert.equal(parseLine(line, 1).kind, 'skip', line);
  }
});

test('the JSON form keeps the Landlock fields (serve --denials-log → hatter logs)', () => {
  const e = { ...event(`audit: type=1423 ${BODY}`), label: undefined };
  const json = eventToJson(e);
  assert.equal(json['landlockDomain'], '1e371667b');
  assert.deepEqual(json['landlockBlockers'], ['fs.read_file']);
  const back = eventFromJson(JSON.parse(JSON.stringify(json)) as Record<string, unknown>, 1);
  assert.deepEqual(back?.landlock, e.landlock);
  assert.deepEqual(back?.requested?.perms, ['r']);
  const line = parseLine(JSON.stringify(json), 2);
  assert.equal(line.kind, 'event');
});

test('repeated Landlock lines read through the line memo give the same events as one by one', async () => {
  const lines: string[] = [];
  for (let k = 0; k < 50; k++) lines.push(`[4544${k}.5] audit: type=1423 audit(17966450${String(k).padStart(2, '0')}.023:${k}): domain=1e371667b blockers=fs.read_file path="/etc/f${k % 3}" dev="vda" ino=612`);
  const stream = readEvents(Readable.from([Buffer.from(lines.join('\n') + '\n')]));
  const read: AuditEvent[] = [];
  for await (const e of stream) read.push(e);
  assert.equal(read.length, 50);
  for (let k = 0; k < 50; k++) assert.deepEqual(read[k], (parseLine(lines[k]!, k + 1) as { event: AuditEvent }).event);
});

const FRAGMENTS = ['audit: ', 'type=1423 ', 'type=1424 ', 'type=UNKNOWN[1423] ', 'type=LANDLOCK_ACCESS ', 'msg=', 'audit(1.2:3): ',
  'domain=', '1e3716676', ' ', 'blockers=', 'fs.read_file', ',', 'net.bind_tcp', 'scope.signal', 'path=', '"/x"', '2F', '"',
  'status=allocated', 'pid=', '12', 'src=', 'saddr=', '=', 'é', '\n'];

test('Landlock-shaped lines never throw and give DENIED events only with a hex domain', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })), { maxLength: 30 }), (parts) => {
      const r = parseLine(parts.join(''), 1);
      assert.ok(r.kind === 'event' || r.kind === 'skip' || r.kind === 'related');
      if (r.kind === 'event' && r.event.landlock) {
        assert.match(r.event.landlock.domain, /^[0-9a-f]{1,16}$/);
        assert.ok(r.event.type === 'DENIED' || r.event.type === 'STATUS');
      }
    }),
    { numRuns: 3000 },
  );
});

test('any list of known blockers of one class maps to the union of their letters', () => {
  const fileExact = [...LANDLOCK_BLOCKERS].filter(([, m]) => m.class === 'file' && m.permission).map(([b]) => b);
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...fileExact), { minLength: 1, maxLength: 6 }), (blockers) => {
      const mask = blockersMeaning(blockers).mask ?? '';
      const letters = new Set(blockers.map((b) => LANDLOCK_BLOCKERS.get(b)!.permission!));
      assert.deepEqual(new Set(mask), letters);
      assert.equal(mask.length, letters.size);
    }),
  );
});

// --- attribution ---


const WORKERS = new Map([[100, 'hatter-demo//bob.localhost'], [200, 'hatter-demo//alice.localhost']]);

function record(line: string): AuditEvent | RelatedRecord {
  const r = parseLine(line, 1);
  if (r.kind === 'skip') assert.fail(`${line}: ${r.message}`);
  return r.kind === 'event' ? r.event : r;
}

function feed(attribution: LandlockAttribution, lines: string[]): AuditEvent[] {
  return lines.flatMap((line) => {
    const r = record(line);
    return 'kind' in r ? attribution.addRelated(r) : attribution.add(r);
  });
}

const denial = (domain: string, serial: number, path: string): string =>
  `audit: type=1423 audit(1796645063.023:${serial}): domain=${domain} blockers=fs.read_file path="${path}" dev="vda" ino=1`;
const allocated = (domain: string, serial: number, pid: number, comm = 'hatter-launch'): string =>
  `audit: type=1424 audit(1796645063.023:${serial}): domain=${domain} status=allocated mode=enforcing pid=${pid} uid=0 exe="/usr/bin/${comm}" comm="${comm}"`;
const syscall = (serial: number, pid: number): string =>
  `audit: type=1300 audit(1796645063.023:${serial}): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=${pid} comm="node" exe="/usr/bin/node"`;

test('a denial is attributed through the creator pid of its domain, held until the domain record comes', () => {
  const a = new LandlockAttribution((pid) => WORKERS.get(pid));
  const out = feed(a, [denial('1a', 5, '/srv/alice/secret'), allocated('1a', 5, 100), denial('1a', 6, '/srv/alice/other')]);
  assert.deepEqual(out.map((e) => [e.label?.text, e.object.name]), [
    ['hatter-demo//bob.localhost', '/srv/alice/secret'], ['hatter-demo//bob.localhost', '/srv/alice/other'],
  ]);
});

test('without the domain record, the SYSCALL pid of a worker attributes the domain; a stranger pid does not', () => {
  const a = new LandlockAttribution((pid) => WORKERS.get(pid));
  assert.deepEqual(feed(a, [denial('2b', 7, '/x'), syscall(7, 555)]), []);
  const out = feed(a, [denial('3c', 8, '/y'), syscall(8, 200), denial('3c', 9, '/z')]);
  assert.deepEqual(out.map((e) => e.label?.text), ['hatter-demo//alice.localhost', 'hatter-demo//alice.localhost']);
});

test('what a record says of itself is not trusted: comm/exe cannot make a stranger domain ours', () => {
  let clock = 0;
  const a = new LandlockAttribution((pid) => WORKERS.get(pid), { retryMs: 3000 }, () => clock);
  const out = feed(a, [denial('4d', 10, '/x'), allocated('4d', 10, 999, 'hatter-launch'), denial('4d', 11, '/y')]);
  assert.deepEqual(out, []);
  clock = 3000;
  assert.deepEqual(a.retry(), []);
  assert.equal(a.unattributed, 2);
  assert.equal(a.size, 1, 'only the domain\'s creator pid is kept');
});

test('a worker denied while starting, before its supervisor lists it, is attributed when it is listed', () => {
  let clock = 0;
  const listed = new Map<number, string>();
  const a = new LandlockAttribution((pid) => listed.get(pid), { retryMs: 3000 }, () => clock);
  assert.deepEqual(feed(a, [denial('6f', 1, '/proc/300/cgroup'), allocated('6f', 1, 300)]), []);
  clock = 1000;
  assert.deepEqual(a.retry(), []);
  listed.set(300, 'hatter-demo//alice.localhost');
  clock = 2000;
  assert.deepEqual(a.retry().map((e) => [e.label?.text, e.object.name]), [['hatter-demo//alice.localhost', '/proc/300/cgroup']]);
  assert.equal(a.unattributed, 0);
});

test('memory stays bounded under a flood of domains and denials', () => {
  const a = new LandlockAttribution(() => undefined, { maxDomains: 64, maxPendingPerDomain: 4 });
  for (let d = 0; d < 5000; d++) {
    for (let k = 0; k < 10; k++) a.add(record(denial(d.toString(16), d * 10 + k, '/x')) as AuditEvent);
    if (d % 2) a.add(record(allocated(d.toString(16), d * 10, 42)) as AuditEvent);
  }
  assert.ok(a.size <= 3 * 64, `${a.size} domains and held denials kept`); // creators, pending domains, waiting denials
});

test('a deallocated domain is forgotten', () => {
  const a = new LandlockAttribution((pid) => WORKERS.get(pid));
  feed(a, [denial('5e', 1, '/x'), allocated('5e', 1, 100)]);
  feed(a, ['audit: type=1424 audit(1796645063.023:2): domain=5e status=deallocated denials=1']);
  assert.equal(a.size, 0);
});

test('/dev/kmsg records: priority gives the facility; userspace writes are facility 1 or more', () => {
  assert.deepEqual(parseKmsgRecord('5,397,46303637775,-;audit: type=1423 audit(1.2:3): domain=1a\n SUBSYSTEM=x\n'), {
    facility: 0, level: 5, sequence: 397, message: 'audit: type=1423 audit(1.2:3): domain=1a',
  });
  assert.equal(parseKmsgRecord('13,398,1,-;audit: type=1423 forged')?.facility, 1);
  assert.equal(parseKmsgRecord('5,1,2,-,caller=T1;text')?.message, 'text');
  for (const bad of ['', ';', 'x,1,2,-;m', '5,1;m', 'audit: type=1423']) assert.equal(parseKmsgRecord(bad), undefined, bad);
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    const r = parseKmsgRecord(text);
    if (r) assert.ok(r.facility >= 0 && r.level >= 0 && r.level < 8);
  }));
});
