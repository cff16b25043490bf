import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAnswers, defaultAnswers, needsFromEvents, propose, type ProposalGroup } from '../../src/learn/index.js';
import { tenantsFromFlags } from '../../src/web/index.js';
import { avc, eventsOf, policyOf } from './fixture.js';
import fc from 'fast-check';
import { decide } from '../../src/policy/eval/index.js';

const APACHE = `
include <tunables/global>
profile apache2 /usr/sbin/apache2 flags=(complain) {
  /usr/sbin/apache2 mr,
  include <apache2.d>
}
# A profile of its own for a helper: the target of Px.
profile /usr/bin/convert {
  /usr/bin/convert mr,
}
`;
const FILES = {
  '/etc/apparmor.d/usr.sbin.apache2': APACHE,
  '/etc/apparmor.d/tunables/global': '@{PROC}=/proc/\n@{pid}={[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9]*}\n',
  // Hats defined in an included directory: the needs find them through the include.
  '/etc/apparmor.d/apache2.d/alice': '^alice {\n  /srv/www/alice/index.html r,\n}\n',
  '/etc/apparmor.d/apache2.d/bob': '^bob {\n  /srv/www/bob/index.html r,\n}\n',
};

const open = (label: string, path: string, mask = 'r', owner = false) =>
  avc(`operation="open" class="file" profile="${label}" name="${path}" pid=9 comm="apache2" requested_mask="${mask}" denied_mask="${mask}" fsuid=33 ouid=${owner ? 33 : 0}`);
const exec = (label: string, path: string) =>
  avc(`operation="exec" class="file" profile="${label}" name="${path}" pid=9 comm="apache2" requested_mask="x" denied_mask="x" fsuid=33 ouid=0 target="${label}//null-${path}"`);

function proposalsFor(lines: string[], options: { allowUx?: boolean; tenants?: boolean } = {}) {
  const fixture = policyOf(FILES);
  const tenants = options.tenants === false ? [] : tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob']).tenants;
  const needs = needsFromEvents(eventsOf(lines), fixture.compiled);
  return { fixture, proposals: propose(needs, { policy: fixture.compiled, tenants, variables: fixture.loaded.resolved.variables ?? [], ...(options.allowUx ? { allowUx: true } : {}) }) };
}

function only(groups: readonly ProposalGroup[], klass: string): ProposalGroup {
  const found = groups.filter((g) => g.class === klass);
  assert.equal(found.length, 1, `one ${klass} group`);
  return found[0]!;
}

test('hats nested in a profile through an include: allowed events are no needs, the rest go to the hat', () => {
  const { proposals } = proposalsFor([open('apache2//alice', '/srv/www/alice/index.html'), open('apache2//alice', '/srv/www/alice/about.html')]);
  assert.equal(proposals.groups.length, 1);
  const group = proposals.groups[0]!;
  assert.equal(group.profile, 'apache2//alice');
  assert.equal(group.tenant, 'alice');
  assert.deepEqual(group.alternatives[group.defaultIndex]!.rules, ['/srv/www/alice/about.html r']);
});

test('file alternatives come in the order of preference, each with what it grants beyond the events', () => {
  const { proposals } = proposalsFor([open('apache2//alice', '/srv/www/alice/up/cat.jpg', 'w', true)]);
  const group = only(proposals.groups, 'file');
  assert.deepEqual(group.alternatives.map((a) => a.kind), ['exact', 'glob', 'glob', 'site-glob', 'deny', 'audit-deny']);
  assert.deepEqual(group.alternatives.map((a) => a.rules[0]), [
    'owner /srv/www/alice/up/cat.jpg w', 'owner /srv/www/alice/up/*.jpg w', 'owner /srv/www/alice/up/* w', 'owner /srv/www/alice/** w',
    'deny owner /srv/www/alice/up/cat.jpg w', 'audit deny owner /srv/www/alice/up/cat.jpg w',
  ]);
  assert.equal(group.alternatives[0]!.beyond, undefined);
  assert.equal(group.alternatives[2]!.beyond?.subject, '/srv/www/alice/up/a');
  assert.ok(group.alternatives.every((a) => !a.crossesTenant));
});

test('tunables variables: @{PROC} and @{pid} from the loaded tunables', () => {
  const { proposals } = proposalsFor([open('apache2//alice', '/proc/4242/attr/current', 'r', true)]);
  const variable = only(proposals.groups, 'file').alternatives.find((a) => a.kind === 'variable');
  assert.deepEqual(variable?.rules, ['owner @{PROC}/@{pid}/attr/current r']);
});

test('a glob that reaches another tenant is never the default and carries the shortest path it exposes', () => {
  // alice reads /srv/www/shared.css: its directory glob /srv/www/* also matches /srv/www/bob.
  const { proposals } = proposalsFor([open('apache2//alice', '/srv/www/shared.css')]);
  const group = only(proposals.groups, 'file');
  const glob = group.alternatives.find((a) => a.rules[0] === '/srv/www/* r')!;
  assert.equal(glob.crossesTenant?.subject, '/srv/www/bob');
  assert.equal(glob.crossesTenant?.tenant, 'bob');
  assert.match(glob.crossesTenant!.message, /grants r on \/srv\/www\/bob/);
  assert.notEqual(group.alternatives[group.defaultIndex], glob);
  assert.equal(group.alternatives[group.defaultIndex]!.kind, 'exact');
  // Accepting it needs an explicit override.
  const index = group.alternatives.indexOf(glob);
  const refused = applyAnswers(proposals, [{ group: group.id, action: 'accept', alternative: index }]);
  assert.deepEqual(refused.edits, []);
  assert.equal(refused.diagnostics[0]?.code, 'learn/crosses-tenant');
  const accepted = applyAnswers(proposals, [{ group: group.id, action: 'accept', alternative: index, override: true }]);
  assert.deepEqual(accepted.edits, [{ kind: 'add-rule', profile: 'apache2//alice', rule: '/srv/www/* r' }]);
});

test('reading another tenant\'s file: no alternative that allows it is safe, so --apply leaves it alone', () => {
  const { proposals } = proposalsFor([open('apache2//alice', '/srv/www/bob/wp-config.php')]);
  const group = only(proposals.groups, 'file');
  assert.equal(group.defaultIndex, -1);
  assert.equal(group.alternatives[0]!.crossesTenant?.subject, '/srv/www/bob/wp-config.php');
  assert.deepEqual(applyAnswers(proposals, defaultAnswers(proposals)).edits, []);
});

test('exec choices: ix, Px to an existing profile, a child profile created empty in complain mode, Ux only when allowed', () => {
  const plain = proposalsFor([exec('apache2', '/usr/bin/convert')]).proposals;
  const group = only(plain.groups, 'exec');
  assert.deepEqual(group.alternatives.map((a) => a.kind), ['inherit', 'profile', 'child', 'deny', 'audit-deny']);
  assert.deepEqual(group.alternatives.map((a) => a.rules[0]), ['/usr/bin/convert ix', '/usr/bin/convert Px', '/usr/bin/convert Cx -> convert', 'deny /usr/bin/convert x', 'audit deny /usr/bin/convert x']);
  assert.equal(group.alternatives[group.defaultIndex]!.kind, 'inherit');
  assert.deepEqual(group.alternatives[2]!.edits, [
    { kind: 'create-profile', parent: 'apache2', name: 'convert', hat: false, flags: ['complain'] },
    { kind: 'add-rule', profile: 'apache2', rule: '/usr/bin/convert Cx -> convert' },
  ]);
  const ux = only(proposalsFor([exec('apache2', '/usr/bin/convert')], { allowUx: true }).proposals.groups, 'exec');
  assert.ok(ux.alternatives.some((a) => a.kind === 'unconfined' && a.rules[0] === '/usr/bin/convert Ux'));
});

test('a helper run from a hat gets a sibling profile named after the hat (Px -> parent//hathelper)', () => {
  const { proposals } = proposalsFor([exec('apache2//alice', '/usr/bin/dash')]);
  const child = only(proposals.groups, 'exec').alternatives.find((a) => a.kind === 'child')!;
  assert.deepEqual(child.rules, ['/usr/bin/dash Px -> apache2//alicedash']);
  assert.deepEqual(child.edits[0], { kind: 'create-profile', parent: 'apache2', name: 'alicedash', hat: false, flags: ['complain'] });
});

test('learning-label fix-ups: a hat stub, change_profile -> P//*, signal peer=P//*, all accepted by --apply', () => {
  const { proposals } = proposalsFor([
    avc('operation="change_profile" class="file" profile="apache2" name="apache2//carol" pid=5 comm="apache2" target="apache2//carol"'),
    avc('operation="signal" class="signal" profile="apache2" pid=5 comm="apache2" requested_mask="send" denied_mask="send" signal=term peer="apache2//null-carol"'),
    open('apache2//null-carol', '/srv/www/carol/index.php'),
  ]);
  const stub = proposals.groups[0]!;
  assert.equal(stub.automatic, true);
  assert.deepEqual(stub.alternatives[stub.defaultIndex]!.edits, [{ kind: 'create-profile', parent: 'apache2', name: 'carol', hat: true, flags: ['complain'] }]);
  assert.deepEqual(only(proposals.groups, 'change_profile').alternatives[0]!.rules, ['change_profile -> apache2//*']);
  assert.deepEqual(only(proposals.groups, 'signal').alternatives[0]!.rules, ['signal (send) peer=apache2//*']);
  const { edits } = applyAnswers(proposals, defaultAnswers(proposals));
  assert.deepEqual(edits, [
    { kind: 'create-profile', parent: 'apache2', name: 'carol', hat: true, flags: ['complain'] },
    { kind: 'add-rule', profile: 'apache2', rule: 'change_profile -> apache2//*' },
    { kind: 'add-rule', profile: 'apache2', rule: 'signal (send) peer=apache2//*' },
    { kind: 'add-rule', profile: 'apache2//carol', rule: '/srv/www/carol/index.php r' },
  ]);
});

test('a rule for a missing hat brings the hat stub along even when only the rule is answered', () => {
  const { proposals } = proposalsFor([open('apache2//null-dave', '/srv/www/dave/x')]);
  const rule = only(proposals.groups, 'file');
  const { edits } = applyAnswers(proposals, [{ group: rule.id, action: 'accept' }]);
  assert.equal(edits[0]!.kind, 'create-profile');
  assert.equal(edits.length, 2);
});

test('answers that name unknown groups or alternatives are diagnostics', () => {
  const { proposals } = proposalsFor([open('apache2//alice', '/srv/www/alice/x')]);
  const out = applyAnswers(proposals, [{ group: 'g99', action: 'accept' }, { group: proposals.groups[0]!.id, action: 'accept', alternative: 42 }]);
  assert.deepEqual(out.diagnostics.map((d) => d.code), ['learn/unknown-group', 'learn/unknown-alternative']);
  assert.deepEqual(out.edits, []);
});

test('capabilities and network needs get exact rules', () => {
  const { proposals } = proposalsFor([
    avc('operation="capable" class="cap" profile="apache2//alice" pid=2 comm="php" capability=1 capname="dac_override"', 'DENIED'),
    avc('operation="connect" class="net" profile="apache2//alice" pid=7 comm="php" family="inet" sock_type="stream" protocol=6 requested_mask="connect" denied_mask="connect"'),
  ]);
  assert.deepEqual(only(proposals.groups, 'capability').alternatives[0]!.rules, ['capability dac_override']);
  assert.deepEqual(only(proposals.groups, 'network').alternatives.map((a) => a.rules[0]).slice(0, 2), ['network inet stream', 'network inet']);
});

test('an abstraction that already allows a need is offered, smallest first, with what it grants in all', () => {
  const abstraction = policyOf({
    '/etc/apparmor.d/p': 'profile hatter-abstraction {\n  include <abstractions/nameservice>\n}\n',
    '/etc/apparmor.d/abstractions/nameservice': '/etc/hosts r,\n/etc/nsswitch.conf r,\n/etc/resolv.conf r,\n',
  }, '/etc/apparmor.d/p');
  const fixture = policyOf(FILES);
  const needs = needsFromEvents(eventsOf([open('apache2//alice', '/etc/resolv.conf'), open('apache2//alice', '/etc/shadow')]), fixture.compiled);
  const proposals = propose(needs, { policy: fixture.compiled, abstractions: [{ include: 'abstractions/nameservice', profile: abstraction.loaded.resolved.profiles[0]!, rules: 3 }] });
  const resolv = proposals.groups.find((g) => g.title === 'r on /etc/resolv.conf')!;
  const offered = resolv.alternatives.find((a) => a.kind === 'abstraction');
  assert.deepEqual(offered?.rules, ['include <abstractions/nameservice>']);
  assert.match(offered!.note!, /grants 3 rules in all/);
  assert.notEqual(resolv.alternatives[resolv.defaultIndex], offered);
  assert.ok(!proposals.groups.find((g) => g.title === 'r on /etc/shadow')!.alternatives.some((a) => a.kind === 'abstraction'));
});

// The abstraction check compiles only the rules whose pattern matches the path: it must decide exactly as
// the whole abstraction compiled does, deny rules, owner and exec permissions included.
test('property: an abstraction is offered exactly when the whole abstraction, compiled, allows the access', () => {
  const rules = ['/etc/** r', 'deny /etc/shadow r', '/usr/{lib,lib64}/** mr', 'owner /tmp/** rw', '/tmp/ r', '/var/lib/**/cache/* rwk', '/{,usr/}bin/* ix', 'deny /var/lib/secret/** w', 'audit /srv/www/*/public/** r'];
  const paths = ['/etc/passwd', '/etc/shadow', '/etc', '/usr/lib/libc.so.6', '/usr/lib64/x', '/usr/share/x', '/tmp/a', '/tmp/', '/var/lib/a/cache/b', '/var/lib/secret/cache/x', '/bin/dash', '/usr/bin/tr', '/srv/www/alice/public/i.html', '/srv/www/alice/private'];
  fc.assert(fc.property(fc.subarray(rules, { minLength: 1 }), fc.constantFrom(...paths), fc.constantFrom('r', 'w', 'rw', 'm', 'k', 'rk', 'a'), fc.boolean(), (chosen, path, permissions, owner) => {
    const abstraction = policyOf({
      '/etc/apparmor.d/p': 'profile hatter-abstraction {\n  include <abstractions/t>\n}\n',
      '/etc/apparmor.d/abstractions/t': chosen.map((r) => `${r},\n`).join(''),
    }, '/etc/apparmor.d/p');
    const whole = decide(abstraction.compiled, 'hatter-abstraction', { class: 'file', path, permissions, ...(owner ? { owner } : {}) }).bits.every((b) => b.outcome === 'allow');
    const fixture = policyOf({ '/etc/apparmor.d/q': 'profile q {\n}\n' });
    const needs = needsFromEvents(eventsOf([avc(`operation="open" profile="q" name="${path}" pid=1 comm="x" requested_mask="${permissions}" denied_mask="${permissions}" fsuid=33 ouid=${owner ? 33 : 0}`)]), fixture.compiled);
    const proposals = propose(needs, { policy: fixture.compiled, abstractions: [{ include: 'abstractions/t', profile: abstraction.loaded.resolved.profiles[0]!, rules: chosen.length }] });
    const offered = proposals.groups.some((g) => g.alternatives.some((a) => a.kind === 'abstraction'));
    // a need the kernel logs always has at least one group; the abstraction is offered iff it allows it
    assert.ok(proposals.groups.length > 0);
    assert.equal(offered, whole, `${chosen.join(', ')} / ${owner ? 'owner ' : ''}${permissions} ${path}`);
  }), { numRuns: 150 });
});

test('an abstraction that reaches another tenant\'s area is marked crossing and never the default', () => {
  const abstraction = (rules: string) => policyOf({
    '/etc/apparmor.d/p': 'profile hatter-abstraction {\n  include <abstractions/t>\n}\n',
    '/etc/apparmor.d/abstractions/t': rules,
  }, '/etc/apparmor.d/p').loaded.resolved.profiles[0]!;
  const fixture = policyOf(FILES);
  const tenants = tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob']).tenants;
  const needs = needsFromEvents(eventsOf([open('apache2//alice', '/srv/www/alice/cache/x', 'r'), open('apache2//alice', '/etc/hosts')]), fixture.compiled);
  const proposals = propose(needs, {
    policy: fixture.compiled, tenants,
    abstractions: [{ include: 'abstractions/wide', profile: abstraction('/srv/www/** r,\n'), rules: 1 }, { include: 'abstractions/etc', profile: abstraction('/etc/** r,\n'), rules: 1 }],
  });
  const own = proposals.groups.find((g) => g.title.includes('/srv/www/alice/cache/x'))!;
  const wide = own.alternatives.find((a) => a.rules[0] === 'include <abstractions/wide>')!;
  assert.ok(wide.crossesTenant, 'the abstraction grants bob\'s area too');
  assert.match(wide.crossesTenant.message, /bob/);
  assert.notEqual(own.alternatives[own.defaultIndex], wide);
  const hosts = proposals.groups.find((g) => g.title.includes('/etc/hosts'))!;
  const etc = hosts.alternatives.find((a) => a.rules[0] === 'include <abstractions/etc>')!;
  assert.equal(etc.crossesTenant, undefined);
});
