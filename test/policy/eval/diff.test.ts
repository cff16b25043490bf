// diffPolicies() against the "Known equivalences" of policy-semantics.md §11 (from upstream
// equality.sh): every listed equivalence must compare equal and every listed non-equivalence different,
// across rule classes and with prefixes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCompileCache, diffPolicies, type PolicyDiff } from '../../../src/policy/eval/index.js';
import { compileText, profile } from './support.js';

function same(a: string, b: string, extra: Record<string, string> = {}) {
  const diff = diffPolicies(compileText(a, extra), compileText(b, extra));
  const why = diff.profiles.flatMap((p) => p.classes.filter((c) => !c.equal).flatMap((c) => [...c.notes, ...c.witnesses.map((w) => w.summary)]));
  assert.ok(diff.equal, `expected equal:\n${a}\n---\n${b}\n${why.join('\n')}`);
}

function different(a: string, b: string) {
  const diff = diffPolicies(compileText(a), compileText(b));
  assert.ok(!diff.equal, `expected different:\n${a}\n---\n${b}`);
  return diff;
}

const classRules = [
  'capability chown,', 'network inet stream,', 'unix (send) type=stream,', 'dbus send bus=session path=/org/x,',
  'signal (send) set=(hup),', 'ptrace (read) peer=foo,', 'mount options=(ro) /dev/sda1 -> /mnt/,', 'umount /mnt/,',
  'pivot_root /new/,', 'remount /mnt/,', '/foo/** rw,', 'link /l -> /t,',
];

test('`allow X` equals `X` for every class', () => {
  for (const rule of classRules) same(profile(`  allow ${rule}`), profile(`  ${rule}`));
});

test('X, audit X, deny X and audit deny X are four different policies in every class', () => {
  for (const rule of classRules) {
    const variants = ['', 'audit ', 'deny ', 'audit deny '].map((p) => profile(`  ${p}${rule}`));
    for (let i = 0; i < variants.length; i++) for (let j = i + 1; j < variants.length; j++) different(variants[i]!, variants[j]!);
  }
});

test('leading and trailing permissions are the same rule, for every permission subset and prefix', () => {
  const perms = ['r', 'w', 'a', 'l', 'k', 'm', 'rw', 'rwk', 'mr', 'rl', 'ix', 'px', 'Px', 'ux', 'Ux', 'cx', 'Cx', 'pix', 'cux', 'mrix'];
  for (const p of perms) {
    for (const prefix of ['', 'owner ', 'audit ', 'file ', 'owner file ']) {
      if (/x/.test(p) && prefix.includes('deny')) continue;
      same(profile(`  ${prefix}/a ${p},`), profile(`  ${prefix}${p} /a,`));
    }
  }
  for (const prefix of ['deny ', 'audit deny ']) same(profile(`  ${prefix}/a rw,`), profile(`  ${prefix}rw /a,`));
});

test('ix implies m, also under owner and other', () => {
  for (const prefix of ['', 'owner ', 'other ']) same(profile(`  ${prefix}/x ix,`), profile(`  ${prefix}/x mix,`));
});

test('owner /x ix, other /x ix and /x ix differ from each other', () => {
  different(profile('  owner /x ix,'), profile('  other /x ix,'));
  different(profile('  owner /x ix,'), profile('  /x ix,'));
  different(profile('  other /x ix,'), profile('  /x ix,'));
});

test('deny x removes any exec mode and the implied m', () => {
  for (const mode of ['ix', 'px', 'Px', 'cx', 'ux', 'pix', 'Cux']) {
    same(profile(`  /x ${mode},\n  deny /x x,`), profile('  deny /x x,'));
  }
  const d = different(profile('  /* px,'), profile('  /* px,\n  audit deny /f x,'));
  const file = d.profiles[0]!.classes.find((c) => c.class === 'file')!;
  assert.ok(file.witnesses.some((w) => (w.request as { path: string }).path === '/f'), 'the witness is the denied path');
});

test('an exact rule repeating the glob mode is redundant; a different mode is not', () => {
  same(profile('  /f* px,\n  /f px,'), profile('  /f* px,'));
  different(profile('  /f* px,\n  /f Px,'), profile('  /f* px,'));
  different(profile('  /x px -> a,'), profile('  /x px -> b,'));
  different(profile('  /x Px,'), profile('  /x px,'));
});

test('a deny carves out of an allow; a deny of something never granted changes nothing but quiet', () => {
  same(profile('  /foo/[abc] r,\n  deny /foo/b r,'), profile('  /foo/[ac] r,\n  deny /foo/b r,'));
  same(profile('  /foo/[abc] r,\n  audit deny /foo/b r,'), profile('  /foo/[ac] r,\n  audit deny /foo/b r,'));
  // Without the deny the (quiet) denial of /foo/b is logged instead, so the policies differ in logging.
  different(profile('  /foo/[abc] r,\n  deny /foo/b r,'), profile('  /foo/[ac] r,'));
});

test('priorities: a higher-priority rule overriding a lower one; a low deny under an allow is inert', () => {
  same(profile('  priority=1 /srv/** r,\n  deny /srv/** r,'), profile('  priority=1 /srv/** r,\n  priority=-5 deny /srv/** r,'));
  same(profile('  priority=-1 deny /srv/** w,\n  /srv/** rw,'), profile('  /srv/** rw,'));
});

test('change_profile: bare equals -> **; safe is the default with an exec condition; unsafe differs', () => {
  same(profile('  change_profile,'), profile('  change_profile -> **,'));
  same(profile('  change_profile /exe -> p,'), profile('  change_profile safe /exe -> p,'));
  different(profile('  change_profile unsafe /exe -> p,'), profile('  change_profile safe /exe -> p,'));
});

test('implicit hat rules: a profile with a hat equals one with the rules written out', () => {
  // owner-only, as apparmor_parser writes them
  const hat = '  ^h {\n    owner /proc/[0-9]*/attr/{apparmor/,}current w,\n    owner /proc/*/attr/apparmor/ r,\n    owner /sys/module/apparmor/parameters/enabled r,\n  }';
  same(profile(`  /x r,\n${hat}`),
    profile(`  /x r,\n  owner /proc/[0-9]*/attr/{apparmor/,}current w,\n  owner /proc/*/attr/apparmor/ r,\n  owner /sys/module/apparmor/parameters/enabled r,\n${hat}`));
});

test('slash filtering: /a//b equals /a/b in file, link, mount and dbus paths', () => {
  same(profile('  /a//b r,'), profile('  /a/b r,'));
  same(profile('  link /l//x -> /t//y,'), profile('  link /l/x -> /t/y,'));
  same(profile('  mount -> /mnt//x/,'), profile('  mount -> /mnt/x/,'));
  same(profile('  dbus send path=/org//x,'), profile('  dbus send path=/org/x,'));
});

test('mount "" equals mount detached', () => {
  same(profile('  mount "" -> /x/,'), profile('  mount detached -> /x/,'));
});

test('variables: a rule written with @{V} equals the values written out; assignment operators that give the same set', () => {
  same(`@{V} = /a /b\n${profile('  @{V}/x r,')}`, profile('  /{a,b}/x r,'));
  same(`@{V} = /a\n@{V} += /b\n${profile('  @{V}/x r,')}`, `@{V} ?= /b /a\n${profile('  @{V}/x r,')}`);
  same(`$B = true\n${profile('  if $B {\n    /yes r,\n  } else {\n    /no r,\n  }')}`, profile('  /yes r,'));
});

test('rlimits in different units that denote the same value', () => {
  same(profile('  set rlimit as <= 1024KB,'), profile('  set rlimit as <= 1MB,'));
  different(profile('  set rlimit as <= 1024KB,'), profile('  set rlimit as <= 2MB,'));
});

test('dbus access aliases and duplicate rules collapse', () => {
  same(profile('  dbus send bus=session,'), profile('  dbus write bus=session,'));
  same(profile('  dbus (w) bus=session,'), profile('  dbus send bus=session,\n  dbus send bus=session,'));
  same(profile('  dbus receive bus=session,'), profile('  dbus (read) bus=session,'));
});

test('network unix equals unix', () => {
  same(profile('  network unix,'), profile('  unix,'));
});

test('@{profile_name} is the hierarchical name with AARE characters escaped', () => {
  same(profile('  /run/@{profile_name}/** r,', 'g/[x]'), profile('  /run/g/\\[x\\]/** r,', 'g/[x]'));
});

test('directories: /tmp/** differs from /tmp/{,**}, and /tmp/* from /tmp/*/', () => {
  const d = different(profile('  /tmp/** r,'), profile('  /tmp/{,**} r,'));
  const witness = d.profiles[0]!.classes.find((c) => c.class === 'file')!.witnesses[0]!;
  assert.equal((witness.request as { path: string }).path, '/tmp/');
  assert.deepEqual(witness.gained, ['r']);
  different(profile('  /tmp/* r,'), profile('  /tmp/*/ r,'));
});

test('completely different spellings of the same permissions compare equal', () => {
  same(
    profile('  /srv/www/{alice,bob}/** r,\n  /srv/www/alice/** w,\n  deny /srv/www/*/.git/** rw,'),
    profile('  deny /srv/www/*/.git/** w,\n  /srv/www/bob/** r,\n  /srv/www/alice/** rw,\n  deny /srv/www/*/.git/** r,\n  /srv/www/alice/** r,'),
  );
});

test('a real change reports gained and lost permissions with the shortest witness and the deciding rules', () => {
  const d = different(profile('  /srv/www/** r,'), profile('  /srv/www/** r,\n  /srv/www/*/uploads/** w,'));
  const w = d.profiles[0]!.classes.find((c) => c.class === 'file')!.witnesses[0]!;
  assert.match(w.summary, /^gained: wa on \/srv\/www\/a\/uploads\/a/);
  assert.equal(w.after.bits.find((b) => b.bit === 'w')!.rules[0]!.line, 3);
});

test('added and removed hats are reported', () => {
  const d = different(profile('  ^a {\n  }'), profile('  ^a {\n  }\n  ^b {\n  }'));
  assert.ok(d.profiles.some((p) => p.label === 'p//b' && p.classes[0]!.notes[0] === 'added'));
});

test('a shared compile cache reuses the DFA of unchanged profiles and gives the same answers', () => {
  const a = 'profile p {\n  /srv/** r,\n  ^h {\n    /tmp/** rw,\n  }\n}\n';
  const b = 'profile p {\n  /srv/** r,\n  ^h {\n    /tmp/*/** r,\n  }\n}\n';
  const complain = 'profile p flags=(complain) {\n  /srv/** r,\n  ^h {\n    /tmp/** rw,\n  }\n}\n';
  const cache = createCompileCache();
  const [A, B, C] = [a, b, complain].map((text) => compileText(text, {}, cache)) as [ReturnType<typeof compileText>, ReturnType<typeof compileText>, ReturnType<typeof compileText>];
  assert.equal(A.profiles.get('p')!.fileAutomaton, B.profiles.get('p')!.fileAutomaton, 'p is compiled once');
  assert.notEqual(A.profiles.get('p//h')!.fileAutomaton, B.profiles.get('p//h')!.fileAutomaton);
  const verdicts = (d: PolicyDiff) => d.profiles.map((p) => [p.label, p.equal, p.classes.flatMap((c) => c.witnesses.map((w) => w.summary))]);
  assert.deepEqual(verdicts(diffPolicies(A, B)), verdicts(diffPolicies(compileText(a), compileText(b))));
  assert.deepEqual(verdicts(diffPolicies(A, B)).map(([label, equal]) => [label, equal]), [['p', true], ['p//h', false]]);
  // Same DFA, different mode: complain permits what no rule grants, so the files differ.
  assert.equal(A.profiles.get('p')!.fileAutomaton, C.profiles.get('p')!.fileAutomaton);
  const modeDiff = diffPolicies(A, C).profiles.find((p) => p.label === 'p')!;
  assert.equal(modeDiff.classes.find((c) => c.class === 'file')!.equal, false);
});
