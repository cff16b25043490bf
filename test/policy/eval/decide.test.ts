// decide(): verdicts and the rules that decided them, written from policy-semantics.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, UnknownRequestError, type AccessRequest } from '../../../src/policy/eval/index.js';
import { compileText, profile } from './support.js';

const file = (path: string, permissions: string, owner = false): AccessRequest => ({ class: 'file', path, permissions, owner });
const lines = (d: { rules: readonly { line: number }[] }) => d.rules.map((r) => r.line);

test('deny carves out of an allow, quietly; audit deny logs', () => {
  const p = compileText(profile('  /srv/[abc] r,\n  deny /srv/b r,\n  audit deny /srv/c r,'));
  assert.equal(decide(p, 'p', file('/srv/a', 'r')).allowed, true);
  const b = decide(p, 'p', file('/srv/b', 'r'));
  assert.equal(b.allowed, false);
  assert.equal(b.bits[0]!.log, 'quiet');
  assert.deepEqual(lines(b.bits[0]!), [3]);
  assert.equal(decide(p, 'p', file('/srv/c', 'r')).bits[0]!.log, 'denied');
  const none = decide(p, 'p', file('/srv/d', 'r'));
  assert.equal(none.noRuleMatched, true);
  assert.equal(none.bits[0]!.log, 'denied');
});

test('allows union: a narrower allow never takes away what a broader one granted', () => {
  const p = compileText(profile('  /srv/** rw,\n  /srv/a/x r,'));
  const d = decide(p, 'p', file('/srv/a/x', 'w'));
  assert.equal(d.allowed, true);
  assert.deepEqual(lines(d.bits[0]!), [2]);
  assert.deepEqual(decide(p, 'p', file('/srv/a/x', 'r')).bits[0]!.rules.map((r) => r.line).sort(), [2, 3]);
});

test('owner rules apply only to the owner half; other rules only to the other half', () => {
  const p = compileText(profile('  owner /srv/a/** rw,\n  other /srv/o/** r,'));
  assert.equal(decide(p, 'p', file('/srv/a/x', 'w', true)).allowed, true);
  assert.equal(decide(p, 'p', file('/srv/a/x', 'w', false)).allowed, false);
  assert.equal(decide(p, 'p', file('/srv/o/x', 'r', false)).allowed, true);
  assert.equal(decide(p, 'p', file('/srv/o/x', 'r', true)).allowed, false);
});

test('w implies append; a alone does not give w', () => {
  const p = compileText(profile('  /w rw,\n  /a a,'));
  assert.equal(decide(p, 'p', file('/w', 'a')).allowed, true);
  assert.equal(decide(p, 'p', file('/a', 'a')).allowed, true);
  assert.equal(decide(p, 'p', file('/a', 'w')).allowed, false);
});

test('exact beats glob for the exec transition; other bits still union', () => {
  const p = compileText(profile('  /bin/cat ix,\n  /bin/* Px,\n  /bin/* r,'));
  const cat = decide(p, 'p', file('/bin/cat', 'xr'));
  assert.equal(cat.allowed, true);
  assert.equal(cat.exec!.mode.transition, 'inherit');
  assert.deepEqual(lines(cat.exec!), [2]);
  const ls = decide(p, 'p', file('/bin/ls', 'x'));
  assert.equal(ls.exec!.mode.transition, 'profile');
  assert.equal(ls.exec!.mode.safe, true);
});

test('ix implies m; deny x removes the exec and the implied m but not an explicit m', () => {
  const implied = compileText(profile('  /x ix,'));
  const m = decide(implied, 'p', file('/x', 'm'));
  assert.equal(m.allowed, true);
  assert.equal(m.bits[0]!.implied, true);
  const denied = compileText(profile('  /x ix,\n  deny /x x,'));
  assert.equal(decide(denied, 'p', file('/x', 'm')).allowed, false);
  assert.equal(decide(denied, 'p', file('/x', 'x')).allowed, false);
  const explicit = compileText(profile('  /x mix,\n  deny /x x,'));
  assert.equal(decide(explicit, 'p', file('/x', 'm')).allowed, true);
});

test('priority: a higher-priority allow overrides a lower deny for the bits it names', () => {
  const p = compileText(profile('  priority=1 /srv/a/** r,\n  deny /srv/** rw,'));
  assert.equal(decide(p, 'p', file('/srv/a/x', 'r')).allowed, true);
  assert.equal(decide(p, 'p', file('/srv/a/x', 'w')).allowed, false);
  assert.equal(decide(p, 'p', file('/srv/b', 'r')).allowed, false);
  const low = compileText(profile('  priority=-1 deny /srv/** r,\n  /srv/** r,'));
  assert.equal(decide(low, 'p', file('/srv/x', 'r')).allowed, true);
});

test('audit allow is logged; the audit flag logs everything and disables quiet', () => {
  const p = compileText(profile('  audit /a r,\n  /b r,'));
  assert.equal(decide(p, 'p', file('/a', 'r')).bits[0]!.log, 'audit');
  assert.equal(decide(p, 'p', file('/b', 'r')).bits[0]!.log, 'none');
  const flagged = compileText('profile p flags=(audit) {\n  /b r,\n  deny /c r,\n}\n');
  assert.equal(decide(flagged, 'p', file('/b', 'r')).bits[0]!.log, 'audit');
  assert.equal(decide(flagged, 'p', file('/c', 'r')).bits[0]!.log, 'denied');
});

test('complain mode permits unmatched requests and logs them; explicit denies stay denied', () => {
  const p = compileText('profile p flags=(complain) {\n  deny /secret r,\n}\n');
  const d = decide(p, 'p', file('/anything', 'r'));
  assert.equal(d.allowed, true);
  assert.equal(d.bits[0]!.log, 'allowed-complain');
  assert.match(d.notes.join(' '), /complain/);
  assert.equal(decide(p, 'p', file('/secret', 'r')).allowed, false);
});

test('hats are separate profiles: nothing is inherited from the parent', () => {
  const p = compileText(profile('  /srv/** r,\n  ^site {\n    /srv/site/** r,\n  }'));
  assert.equal(decide(p, 'p//site', file('/srv/other/x', 'r')).allowed, false);
  assert.equal(decide(p, 'p//site', file('/srv/site/x', 'r')).allowed, true);
});

test('implicit rules: hats and their parent may write their own attr/current and read the enabled flag', () => {
  const p = compileText(profile('  ^site {\n  }'));
  for (const label of ['p', 'p//site']) {
    assert.equal(decide(p, label, file('/proc/123/attr/current', 'w', true)).allowed, true, label);
    assert.equal(decide(p, label, file('/proc/123/attr/apparmor/current', 'w', true)).allowed, true, label);
    assert.equal(decide(p, label, file('/sys/module/apparmor/parameters/enabled', 'r', true)).allowed, true, label);
    assert.equal(decide(p, label, file('/proc/123/attr/current', 'r', true)).allowed, false, label);
    // owner-only, as apparmor_parser writes them (a non-dumpable worker's /proc entries belong to root)
    assert.equal(decide(p, label, file('/proc/123/attr/apparmor/current', 'w')).allowed, false, label);
    assert.equal(decide(p, label, file('/sys/module/apparmor/parameters/enabled', 'r')).allowed, false, label);
  }
  const plain = compileText(profile('  /x r,'));
  assert.equal(decide(plain, 'p', file('/proc/123/attr/current', 'w', true)).allowed, false);
  const cp = compileText(profile('  change_profile -> q,'));
  assert.equal(decide(cp, 'p', file('/proc/123/attr/exec', 'w', true)).allowed, true);
});

test('bare file, allows every file permission including ix, and matches / itself', () => {
  const p = compileText(profile('  file,'));
  const d = decide(p, 'p', file('/', 'rwlkmx'));
  assert.equal(d.allowed, true);
  assert.equal(d.exec!.mode.transition, 'inherit');
});

test('capabilities: deny wins, bare capability allows all', () => {
  const p = compileText(profile('  capability,\n  deny capability sys_admin,'));
  assert.equal(decide(p, 'p', { class: 'capability', name: 'chown' }).allowed, true);
  assert.equal(decide(p, 'p', { class: 'capability', name: 'CAP_SYS_ADMIN' }).allowed, false);
});

test('signals and network: conditions narrow, unspecified conditions match anything', () => {
  const p = compileText(profile('  signal (send) set=(term, kill) peer=web//*,\n  network inet stream,'));
  const send = (signal: string, peer: string): AccessRequest => ({ class: 'signal', access: ['send'], fields: { signal, peer } });
  assert.equal(decide(p, 'p', send('term', 'web//a')).allowed, true);
  assert.equal(decide(p, 'p', send('hup', 'web//a')).allowed, false);
  assert.equal(decide(p, 'p', send('term', 'other')).allowed, false);
  assert.equal(decide(p, 'p', { class: 'signal', access: ['receive'], fields: { signal: 'term', peer: 'web//a' } }).allowed, false);
  assert.equal(decide(p, 'p', { class: 'network', access: ['connect'], fields: { family: 'inet', type: 'stream' } }).allowed, true);
  assert.equal(decide(p, 'p', { class: 'network', access: ['connect'], fields: { family: 'inet', type: 'dgram' } }).allowed, false);
});

test('change_profile: a target pattern, no target means **', () => {
  const p = compileText(profile('  change_profile -> php-fpm//*,'));
  assert.equal(decide(p, 'p', { class: 'change_profile', target: 'php-fpm//www' }).allowed, true);
  assert.equal(decide(p, 'p', { class: 'change_profile', target: 'unconfined' }).allowed, false);
  const any = compileText(profile('  change_profile,'));
  assert.equal(decide(any, 'p', { class: 'change_profile', target: 'anything//at/all' }).allowed, true);
});

test('links: l on the link name, subset against what the target grants', () => {
  const p = compileText(profile('  /file1 r,\n  /file2 rwk,\n  /link* rw,\n  link subset /link* -> /**,'));
  assert.equal(decide(p, 'p', { class: 'link', path: '/link', target: '/file2' }).allowed, true);
  assert.equal(decide(p, 'p', { class: 'link', path: '/link', target: '/file1' }).allowed, false);
  const plain = compileText(profile('  link /a -> /b,'));
  assert.equal(decide(plain, 'p', { class: 'link', path: '/a', target: '/b' }).allowed, true);
  assert.equal(decide(plain, 'p', { class: 'link', path: '/a', target: '/c' }).allowed, false);
});

test('decisions name rules through includes', () => {
  const p = compileText(profile('  include <abstractions/site>'), { '/etc/apparmor.d/abstractions/site': '/srv/www/** r,\n' });
  const d = decide(p, 'p', file('/srv/www/index.html', 'r'));
  assert.equal(d.allowed, true);
  const rule = d.grantedBy[0]!;
  assert.equal(rule.file, '/etc/apparmor.d/abstractions/site');
  assert.equal(rule.line, 1);
  assert.equal(rule.includeChain[0]!.file, '/policy/test');
  assert.equal(rule.includeChain[0]!.line, 2);
});

test('unknown profiles, permissions and access words are errors, not answers', () => {
  const p = compileText(profile('  /x r,'));
  assert.throws(() => decide(p, 'nope', file('/x', 'r')), UnknownRequestError);
  assert.throws(() => decide(p, 'p', file('/x', 'rz')), /not a file permission/);
  assert.throws(() => decide(p, 'p', { class: 'signal', access: ['frob'], fields: {} }), /not a signal access/);
});
