// parseLine over every source format, with lines written for hatter (not copied from any corpus).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLine, type AuditEvent, type ParsedRecord } from '../../src/logs/index.js';

function event(record: ParsedRecord): AuditEvent {
  assert.equal(record.kind, 'event', `expected an event, got ${JSON.stringify(record)}`);
  return (record as { event: AuditEvent }).event;
}

const BODY = 'apparmor="DENIED" operation="open" profile="apache2//www.example.com" name="/srv/www/other.org/secret.txt" pid=4242 comm="apache2" requested_mask="r" denied_mask="r" fsuid=33 ouid=0';

test('auditd raw: type=AVC with msg=audit(epoch.millis:serial)', () => {
  const e = event(parseLine(`type=AVC msg=audit(1763776800.123:4567): ${BODY}`, 7, 'audit.log'));
  assert.equal(e.type, 'DENIED');
  assert.equal(e.operation, 'open');
  assert.equal(e.class, 'file');
  assert.equal(e.classInferred, true);
  assert.equal(e.label?.text, 'apache2//www.example.com');
  assert.deepEqual(e.label?.path, ['apache2', 'www.example.com']);
  assert.equal(e.object.name, '/srv/www/other.org/secret.txt');
  assert.deepEqual(e.requested?.perms, ['r']);
  assert.equal(e.denied?.raw, 'r');
  assert.equal(e.fsuid, 33);
  assert.equal(e.ouid, 0);
  assert.equal(e.owner, false);
  assert.equal(e.pid, 4242);
  assert.equal(e.comm, 'apache2');
  assert.deepEqual(e.time, { epoch: 1763776800, millis: 123, serial: 4567 });
  assert.equal(e.source, 'auditd');
  assert.equal(e.line, 7);
  assert.equal(e.file, 'audit.log');
});

test('auditd with node= prefix and numeric type=1400', () => {
  const e = event(parseLine(`node=web01 type=1400 msg=audit(1763776800.001:9): ${BODY}`));
  assert.equal(e.source, 'auditd');
  assert.equal(e.time?.serial, 9);
});

test('auditd enriched: fields after the 0x1d separator give user names', () => {
  const line = `type=AVC msg=audit(1763776800.500:77): apparmor="ALLOWED" operation="mknod" profile="php-fpm//shop" name="/srv/shop/cache/x.tmp" pid=99 comm="php-fpm8.2" requested_mask="c" denied_mask="c" fsuid=1001 ouid=1001\x1dFSUID="shop" OUID="shop"`;
  const e = event(parseLine(line));
  assert.equal(e.type, 'ALLOWED');
  assert.equal(e.fsuid, 1001);
  assert.equal(e.fsuidName, 'shop');
  assert.equal(e.ouidName, 'shop');
  assert.equal(e.owner, true);
  assert.deepEqual(e.label?.path, ['php-fpm', 'shop']);
});

test('6.12 kernel line with class="file" (which Debian 12\'s libapparmor rejects)', () => {
  const e = event(parseLine(`[   42.000001] audit: type=1400 audit(1763776801.010:31): apparmor="DENIED" operation="open" class="file" profile="worker//siteA" name="/tmp/t/siteB/b.txt" pid=178 comm="worker" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`));
  assert.equal(e.class, 'file');
  assert.equal(e.classInferred, false);
  assert.equal(e.source, 'dmesg');
  assert.deepEqual(e.label?.path, ['worker', 'siteA']);
  assert.equal(e.owner, true);
});

test('syslog prefixes: BSD dates with and without fractions and zones, RFC 3339, ISO with a space', () => {
  const prefixes = [
    'Nov 22 10:00:01 web01 kernel: [ 1234.567890] audit: ',
    'Nov  2 10:00:01 web01 kernel: audit: ',
    'Nov  2 10:00:01.123456 web01 kernel: ',
    'Nov  2 10:00:01+01:00 web01 kernel: [ 1.000] ',
    'Nov  2 10:00:01.5-05:00 web01 kernel: audit: ',
    '2026-11-22T10:00:01.123456+01:00 web01 kernel: audit: ',
    '2026-11-22T10:00:01Z web01 kernel: ',
    '2026-11-22 10:00:01+08:00 web01 kernel: [  99.1] ',
  ];
  for (const prefix of prefixes) {
    const e = event(parseLine(`${prefix}type=1400 audit(1763776800.123:4567): ${BODY}`));
    assert.equal(e.source, 'syslog', prefix);
    assert.equal(e.label?.text, 'apache2//www.example.com', prefix);
    assert.equal(e.time?.serial, 4567, prefix);
  }
});

test('dmesg and bare kernel lines', () => {
  assert.equal(event(parseLine(`[ 1597.774866] audit: type=1400 audit(1763776800.123:4567): ${BODY}`)).source, 'dmesg');
  assert.equal(event(parseLine(`[Sun Nov 22 10:00:01 2026] audit: type=1400 audit(1763776800.123:4567): ${BODY}`)).source, 'dmesg');
  assert.equal(event(parseLine(`audit: type=1400 audit(1763776800.123:4567): ${BODY}`)).source, 'kernel');
  // old kernels: audit(...) first, the type inside the body
  const old = event(parseLine('Nov 22 10:00:01 web01 kernel: audit(1189201672.746:537): type=1503 operation="file_lock" requested_mask="k" denied_mask="k" name="/var/run/app.tdb" pid=4316 profile="/usr/sbin/app"'));
  assert.equal(old.type, 'DENIED');
  assert.deepEqual(old.denied?.perms, ['k']);
});

test('journalctl -o json: kernel transport, audit transport, and MESSAGE as a byte array', () => {
  const kernel = JSON.stringify({ __REALTIME_TIMESTAMP: '1763776800123456', _TRANSPORT: 'kernel', MESSAGE: `audit: type=1400 audit(1763776800.123:4567): ${BODY}` });
  const k = event(parseLine(kernel));
  assert.equal(k.source, 'journald');
  assert.equal(k.time?.serial, 4567);
  const audit = JSON.stringify({ _TRANSPORT: 'audit', _AUDIT_TYPE_NAME: 'AVC', _AUDIT_ID: '88', _SOURCE_REALTIME_TIMESTAMP: '1763776800250000', MESSAGE: `AVC ${BODY}` });
  const a = event(parseLine(audit));
  assert.equal(a.type, 'DENIED');
  assert.deepEqual(a.time, { epoch: 1763776800, millis: 250, serial: 88 });
  const bytes = [...Buffer.from(`audit: type=1400 audit(1763776800.123:4568): ${BODY.replace('secret.txt', 'caf\u00e9\xff.txt')}`, 'latin1')];
  const b = event(parseLine(JSON.stringify({ MESSAGE: bytes })));
  assert.equal(b.time?.serial, 4568);
  assert.match(b.object.name ?? '', /^\/srv\/www\/other\.org\/caf/);
  const bad = parseLine('{"MESSAGE": 12}');
  assert.equal(bad.kind, 'skip');
  assert.equal((bad as { reason: string }).reason, 'bad-journal-json');
  assert.equal((parseLine('{not json') as { reason: string }).reason, 'bad-journal-json');
});

test('dbus-daemon lines, plain and as USER_AVC with msg=\'...\'', () => {
  const plain = event(parseLine('Nov 22 10:00:01 web01 dbus-daemon[812]: apparmor="DENIED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/login1" interface="org.freedesktop.login1.Manager" member="PowerOff" mask="send" name="org.freedesktop.login1" pid=3001 label="php-fpm//shop" peer_pid=1 peer_label="unconfined"'));
  assert.equal(plain.source, 'dbus');
  assert.equal(plain.class, 'dbus');
  assert.deepEqual(plain.object.dbus, { bus: 'system', path: '/org/freedesktop/login1', interface: 'org.freedesktop.login1.Manager', member: 'PowerOff' });
  assert.deepEqual(plain.denied?.perms, ['send']);
  assert.equal(plain.object.peer, 'unconfined');
  assert.equal(plain.object.peerPid, 1);
  assert.ok(plain.time, 'the syslog date gives the time when there is no audit header');
  const user = event(parseLine(`type=USER_AVC msg=audit(1763776800.900:12): pid=812 uid=102 auid=4294967295 ses=4294967295 msg='apparmor="DENIED" operation="dbus_bind" bus="session" name="org.example.Shop" mask="bind" pid=3002 label="php-fpm//shop" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'`));
  assert.equal(user.pid, 3002, 'the daemon\'s own pid before msg= is not the subject');
  assert.equal(user.exe, '/usr/bin/dbus-daemon');
  assert.equal(user.object.network, undefined, 'addr=? in the audit trailer is not a socket address');
});

test('the old REJECTING/PERMITTING/AUDITING text format with an active hat', () => {
  const r = event(parseLine('type=APPARMOR msg=audit(1157215966.604:46): REJECTING r access to /srv/www/b.org/index.php (httpd2-prefork(7902) profile /usr/sbin/httpd2-prefork active www.a.org)'));
  assert.equal(r.type, 'DENIED');
  assert.deepEqual(r.label?.path, ['/usr/sbin/httpd2-prefork', 'www.a.org']);
  assert.equal(r.object.name, '/srv/www/b.org/index.php');
  assert.deepEqual(r.denied?.perms, ['r']);
  assert.equal(r.pid, 7902);
  assert.equal(r.comm, 'httpd2-prefork');
  const p = event(parseLine('type=APPARMOR msg=audit(1157215966.604:47): PERMITTING link access from /tmp/a to /tmp/b (ln(11) profile /bin/x active /bin/x)'));
  assert.equal(p.type, 'ALLOWED');
  assert.equal(p.operation, 'link');
  assert.equal(p.object.target, '/tmp/b');
  assert.deepEqual(p.label?.path, ['/bin/x'], 'active == profile means no hat');
  const a = event(parseLine('type=APPARMOR msg=audit(1157215966.604:48): AUDITING mr access to /lib/libc.so.6 (sh(12) profile /bin/x active HANDLING_UNTRUSTED_INPUT)'));
  assert.equal(a.type, 'AUDIT');
  assert.deepEqual(a.requested?.perms, ['m', 'r']);
  const s = event(parseLine('type=APPARMOR msg=audit(1157215966.604:49): REJECTING mkdir on /srv/new (sh(13) profile /bin/x active /bin/x)'));
  assert.equal(s.operation, 'mkdir');
  const hint = event(parseLine('type=APPARMOR msg=audit(1157215966.604:50): LOGPROF-HINT unknown_hat www.c.org pid=27764 profile=/usr/sbin/httpd2-prefork active=/usr/sbin/httpd2-prefork '));
  assert.equal(hint.type, 'HINT');
  assert.equal(hint.operation, 'unknown_hat');
  assert.equal(hint.object.target, 'www.c.org');
});

test('hex-encoded values: names with spaces, profiles, comm', () => {
  const hex = (s: string) => Buffer.from(s).toString('hex').toUpperCase();
  const e = event(parseLine(`type=AVC msg=audit(1763776800.123:1): apparmor="DENIED" operation="open" profile=${hex('/opt/my app/bin/run')} name=${hex('/srv/a "quoted" name')} pid=1 comm=${hex('my prog')} requested_mask="r" denied_mask="r" fsuid=0 ouid=0`));
  assert.equal(e.label?.text, '/opt/my app/bin/run');
  assert.equal(e.object.name, '/srv/a "quoted" name');
  assert.equal(e.comm, 'my prog');
  const utf8 = event(parseLine(`type=AVC msg=audit(1763776800.123:2): apparmor="DENIED" operation="open" profile="p" name=${hex('/srv/café')} pid=1`));
  assert.equal(utf8.object.name, '/srv/café');
});

test('quoted values containing = and spaces, and values containing //', () => {
  const e = event(parseLine('type=AVC msg=audit(1763776800.123:1): apparmor="DENIED" operation="mount" class="mount" info="failed flags match" error=-13 profile="/usr/bin/app" name="/mnt/x=y z/" pid=5 comm="app" flags="rw, nosuid, remount" srcname="/dev/a b"'));
  assert.equal(e.object.name, '/mnt/x=y z/');
  assert.deepEqual(e.object.mount, { fstype: undefined, flags: 'rw, nosuid, remount', srcname: '/dev/a b' });
  assert.equal(e.error, 13);
  assert.equal(e.info, 'failed flags match');
});

test('capability lines with the double space; class cap', () => {
  const e = event(parseLine('[    7.98] audit: type=1400 audit(1763776800.866:8): apparmor="DENIED" operation="capable" class="cap" profile="misc" pid=164 comm="worker" capability=2  capname="dac_read_search"'));
  assert.equal(e.class, 'cap');
  assert.equal(e.object.capability, 'dac_read_search');
  assert.equal(e.object.capabilityNumber, 2);
  assert.equal(e.object.name, undefined);
});

test('labels: nested children, namespaces, stacks, learning null- hats', () => {
  const base = 'type=AVC msg=audit(1763776800.1:1): apparmor="ALLOWED" operation="open" name="/x" pid=1 profile=';
  assert.deepEqual(event(parseLine(`${base}"a//b//c"`)).label?.path, ['a', 'b', 'c']);
  const ns = event(parseLine(`${base}":hosting:apache2//www.example.com"`)).label;
  assert.equal(ns?.namespace, 'hosting');
  assert.deepEqual(ns?.path, ['apache2', 'www.example.com']);
  const stack = event(parseLine(`${base}"php-fpm//shop//&landlock-like"`)).label;
  assert.deepEqual(stack?.stack?.map((s) => s.text), ['php-fpm//shop', 'landlock-like']);
  assert.deepEqual(stack?.path, ['php-fpm', 'shop']);
  const learning = event(parseLine(`${base}"apache2//null-www.unknown.org"`)).label;
  assert.equal(learning?.learning, true);
  assert.deepEqual(learning?.path, ['apache2', 'null-www.unknown.org']);
  assert.equal(event(parseLine(`${base}"apache2//www.example.com"`)).label?.learning, false);
});

test('KILLED change_hat with a wrong token, network tuples, signals, ptrace', () => {
  const k = event(parseLine('audit: type=1400 audit(1763776800.102:15): apparmor="KILLED" operation="change_hat" info="failed token match" error=-13 profile="worker//siteA" pid=159 comm="worker" target="worker"'));
  assert.equal(k.type, 'KILLED');
  assert.equal(k.object.target, 'worker');
  assert.equal(k.error, 13);
  const n = event(parseLine('type=AVC msg=audit(1763776800.1:2): apparmor="DENIED" operation="connect" class="net" profile="php-fpm//shop" pid=7 comm="php" laddr=10.0.0.5 lport=41000 faddr=10.0.0.9 fport=3306 family="inet" sock_type="stream" protocol=6 requested="connect" denied="connect"'));
  assert.deepEqual(n.object.network, { family: 'inet', sockType: 'stream', protocol: 'tcp', localAddr: '10.0.0.5', localPort: 41000, foreignAddr: '10.0.0.9', foreignPort: 3306, addr: undefined, peerAddr: undefined });
  assert.deepEqual(n.denied?.perms, ['connect']);
  const s = event(parseLine('type=AVC msg=audit(1763776800.1:3): apparmor="DENIED" operation="signal" profile="worker" pid=8 comm="kill" requested_mask="send" denied_mask="send" signal=term peer="apache2//www.example.com"'));
  assert.equal(s.class, 'signal');
  assert.equal(s.object.signal, 'term');
  assert.equal(s.object.peer, 'apache2//www.example.com');
  const p = event(parseLine('type=AVC msg=audit(1763776800.1:4): apparmor="DENIED" operation="ptrace" profile="worker" pid=9 comm="gdb" requested_mask="trace" denied_mask="trace" peer="unconfined"'));
  assert.equal(p.class, 'ptrace');
  assert.deepEqual(p.denied?.perms, ['trace']);
});

test('masks decode into one permission-set type: file letters, old owner::other form, words', () => {
  const mask = (m: string, klass = '') => event(parseLine(`type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" ${klass}profile="p" name="/x" requested_mask="${m}" denied_mask="${m}"`)).requested!;
  assert.deepEqual(mask('rwlk').perms, ['r', 'w', 'l', 'k']);
  assert.deepEqual(mask('wc::').perms, ['w', 'c']);
  assert.equal(mask('wc::').raw, 'wc::');
  assert.deepEqual(mask('read create', 'class="posix_mqueue" ').perms, ['read', 'create']);
  assert.deepEqual(mask('receive').perms, ['receive']);
  assert.deepEqual(mask('x').perms, ['x']);
});

test('status, hint and error events keep their type', () => {
  assert.equal(event(parseLine('audit: type=1400 audit(1.000:1): apparmor="STATUS" operation="profile_load" profile="unconfined" name="worker//siteA" pid=1 comm="apparmor_parser"')).type, 'STATUS');
  assert.equal(event(parseLine('type=APPARMOR_HINT msg=audit(1.000:2): operation="clone" task=2 pid=1 profile="p"')).type, 'HINT');
  assert.equal(event(parseLine('type=AVC msg=audit(1.000:3): apparmor="ERROR" operation="profile_load" info="bad" error=-22 pid=1')).type, 'ERROR');
});

test('non-AppArmor lines are skipped as not-apparmor; garbage as unknown-prefix; blank as empty', () => {
  const reason = (line: string) => {
    const r = parseLine(line);
    assert.equal(r.kind === 'event', false, line);
    return r.kind === 'skip' ? r.reason : r.kind;
  };
  assert.equal(reason('Nov 22 10:00:01 web01 sshd[77]: Accepted publickey for root'), 'not-apparmor');
  assert.equal(reason('type=CRED_ACQ msg=audit(1.000:5): pid=1 uid=0 msg=\'op=PAM:setcred res=success\''), 'related');
  assert.equal(reason('hello world'), 'unknown-prefix');
  assert.equal(reason(''), 'empty');
  assert.equal(reason('   '), 'empty');
});

test('malformed input is skipped with a reason, never thrown', () => {
  const reason = (line: string) => {
    const r = parseLine(line);
    assert.equal(r.kind, 'skip', line.slice(0, 80));
    return (r as { reason: string }).reason;
  };
  // truncated mid-value
  assert.equal(reason('type=AVC msg=audit(1763776800.123:1): apparmor="DENIED" operation="open" profile="apache2//www.exa'), 'unterminated-quote');
  assert.equal(reason(`type=AVC msg=audit(1.000:1): ${BODY} name2="${'x'.repeat(1024 * 1024)}"`), 'line-too-long');
  assert.equal(reason(`type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="a\0b" name="/x"`), 'nul-byte');
  assert.equal(reason('type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="p" name=2F746'), 'odd-length-hex');
  assert.equal(reason('type=AVC msg=audit(1.000:1): '), 'no-fields');
  assert.equal(reason('type=AVC msg=audit(1.x:1): apparmor="DENIED"'), 'no-fields');
});
