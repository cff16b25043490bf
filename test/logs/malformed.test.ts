// Lines whose fields are garbage, protocol numbers and unix addr=none: hatter reads them as libapparmor
// does. Fixed examples always run; generated lines are compared with python3-libapparmor when installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatAalogparse, parseLine, type AuditEvent, type ParsedRecord } from '../../src/logs/index.js';
import { parseWithLibAppArmor } from '../support/libapparmor.js';

const HEADER = 'type=AVC msg=audit(1763776800.123:45): ';
const FIELDS = [
  'apparmor="DENIED"', 'operation="connect"', 'profile="web//bob"', 'pid=4242', 'comm="php-fpm"', 'family="unix"',
  'sock_type="stream"', 'protocol=0', 'requested_mask="send"', 'denied_mask="send"', 'fsuid=33', 'ouid=33',
];

function reason(record: ParsedRecord): string {
  return record.kind === 'skip' ? record.reason : record.kind;
}

function event(record: ParsedRecord): AuditEvent {
  assert.equal(record.kind, 'event', JSON.stringify(record));
  return (record as { event: AuditEvent }).event;
}

/** The `Label: value` lines of the libapparmor view, as an object. */
function view(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of formatAalogparse(line, 'x').split('\n').slice(2)) {
    const colon = row.indexOf(': ');
    if (colon > 0) out[row.slice(0, colon)] = row.slice(colon + 2);
  }
  return out;
}

test('an AppArmor record with a malformed field is skipped as malformed, and invalid in the libapparmor view', () => {
  const cases: [string, RegExp][] = [
    ['pid=abc', /pid= is not a number: 'abc'/],
    ['pid=-5', /pid= is not a number/],
    ['fsuid=x', /fsuid= is not a number/],
    ['requested_mask=', /requested_mask= has no value/],
    ['lport=80x', /lport= is not a number/],
    ['pid="abc"', /pid= is not a number/],
    ['protocol=tcp', /protocol= is not a number: 'tcp'/],
    ['xyz', /unexpected 'xyz'/],
    ['===', /unexpected '==='/],
    ['pid=12a', /pid= is not a number: '12a'/],
    ['=x', /unexpected '=x'/],
  ];
  for (const [garbage, message] of cases) {
    const line = `${HEADER}${FIELDS.slice(0, 4).join(' ')} ${garbage} ${FIELDS.slice(4).join(' ')}`;
    const record = parseLine(line, 3);
    assert.equal(reason(record), 'malformed-field', line);
    assert.match((record as { message: string }).message, message);
    // The view keeps what was read before the bad field, as libapparmor does, and nothing after it.
    const fields = view(line);
    assert.equal(fields['Event type'], 'AA_RECORD_INVALID', line);
    assert.equal(fields['Profile'], 'web//bob', line);
    assert.equal(fields['Command'], undefined, line);
  }
  // A stray word: libapparmor keeps the rest of the line as Info.
  assert.equal(view(`${HEADER}apparmor="DENIED" operation="open" xyz name="/a" pid=5`)['Info'], 'xyz name="/a" pid=5');
});

test('well-formed oddities stay events: quoted numbers, fsuid=-1, unknown keys, error=-13', () => {
  const e = event(parseLine(`${HEADER}${FIELDS.join(' ')} pid="77" fsuid=-1 error=-13 newkey="x" other=bare`));
  assert.equal(e.pid, 77);
  assert.equal(e.fsuid, undefined);
  assert.equal(e.error, 13);
  assert.deepEqual(e.extra, { newkey: 'x', other: 'bare' });
  assert.equal(view(`${HEADER}${FIELDS.join(' ')} error=-13`)['Event type'], 'AA_RECORD_DENIED');
});

test('garbage in other audit records does not make them AppArmor problems', () => {
  // auditd's own records carry words that are not key=value; hatter still takes exe= from a SYSCALL.
  assert.equal(reason(parseLine("type=CRED_ACQ msg=audit(1.000:5): pid=1 uid=0 msg='op=PAM:setcred acct=root exe=\"/usr/sbin/cron\" (hostname=?, addr=?, terminal=cron res=success)'")), 'related');
  const syscall = parseLine('type=SYSCALL msg=audit(1.000:6): arch=c000003e syscall=257 success=no exit=-13 pid=9 comm="x" subj=/usr/bin/x (enforce) exe="/usr/bin/x" key=(null)');
  assert.equal(syscall.kind, 'related');
  assert.equal((syscall as { exe?: string }).exe, '/usr/bin/x');
  assert.equal(reason(parseLine('Nov 22 10:00:01 web01 sshd[77]: Accepted publickey for root')), 'not-apparmor');
});

test('protocol numbers are named as libapparmor names them; unknown ones print unknown(N)', () => {
  const protocol = (value: string) => view(`${HEADER}${FIELDS.slice(0, 6).join(' ')} protocol=${value}`)['Protocol'];
  assert.equal(protocol('6'), 'tcp');
  assert.equal(protocol('06'), 'tcp');
  assert.equal(protocol('58'), 'icmpv6');
  assert.equal(protocol('262'), 'mptcp');
  assert.equal(protocol('99'), 'unknown(99)');
  assert.equal(protocol('300'), 'unknown(300)');
  assert.equal(protocol('"6"'), '6', 'a quoted value is kept as written');
  assert.equal(protocol('"tcp"'), 'tcp');
  const e = event(parseLine(`${HEADER}${FIELDS.slice(0, 6).join(' ')} protocol=99`));
  assert.equal(e.object.network?.protocol, 'unknown(99)');
});

test('unix addr=none: an event without an address in hatter, an invalid record in the libapparmor view', () => {
  const line = `${HEADER}${FIELDS.join(' ')} addr=none peer_addr="@/tmp/.X11-unix/X0" peer="unconfined"`;
  const e = event(parseLine(line));
  assert.equal(e.object.network?.addr, 'none');
  assert.equal(e.object.network?.peerAddr, '@/tmp/.X11-unix/X0');
  const fields = view(line);
  assert.equal(fields['Event type'], 'AA_RECORD_INVALID');
  assert.equal(fields['Denied Mask'], 'send', 'fields before addr=none are kept');
  assert.equal(fields['Peer Addr'], undefined, 'fields after it are not');
  // a socket file named "none" is quoted by the kernel: an ordinary address
  assert.equal(view(`${HEADER}${FIELDS.join(' ')} addr="none"`)['Net Addr'], 'none');
  assert.equal(view(`${HEADER}${FIELDS.join(' ')} addr="none"`)['Event type'], 'AA_RECORD_DENIED');
});

// ---- against the reference ---------------------------------------------------------------------

type ReferenceFields = Record<string, string | number | null>;

/** The reference's record, under the labels of the aalogparse view. */
function reference(lines: string[]): ReferenceFields[] | string {
  return parseWithLibAppArmor<ReferenceFields>(lines, `{'Event type': 'AA_RECORD_' + event, 'Operation': r.operation, 'Mask': r.requested_mask,
      'Denied Mask': r.denied_mask, 'Profile': r.profile, 'Name': r.name, 'Command': r.comm, 'Info': r.info,
      'PID': r.pid or None, 'ErrorCode': r.error_code or None, 'Protocol': r.net_protocol, 'Signal': r.signal}`);
}

const probe = reference([`${HEADER}apparmor="DENIED" operation="open" profile="p" name="/x"`]);
const skip = typeof probe === 'string' ? probe : false;

// Only keys and value forms Debian's libapparmor 3.0.8 knows (no class=, addr=, peer_addr=), so that a
// difference is a difference in reading garbage, not in the version of the format.
const BASE = ['apparmor="DENIED"', 'operation="connect"', 'profile="web//bob"', 'name="/srv/a b"', 'pid=4242', 'comm="php"',
  'family="inet"', 'sock_type="stream"', 'requested_mask="send"', 'denied_mask="send"', 'error=-13', 'signal=hup'];
const GARBAGE = fc.oneof(
  fc.constantFrom('xyz', '===', '=x', 'pid=', 'pid=abc', 'pid=-5', 'pid=12a', 'error=x', 'requested_mask=', 'protocol=tcp',
    'protocol=', 'lport=x', 'fport=', 'info=', '"'),
  fc.nat(70000).map((n) => `protocol=${n}`),
  fc.constantFrom('xyz', 'qq', 'zap=', 'b', 'x=', 'zz=', 'q"x', '=', '=='),
);

test('generated garbage: the same verdict and fields as python3-libapparmor', { skip }, () => {
  const lines = fc.sample(fc.tuple(fc.subarray(BASE, { minLength: 3 }), fc.array(fc.tuple(fc.nat(), GARBAGE), { maxLength: 2 })), { numRuns: 1500, seed: 20261207 })
    .map(([fields, inserts]) => {
      const parts = ['apparmor="DENIED"', ...fields.filter((f) => !f.startsWith('apparmor='))];
      for (const [at, garbage] of inserts) parts.splice(1 + (at % parts.length), 0, garbage);
      return HEADER + parts.join(' ');
    })
    // an unknown key is a version difference, not garbage: 3.0.8 rejects every key it does not know
    .filter((line) => !/(?:^| )(?!(?:apparmor|operation|profile|name|pid|comm|family|sock_type|requested_mask|denied_mask|error|signal|protocol|lport|fport|info)=)[a-z_]+=/.test(line.slice(HEADER.length)));
  const ref = reference(lines);
  assert.ok(typeof ref !== 'string');
  const differences: string[] = [];
  let invalid = 0;
  lines.forEach((line, i) => {
    const expected = ref[i]!;
    const mine = view(line);
    if (expected['Event type'] === 'AA_RECORD_INVALID') invalid++;
    for (const [label, value] of Object.entries(expected)) {
      const want = value === null ? undefined : String(value);
      if (mine[label] !== want) differences.push(`${line}\n  ${label}: hatter ${mine[label]} reference ${want}`);
    }
  });
  assert.ok(invalid > 100 && invalid < lines.length - 100, `the generator should produce both outcomes (${invalid} invalid of ${lines.length})`);
  assert.deepEqual(differences.slice(0, 10), []);
});

test('property: one malformed field in a kernel record always makes it malformed; a well-formed extra field never does', () => {
  const malformed = fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/).filter((w) => !w.includes('=')),
    fc.constantFrom('===', '=x', 'pid=', 'requested_mask=', 'pid=abc', 'pid=-3', 'lport=9z', 'protocol=tcp', 'fsuid=x', 'error=e'),
  );
  const wellFormed = fc.oneof(
    fc.tuple(fc.stringMatching(/^[a-z][a-z_]{2,8}$/), fc.stringMatching(/^[ -~]{0,12}$/).filter((v) => !v.includes('"')))
      .filter(([key]) => !['apparmor', 'operation', 'profile', 'label', 'name', 'type', 'msg'].includes(key))
      .map(([key, value]) => `zz${key}="${value}"`),
    fc.nat(1000).map((n) => `protocol=${n}`),
    fc.constantFrom('error=-13', 'fsuid=-1', 'pid="12"', 'addr=none', 'signal=hup'),
  );
  fc.assert(fc.property(fc.nat(FIELDS.length), malformed, wellFormed, (at, bad, good) => {
    const withBad = [...FIELDS];
    withBad.splice(1 + (at % FIELDS.length), 0, bad);
    assert.equal(reason(parseLine(HEADER + withBad.join(' '))), 'malformed-field', withBad.join(' '));
    assert.equal(view(HEADER + withBad.join(' '))['Event type'], 'AA_RECORD_INVALID');
    const withGood = [...FIELDS];
    withGood.splice(1 + (at % FIELDS.length), 0, good);
    assert.equal(reason(parseLine(HEADER + withGood.join(' '))), 'event', withGood.join(' '));
  }), { numRuns: 2000 });
});
