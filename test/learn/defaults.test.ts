// Defaults that survive the next run (pids, mkstemp names) and the PHP-FPM pool fix-ups, on lines from a
// real complain-mode run (test/kernel/learn.test.ts on Debian 12's 6.1 kernel: Apache + mod_php +
// mod_apparmor, and a php-fpm pool whose apparmor_hat had no hat yet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAnswers, defaultAnswers, needsFromEvents, propose, type ProposalGroup } from '../../src/learn/index.js';
import { applyEdits } from '../../src/learn/apply.js';
import { namesProcessId, temporaryDirectory, temporaryPrefix } from '../../src/learn/defaults.js';
import { decide } from '../../src/policy/eval/index.js';
import { eventsOf, policyOf } from './fixture.js';

const D = '/etc/apparmor.d';
const TUNABLES = '@{PROC}=/proc/\n@{pid}={[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9]*}\n';
const APACHE = `include <tunables/global>
profile kweb-learn-apache flags=(attach_disconnected) {
  /** rwmlk,
  ^alice flags=(complain) {
  }
}
`;
const FPM = `include <tunables/global>
profile kweb-learn-fpm flags=(attach_disconnected, complain) {
  /** rwmlk,
}
`;

// Lines of the kept run (dmesg format), unchanged.
const K = (n: string, rest: string) => `[   5${n}.200588] audit: type=1400 audit(1796614895.428:${n}): apparmor="ALLOWED" ${rest}`;
const APACHE_LINES = [
  K('19', 'operation="open" profile="kweb-learn-apache//alice" name="/proc/136/attr/apparmor/current" pid=136 comm="apache2" requested_mask="w" denied_mask="w" fsuid=33 ouid=0'),
  K('20', 'operation="open" profile="kweb-learn-apache//alice" name="/proc/136/attr/current" pid=136 comm="apache2" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
  K('21', 'operation="mknod" profile="kweb-learn-apache//alice" name="/tmp/php40F873" pid=136 comm="apache2" requested_mask="c" denied_mask="c" fsuid=33 ouid=33'),
  K('22', 'operation="open" profile="kweb-learn-apache//alice" name="/tmp/php40F873" pid=136 comm="apache2" requested_mask="wrc" denied_mask="wrc" fsuid=33 ouid=33'),
  K('23', 'operation="file_lock" profile="kweb-learn-apache//alice" name="/tmp/.ZendSem.mAOcCG" pid=136 comm="apache2" requested_mask="k" denied_mask="k" fsuid=33 ouid=0'),
  K('24', 'operation="connect" profile="kweb-learn-apache//alice" name="/tmp/hatter-php-fpm-q8ZkLm/alice.localhost/php-fpm.sock" pid=136 comm="apache2" requested_mask="wr" denied_mask="wr" fsuid=33 ouid=0'),
  K('25', 'operation="open" profile="kweb-learn-apache//alice" name="/tmp/hatter-php-fpm-q8ZkLm/alice.localhost/.ZendSem.syFvdk" pid=136 comm="apache2" requested_mask="wr" denied_mask="wr" fsuid=33 ouid=0'),
];
const FPM_LINES = [
  K('30', 'operation="open" profile="kweb-learn-fpm//null-kweb-learn-fpm//myblog" name="/proc/137/attr/current" pid=137 comm="php-fpm8.2" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
  K('31', 'operation="signal" profile="kweb-learn-fpm" pid=130 comm="php-fpm8.2" requested_mask="send" denied_mask="send" signal=quit peer="kweb-learn-fpm//null-kweb-learn-fpm//myblog"'),
];

function learn(files: Record<string, string>, lines: string[], poolListen?: Map<string, string>) {
  const fixture = policyOf(files);
  const proposals = propose(needsFromEvents(eventsOf(lines), fixture.compiled), { policy: fixture.compiled, variables: fixture.loaded.resolved.variables ?? [], ...(poolListen ? { poolListen } : {}) });
  const { edits } = applyAnswers(proposals, defaultAnswers(proposals));
  const applied = applyEdits(new Map(Object.entries(files)), edits, { entry: Object.keys(files)[0]!, includePaths: [D] });
  assert.deepEqual(applied.diagnostics, []);
  const after = { ...files, ...Object.fromEntries(applied.changes.map((c) => [c.file, c.after])) };
  return { proposals, after, policy: policyOf(after).compiled };
}

const chosen = (g: ProposalGroup) => g.alternatives[g.defaultIndex]!.rules;
const byTitle = (groups: readonly ProposalGroup[], part: string) => groups.find((g) => g.title.includes(part));
const allows = (policy: Parameters<typeof decide>[0], profile: string, request: Parameters<typeof decide>[2]) =>
  decide(policy, profile, request).bits.every((b) => b.outcome === 'allow');

test('mkstemp-like temporary names: which last components count as random', () => {
  for (const [path, prefix] of [['/tmp/php8hQ2zA', 'php'], ['/tmp/.ZendSem.mAOcCG', '.ZendSem.'], ['/var/tmp/phpabcdef', 'php'], ['/dev/shm/cache-x9Y2kq', 'cache-'],
    ['/srv/www/alice/tmp/upload_Ab12cd', 'upload_'], ['/var/lib/php/sessions/sess_a1b2c3', 'sess_']] as const) {
    assert.deepEqual(temporaryPrefix(path), { dir: path.slice(0, path.lastIndexOf('/')), prefix }, path);
  }
  // names, not mkstemp output: an extension, one class of characters, letters then digits, no prefix,
  // or not in a temp directory
  for (const path of ['/tmp/report.txt', '/tmp/sessions', '/tmp/backupfiles', '/tmp/report2024', '/tmp/aB3xY9', '/srv/www/alice/php8hQ2zA', '/tmp/a/b/php8hQ2zA']) {
    assert.equal(temporaryPrefix(path), undefined, path);
  }
  // mkdtemp's directories: the random component is the one right below the temp directory
  assert.deepEqual(temporaryDirectory('/tmp/hatter-php-fpm-q8ZkLm/alice.localhost/php-fpm.sock'), { dir: '/tmp', prefix: 'hatter-php-fpm-', rest: 'alice.localhost/php-fpm.sock' });
  assert.deepEqual(temporaryDirectory('/tmp/hatter-php-fpm-abcdef/a'), { dir: '/tmp', prefix: 'hatter-php-fpm-', rest: 'a' });
  assert.deepEqual(temporaryDirectory('/tmp/hatter-php-fpm-abcdef/bob.localhost/.ZendSem.PjYZFU'), { dir: '/tmp', prefix: 'hatter-php-fpm-', rest: 'bob.localhost/.ZendSem.PjYZFU', filePrefix: '.ZendSem.' });
  assert.deepEqual(temporaryDirectory('/var/tmp/tmp.x9Y2kq/out/log'), { dir: '/var/tmp', prefix: 'tmp.', rest: 'out/log' });
  // other prefixes are left alone: a site copied into a mktemp directory keeps its exact paths
  for (const path of ['/var/tmp/build-x9Y2kq/out/log', '/var/tmp/hatter-serve-learn-php-rVyWRt/hosting/alice/php/index.php', '/tmp/hatter-php-fpm-q8ZkLm', '/tmp/hatter-php-fpm-q8ZkLm/', '/tmp/sessions/x', '/tmp/report2024/x', '/tmp/a/b/c', '/srv/tmp.q8ZkLm/x', '/tmpfoo/hatter-php-fpm-q8ZkLm/x']) {
    assert.equal(temporaryDirectory(path), undefined, path);
  }
  assert.ok(namesProcessId('/proc/136/attr/current'));
  assert.ok(namesProcessId('/proc/12'));
  assert.ok(!namesProcessId('/proc/self/attr/current'));
  assert.ok(!namesProcessId('/proc/sys/kernel/random/uuid'));
});

test('a pid in /proc defaults to @{PROC}/@{pid}, a PHP temporary to its prefix glob (owner when the task made it), a path in a mkdtemp directory to the directory glob', () => {
  const { proposals, policy } = learn({ [`${D}/apache`]: APACHE, [`${D}/tunables/global`]: TUNABLES }, APACHE_LINES);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/proc/136/attr/apparmor/current')!), ['@{PROC}/@{pid}/attr/apparmor/current w']);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/proc/136/attr/current')!), ['@{PROC}/@{pid}/attr/current r']);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/tmp/php40F873')!), ['owner /tmp/php* rw']);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/tmp/.ZendSem.mAOcCG')!), ['/tmp/.ZendSem.* k']);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/tmp/hatter-php-fpm-q8ZkLm/alice.localhost/php-fpm.sock')!), ['/tmp/hatter-php-fpm-*/alice.localhost/php-fpm.sock rw']);
  assert.deepEqual(chosen(byTitle(proposals.groups, '/tmp/hatter-php-fpm-q8ZkLm/alice.localhost/.ZendSem.syFvdk')!), ['/tmp/hatter-php-fpm-*/alice.localhost/.ZendSem.* rw']);
  // the exact rule stays the first alternative
  assert.deepEqual(byTitle(proposals.groups, '/tmp/php40F873')!.alternatives[0]!.rules, ['owner /tmp/php40F873 rw']);
  // the next run's pid and names are allowed; other files in /tmp, and other people's temporaries, are not
  const hat = 'kweb-learn-apache//alice';
  assert.ok(allows(policy, hat, { class: 'file', path: '/proc/202/attr/apparmor/current', permissions: 'w' }));
  assert.ok(allows(policy, hat, { class: 'file', path: '/tmp/phpZbNDyL', permissions: 'w', owner: true }));
  assert.ok(!allows(policy, hat, { class: 'file', path: '/tmp/phpZbNDyL', permissions: 'w', owner: false }));
  assert.ok(allows(policy, hat, { class: 'file', path: '/tmp/.ZendSem.JXx2yz', permissions: 'k' }));
  // the next serve's PHP-FPM run directory; not another site's socket in it
  assert.ok(allows(policy, hat, { class: 'file', path: '/tmp/hatter-php-fpm-Rt5pQ2/alice.localhost/php-fpm.sock', permissions: 'rw' }));
  assert.ok(!allows(policy, hat, { class: 'file', path: '/tmp/hatter-php-fpm-Rt5pQ2/bob.localhost/php-fpm.sock', permissions: 'rw' }));
  assert.ok(!allows(policy, hat, { class: 'file', path: '/tmp/report.txt', permissions: 'r' }));
});

test('the implicit change_hat rules are owner-only, as apparmor_parser writes them: a non-dumpable worker needs a rule', () => {
  const policy = policyOf({ [`${D}/apache`]: APACHE, [`${D}/tunables/global`]: TUNABLES }).compiled;
  const hat = 'kweb-learn-apache//alice';
  assert.ok(allows(policy, hat, { class: 'file', path: '/proc/136/attr/apparmor/current', permissions: 'w', owner: true }));
  assert.ok(!allows(policy, hat, { class: 'file', path: '/proc/136/attr/apparmor/current', permissions: 'w' }));
});

test('a PHP-FPM learning label M//null-M//HAT: the hat stub, change_profile -> M//*, and the signals both ways', () => {
  const files = { [`${D}/php-fpm`]: FPM, [`${D}/tunables/global`]: TUNABLES };
  const { proposals, policy, after } = learn(files, FPM_LINES, new Map([['myblog', '127.0.0.1:18601']]));
  const cp = proposals.groups.filter((g) => g.class === 'change_profile');
  assert.equal(cp.length, 1);
  assert.equal(cp[0]!.profile, 'kweb-learn-fpm');
  assert.equal(cp[0]!.automatic, true);
  assert.deepEqual(chosen(cp[0]!), ['change_profile -> kweb-learn-fpm//*']);
  assert.ok(allows(policy, 'kweb-learn-fpm', { class: 'change_profile', target: 'kweb-learn-fpm//myblog' }));
  assert.ok(allows(policy, 'kweb-learn-fpm', { class: 'signal', access: ['send'], fields: { peer: 'kweb-learn-fpm//myblog', signal: 'term' } }));
  assert.ok(allows(policy, 'kweb-learn-fpm//myblog', { class: 'signal', access: ['receive'], fields: { peer: 'kweb-learn-fpm', signal: 'quit' } }));
  assert.ok(allows(policy, 'kweb-learn-fpm//myblog', { class: 'file', path: '/proc/990/attr/current', permissions: 'r' }));
  // the pool's listen socket (a learning profile's sockets are not logged): its family only, accepted by --apply
  const socket = proposals.groups.filter((g) => g.class === 'network');
  assert.equal(socket.length, 1);
  assert.equal(socket[0]!.automatic, true);
  assert.deepEqual(chosen(socket[0]!), ['network inet stream']);
  assert.ok(allows(policy, 'kweb-learn-fpm//myblog', { class: 'network', access: ['accept'], fields: { family: 'inet', type: 'stream' } }));
  assert.ok(!allows(policy, 'kweb-learn-fpm//myblog', { class: 'network', access: ['create'], fields: { family: 'inet6', type: 'stream' } }));
  // the logged send got its own fix-up; the automatic one is not added twice
  assert.equal(after[`${D}/php-fpm`]!.split('signal (send)').length - 1, 1, after[`${D}/php-fpm`]);
  // learning the same log again on the result proposes nothing
  const again = policyOf(after);
  const second = propose(needsFromEvents(eventsOf(FPM_LINES), again.compiled), { policy: again.compiled, variables: again.loaded.resolved.variables ?? [], poolListen: new Map([['myblog', '127.0.0.1:18601']]) });
  assert.deepEqual(second.groups.map((g) => g.title), []);
});

test('the pool socket fix-up follows listen: a path is unix, [::] or a bare port inet6; unknown: three choices, not automatic', () => {
  const files = { [`${D}/php-fpm`]: FPM, [`${D}/tunables/global`]: TUNABLES };
  const rulesFor = (listen?: string) => {
    const { proposals } = learn(files, FPM_LINES, listen === undefined ? undefined : new Map([['myblog', listen]]));
    const group = proposals.groups.find((g) => g.class === 'network')!;
    return { automatic: group.automatic, rules: group.alternatives.filter((a) => a.kind === 'fixup').map((a) => a.rules[0]) };
  };
  assert.deepEqual(rulesFor('/run/php/myblog.sock'), { automatic: true, rules: ['network unix stream'] });
  assert.deepEqual(rulesFor('[::1]:9000'), { automatic: true, rules: ['network inet6 stream'] });
  assert.deepEqual(rulesFor('9000'), { automatic: true, rules: ['network inet6 stream'] });
  assert.deepEqual({ ...rulesFor(undefined), automatic: rulesFor(undefined).automatic === true }, { automatic: false, rules: ['network inet stream', 'network inet6 stream', 'network unix stream'] });
});

test('no pool fix-up when the master already allows change_profile and the signals, nor for other learning labels', () => {
  const master = FPM.replace('/** rwmlk,', '/** rwmlk,\n  change_profile -> kweb-learn-fpm//*,\n  signal peer=kweb-learn-fpm//*,\n  ^myblog {\n    signal (receive) peer=kweb-learn-fpm,\n    network inet stream,\n  }');
  const { proposals } = learn({ [`${D}/php-fpm`]: master, [`${D}/tunables/global`]: TUNABLES }, FPM_LINES);
  assert.deepEqual(proposals.groups.filter((g) => g.class !== 'file').map((g) => g.title), []);
  // a helper's exec learning label (P//null-/usr/bin/dash) is not the PHP-FPM form
  const dash = K('40', 'operation="open" profile="kweb-learn-apache//alice//null-/usr/bin/dash" name="/etc/ld.so.cache" pid=140 comm="sh" requested_mask="r" denied_mask="r" fsuid=33 ouid=0');
  const apache = learn({ [`${D}/apache`]: APACHE, [`${D}/tunables/global`]: TUNABLES }, [dash]);
  assert.deepEqual(apache.proposals.groups.filter((g) => g.class !== 'file').map((g) => g.title), []);
});
