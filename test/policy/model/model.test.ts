import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../../src/policy/syntax/index.js';
import {
  buildPolicyModel, childProfiles, normalizePolicy, parsePolicyFile, policyToJson, rulesOf, topLevelProfiles, unescape, walkProfiles,
  type Profile, type Rule, type Statement,
} from '../../../src/policy/model/index.js';

function firstProfile(text: string): Profile {
  const { policy, diagnostics } = parsePolicyFile(text, 'p');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), [], text);
  const profile = topLevelProfiles(policy)[0];
  assert.ok(profile);
  return profile;
}

function onlyRule(rule: string): Rule {
  const rules = rulesOf(firstProfile(`profile p {\n  ${rule}\n}\n`).body);
  assert.equal(rules.length, 1, rule);
  return rules[0]!;
}

const raw = (w: { raw: string } | undefined) => w?.raw;

test('preamble items carry their fields', () => {
  const { policy } = parsePolicyFile([
    'abi <abi/4.0>,',
    'include if exists <local/x>',
    '#include "quoted path"',
    'include bare/path',
    'rewrite /usr/ -> /mnt/usr/,',
    '@{HOME} += /home/*/ "" "/a b/"',
    '$B ?= true',
  ].join('\n'), 'f');
  const [abi, inc1, inc2, inc3, alias, variable, bool] = policy.items as Statement[];
  assert.deepEqual(abi && abi.kind === 'Abi' && [abi.form, abi.path], ['magic', 'abi/4.0']);
  assert.deepEqual(inc1 && inc1.kind === 'Include' && [inc1.form, inc1.path, inc1.ifExists, inc1.hashInclude], ['magic', 'local/x', true, false]);
  assert.deepEqual(inc2 && inc2.kind === 'Include' && [inc2.form, inc2.path, inc2.hashInclude], ['quoted', 'quoted path', true]);
  assert.deepEqual(inc3 && inc3.kind === 'Include' && [inc3.form, inc3.path], ['bare', 'bare/path']);
  assert.deepEqual(alias && alias.kind === 'Alias' && [alias.keyword, raw(alias.from), raw(alias.to)], ['rewrite', '/usr/', '/mnt/usr/']);
  assert.ok(variable?.kind === 'VariableAssignment');
  assert.equal(variable.name, 'HOME');
  assert.equal(variable.operator, '+=');
  assert.deepEqual(variable.values.map((v) => [v.value, v.quoted]), [['/home/*/', false], ['', true], ['/a b/', true]]);
  assert.ok(bool?.kind === 'BooleanAssignment');
  assert.deepEqual([bool.name, bool.operator, bool.expression.kind], ['B', '?=', 'BooleanLiteral']);
});

test('conditional expressions become an expression tree', () => {
  const { policy } = parsePolicyFile('if not defined @{X} and ($B or @{Y} >= 3) {\n} else if $C {\n} else {\n}\n', 'f');
  const conditional = policy.items[0];
  assert.ok(conditional?.kind === 'Conditional');
  assert.deepEqual(conditional.branches.map((b) => b.keyword), ['if', 'else if', 'else']);
  const condition = conditional.branches[0]!.condition!;
  assert.ok(condition.kind === 'And');
  assert.ok(condition.left.kind === 'Not' && condition.left.operand.kind === 'Defined');
  assert.deepEqual(condition.left.operand.variable, { type: 'set', name: 'X', raw: '@{X}' });
  assert.ok(condition.right.kind === 'Or');
  assert.ok(condition.right.right.kind === 'Compare');
  assert.equal(condition.right.right.operator, '>=');
  assert.deepEqual(condition.right.right.left, { kind: 'SetVariable', name: 'Y', raw: '@{Y}', span: condition.right.right.left.span });
  assert.equal(conditional.branches[2]!.condition, undefined);
});

test('profiles: forms, names, attachments, flags, xattrs, hats and children', () => {
  const text = [
    'profile "my app" /usr/bin/my\\ app xattrs=(security.apparmor=trusted) flags=(complain, attach_disconnected.path=/x) {',
    '  ^DEFAULT_URI {',
    '    hat inner {',
    '    }',
    '  }',
    '  profile child {',
    '  }',
    '}',
    '/usr/sbin/apache2 (enforce) {',
    '}',
    'hat apache2//late {',
    '}',
  ].join('\n');
  const { policy } = parsePolicyFile(text, 'f');
  const all = [...walkProfiles(policy)].map(({ profile, parents }) => [profile.form, profile.unescapedName, profile.isHat, parents.map((p) => p.unescapedName).join('/')]);
  assert.deepEqual(all, [
    ['profile', 'my app', false, ''],
    ['path', '/usr/sbin/apache2', false, ''],
    ['hat', 'apache2//late', true, ''],
    ['caret', 'DEFAULT_URI', true, 'my app'],
    ['profile', 'child', false, 'my app'],
    ['hat', 'inner', true, 'my app/DEFAULT_URI'],
  ]);
  const top = topLevelProfiles(policy)[0]!;
  assert.equal(top.name?.raw, '"my app"');
  assert.equal(top.attachment?.raw, '/usr/bin/my\\ app');
  assert.deepEqual(top.flags.map((f) => f.raw), ['complain', 'attach_disconnected.path=/x']);
  assert.deepEqual(top.xattrs.map((x) => [x.name, x.values.map((v) => v.raw)]), [['security.apparmor', ['trusted']]]);
  assert.deepEqual(childProfiles(top).map((p) => p.unescapedName), ['DEFAULT_URI', 'child']);
  assert.deepEqual(topLevelProfiles(policy)[1]!.flags.map((f) => f.raw), ['enforce']);
});

test('file rules: path, permissions, exec mode, target, prefix', () => {
  const rule = onlyRule('priority=10 audit deny owner /usr/bin/x rPx -> other_profile,');
  assert.ok(rule.kind === 'FileRule');
  assert.deepEqual(
    [raw(rule.path), rule.permissions, rule.execMode, raw(rule.target), rule.leadingPermissions, rule.bare],
    ['/usr/bin/x', 'rPx', 'Px', 'other_profile', false, false],
  );
  assert.deepEqual([rule.prefix.priority?.value, rule.prefix.audit, rule.prefix.access, rule.prefix.owner], [10, true, 'deny', 'owner']);
  const leading = onlyRule('unsafe pix /bin/sh,');
  assert.ok(leading.kind === 'FileRule');
  assert.deepEqual([leading.safety, leading.permissions, leading.execMode, leading.leadingPermissions], ['unsafe', 'pix', 'pix', true]);
  const bare = onlyRule('file,');
  assert.ok(bare.kind === 'FileRule' && bare.bare && bare.fileKeyword);
  const quoted = onlyRule('"/a b/**" rw,');
  assert.ok(quoted.kind === 'FileRule' && quoted.path?.value === '/a b/**' && quoted.path.quoted);
  const link = onlyRule('l /a -> /b,');
  assert.ok(link.kind === 'LinkRule' && link.leadingPermission && raw(link.link) === '/a' && raw(link.target) === '/b');
});

test('class rules keep access words, bare words, conditions and targets raw', () => {
  const link = onlyRule('link subset /l -> /t,');
  assert.ok(link.kind === 'LinkRule' && link.subset && raw(link.link) === '/l' && raw(link.target) === '/t');
  const lessEqual = onlyRule('link <= /l -> /t,');
  assert.ok(lessEqual.kind === 'LinkRule' && lessEqual.subset);
  const cap = onlyRule('capability setuid chown,');
  assert.ok(cap.kind === 'CapabilityRule');
  assert.deepEqual(cap.capabilities.map(raw), ['setuid', 'chown']);
  const net = onlyRule('network (connect, send) inet stream ip=10.0.0.1 peer=(ip=@{ADDR} port=80-90),');
  assert.ok(net.kind === 'NetworkRule');
  assert.deepEqual(net.access.map(raw), ['connect', 'send']);
  assert.deepEqual(net.words.map(raw), ['inet', 'stream']);
  assert.deepEqual(net.conditions.map((c) => [c.name, c.values.map(raw), c.conditions.map((n) => `${n.name}=${n.values.map(raw).join()}`)]),
    [['ip', ['10.0.0.1'], []], ['peer', [], ['ip=@{ADDR}', 'port=80-90']]]);
  const dbus = onlyRule('dbus send bus=session path=/org/{a,b} member=Foo peer=(label=unconfined),');
  assert.ok(dbus.kind === 'DbusRule');
  assert.deepEqual(dbus.access.map(raw), ['send']);
  assert.deepEqual(dbus.conditions.map((c) => c.name), ['bus', 'path', 'member', 'peer']);
  const signal = onlyRule('signal receive set=(term, hup) peer=foo//bar,');
  assert.ok(signal.kind === 'SignalRule');
  assert.deepEqual(signal.conditions.map((c) => [c.name, c.list, c.values.map(raw)]), [['set', true, ['term', 'hup']], ['peer', false, ['foo//bar']]]);
  const mount = onlyRule('mount fstype=ext4 options in (ro, nosuid) /dev/sda1 -> /mnt/,');
  assert.ok(mount.kind === 'MountRule');
  assert.deepEqual([mount.words.map(raw), raw(mount.target), mount.conditions.map((c) => [c.name, c.operator])],
    [['/dev/sda1'], '/mnt/', [['fstype', '='], ['options', 'in']]]);
  const umount = onlyRule('unmount /mnt/,');
  assert.ok(umount.kind === 'UmountRule' && umount.keyword === 'unmount');
  const pivot = onlyRule('pivot_root oldroot=/old/ /new/ -> child,');
  assert.ok(pivot.kind === 'PivotRootRule' && raw(pivot.words[0]) === '/new/' && raw(pivot.target) === 'child');
  const cp = onlyRule('change_profile safe /bin/x -> {a,b}//*,');
  assert.ok(cp.kind === 'ChangeProfileRule');
  assert.deepEqual([cp.safety, raw(cp.exec), raw(cp.target)], ['safe', '/bin/x', '{a,b}//*']);
  const rlimit = onlyRule('set rlimit data <= 10MB,');
  assert.ok(rlimit.kind === 'RlimitRule' && raw(rlimit.resource) === 'data' && raw(rlimit.value) === '10MB');
  const tight = onlyRule('set rlimit nofile<=10,');
  assert.ok(tight.kind === 'RlimitRule' && raw(tight.resource) === 'nofile' && raw(tight.value) === '10');
  const userns = onlyRule('userns create,');
  assert.ok(userns.kind === 'UserNsRule' && raw(userns.access[0]) === 'create');
  const uring = onlyRule('io_uring sqpoll label=foo,');
  assert.ok(uring.kind === 'IoUringRule' && raw(uring.access[0]) === 'sqpoll' && uring.conditions[0]?.name === 'label');
  const mq = onlyRule('mqueue (create, delete) type=posix /q,');
  assert.ok(mq.kind === 'MqueueRule' && mq.access.length === 2 && raw(mq.words[0]) === '/q');
  assert.equal(onlyRule('all,').kind, 'AllRule');
});

test('unknown text becomes an UnknownRule with its raw text, never a throw', () => {
  const { policy } = buildPolicyModel(parsePolicy('profile p {\n  frobnicate the widget,\n  /ok r,\n}\n', 'f'));
  const rules = rulesOf(topLevelProfiles(policy)[0]!.body);
  assert.deepEqual(rules.map((r) => [r.kind, r.text]), [['UnknownRule', 'frobnicate the widget,'], ['FileRule', '/ok r,']]);
});

test('spans point at the source and the CST link is hidden from JSON', () => {
  const text = '# c\nprofile p {\n  /x r,\n}\n';
  const { policy } = parsePolicyFile(text, 'file.aa');
  const rule = rulesOf(topLevelProfiles(policy)[0]!.body)[0]!;
  assert.deepEqual(rule.span, { file: 'file.aa', offset: 18, length: 5 });
  assert.equal(text.slice(rule.span.offset, rule.span.offset + rule.span.length), '/x r,');
  assert.equal(rule.syntax.kind, 'FileRule');
  assert.ok(!Object.keys(rule).includes('syntax'));
  const json = policyToJson(policy, text) as { items: { span: unknown; body: { span: unknown }[] }[] };
  assert.deepEqual(json.items[0]!.body[0]!.span, { file: 'file.aa', line: 3, col: 3, endLine: 3, endCol: 8 });
  assert.doesNotThrow(() => JSON.stringify(policy));
});

test('normalizePolicy ignores layout and permission order but not meaning', () => {
  const norm = (t: string) => normalizePolicy(parsePolicyFile(t, 'f').policy);
  const base = norm('profile p {\n  /x rw,\n  capability chown setuid,\n}\n');
  assert.deepEqual(norm('profile p {   /x   wr,\n\n capability setuid chown, }'), base);
  assert.notDeepEqual(norm('profile p {\n  /y rw,\n  capability chown setuid,\n}\n'), base);
  assert.notDeepEqual(norm('profile p {\n  /x r,\n  capability chown setuid,\n}\n'), base);
  assert.notDeepEqual(norm('profile p {\n  deny /x rw,\n  capability chown setuid,\n}\n'), base);
});

test('unescape decodes AppArmor escapes', () => {
  assert.equal(unescape('a\\ b\\"c\\101\\x42\\d067\\t\\q'), 'a b"cABC\tq');
});
