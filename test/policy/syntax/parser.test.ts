import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, printTree, SyntaxNode } from '../../../src/policy/syntax/index.js';
import { bodyKinds, errorCodes, outline } from './helpers.js';

const wrap = (rules: string) => `profile p {\n${rules}\n}\n`;

test('every rule class gets its own node kind', () => {
  const cases: [string, string][] = [
    ['/etc/passwd r,', 'FileRule'],
    ['file /x rw,', 'FileRule'],
    ['file,', 'FileRule'],
    ['rw /tmp/x,', 'FileRule'],
    ['/bin/ls Px -> other,', 'FileRule'],
    ['unsafe px /foo,', 'FileRule'],
    ['"/quoted path/x" r,', 'FileRule'],
    ['@{HOME}/.cfg rw,', 'FileRule'],
    ['link subset /a -> /b,', 'LinkRule'],
    ['capability chown dac_override,', 'CapabilityRule'],
    ['capability,', 'CapabilityRule'],
    ['network inet stream,', 'NetworkRule'],
    ['network (connect, send) inet ip=10.0.0.1 port=80 peer=(ip=1.2.3.4 port=443),', 'NetworkRule'],
    ['unix (send receive) type=stream addr=@foo peer=(label=bar),', 'UnixRule'],
    ['dbus send bus=system path=/org/x member={A,B} peer=(name=org.x),', 'DbusRule'],
    ['dbus bind bus=session name=org.x,', 'DbusRule'],
    ['dbus eavesdrop bus=session,', 'DbusRule'],
    ['signal (send) set=(hup, term) peer=unconfined,', 'SignalRule'],
    ['ptrace (read, trace) peer=foo,', 'PtraceRule'],
    ['mount fstype=ext4 options=(ro, nosuid) /dev/sda1 -> /mnt/,', 'MountRule'],
    ['mount options in (ro) -> /mnt/,', 'MountRule'],
    ['remount /mnt/,', 'RemountRule'],
    ['umount /mnt/,', 'UmountRule'],
    ['unmount /mnt/,', 'UmountRule'],
    ['pivot_root oldroot=/old/ /new/ -> child,', 'PivotRootRule'],
    ['change_profile -> foo//*,', 'ChangeProfileRule'],
    ['change_profile unsafe /bin/sh -> sh,', 'ChangeProfileRule'],
    ['set rlimit nofile <= 1024,', 'RlimitRule'],
    ['set rlimit data <= 10MB,', 'RlimitRule'],
    ['set rlimit nofile<=10,', 'RlimitRule'],
    ['userns,', 'UserNsRule'],
    ['userns create,', 'UserNsRule'],
    ['io_uring sqpoll label=foo,', 'IoUringRule'],
    ['mqueue (read, write) type=posix /q,', 'MqueueRule'],
    ['all,', 'AllRule'],
    ['include <abstractions/base>', 'Include'],
    ['#include <abstractions/base>', 'Include'],
    ['include if exists <local/p>', 'Include'],
  ];
  for (const [rule, kind] of cases) {
    const text = wrap(`  ${rule}`);
    const result = parsePolicy(text, 't');
    assert.deepEqual(bodyKinds(text), [kind], rule);
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), [], rule);
    assert.equal(printTree(result.root), text);
  }
});

test('rule prefixes and qualifier blocks', () => {
  const text = wrap('  priority=-5 audit deny owner /etc/shadow w,\n  audit deny owner {\n    /x r,\n  }\n  allow all,');
  assert.equal(outline(text), [
    'Policy',
    '  Profile',
    '    ProfileName',
    '    Block',
    '      FileRule',
    '        Prefix',
    '          Priority',
    '      QualifierBlock',
    '        Prefix',
    '        Block',
    '          FileRule',
    '      AllRule',
    '        Prefix',
  ].join('\n'));
  assert.deepEqual(errorCodes(text), []);
});

test('hats, children and top-level hats nest to any depth', () => {
  const text = [
    'profile apache2 /usr/sbin/apache2 flags=(attach_disconnected) {',
    '  ^DEFAULT_URI {',
    '    ^inner.example-site/x {',
    '      /srv/ r,',
    '    }',
    '  }',
    '  hat "with space" {',
    '  }',
    '  profile child /usr/bin/child {',
    '  }',
    '}',
    'hat apache2//late {',
    '}',
    'profile apache2//other {',
    '}',
    '',
  ].join('\n');
  assert.equal(outline(text), [
    'Policy',
    '  Profile', '    ProfileName', '    Attachment', '    Flags', '      List', '    Block',
    '      Profile', '        ProfileName', '        Block',
    '          Profile', '            ProfileName', '            Block', '              FileRule',
    '      Profile', '        ProfileName', '        Block',
    '      Profile', '        ProfileName', '        Attachment', '        Block',
    '  Profile', '    ProfileName', '    Block',
    '  Profile', '    ProfileName', '    Block',
  ].join('\n'));
  assert.deepEqual(errorCodes(text), []);
});

test('path-named profiles are told apart from file rules by what follows the name', () => {
  assert.deepEqual(outline('/usr/bin/foo {\n}\n').split('\n').map((l) => l.trim()), ['Policy', 'Profile', 'ProfileName', 'Block']);
  assert.deepEqual(outline('/usr/bin/foo /usr/bin/foo* (complain) {\n}\n').split('\n').map((l) => l.trim()),
    ['Policy', 'Profile', 'ProfileName', 'Attachment', 'Flags', 'List', 'Block']);
  // An abstraction: rules at file scope.
  assert.deepEqual(outline('/usr/bin/foo rix,\n/etc/x r,\n').split('\n').map((l) => l.trim()), ['Policy', 'FileRule', 'FileRule']);
});

test('preamble: abi, includes, alias, variables with continuation, booleans, conditionals', () => {
  const text = [
    'abi <abi/4.0>,',
    'include <tunables/global>',
    'include "/etc/apparmor.d/x y"',
    'include bare/path',
    'alias /usr/ -> /mnt/usr/,',
    '@{HOME} = /home/*/ "/root x/" \\',
    '          /srv/',
    '@{X} += a',
    '@{Y}?=b',
    '$FOO = true',
    '${BAR} := false',
    'if defined @{HOME} and not $FOO or (@{X} == a) {',
    '  /x r,',
    '} else if $BAR {',
    '} else {',
    '}',
    '',
  ].join('\n');
  assert.equal(outline(text), [
    'Policy', '  Abi', '  Include', '  Include', '  Include', '  Alias', '  VariableAssignment', '  VariableAssignment',
    '  VariableAssignment', '  BooleanAssignment', '    AtomExpression', '  BooleanAssignment', '    AtomExpression',
    '  Conditional',
    '    ConditionalBranch',
    '      BinaryExpression',
    '        BinaryExpression',
    '          DefinedExpression',
    '          NotExpression',
    '            AtomExpression',
    '        ParenExpression',
    '          CompareExpression',
    '            AtomExpression',
    '            AtomExpression',
    '      Block', '        FileRule',
    '    ConditionalBranch', '      AtomExpression', '      Block',
    '    ConditionalBranch', '      Block',
  ].join('\n'));
  assert.deepEqual(errorCodes(text), []);
});

test('comments in odd places are trivia and never swallow #include', () => {
  const text = [
    '# header',
    'profile p { # after brace',
    '  /x r, # after rule',
    '  dbus send # inside a rule',
    '       bus=system,',
    '  #include <abstractions/base>',
    '  #comment-looking #include',
    '  /y#z r,',
    '}# after close',
  ].join('\n');
  const result = parsePolicy(text, 't');
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(bodyKinds(text), ['FileRule', 'DbusRule', 'Include', 'FileRule']);
  assert.equal(printTree(result.root), text);
  // `#` inside a word is part of the path, not a comment.
  const root = new SyntaxNode(result.root);
  const words: string[] = [];
  const walk = (n: SyntaxNode) => { for (const c of n.children()) { if (c instanceof SyntaxNode) walk(c); else if (c.kind === 'Word') words.push(c.text); } };
  walk(root);
  assert.ok(words.includes('/y#z'));
});

test('CRLF line endings, tabs, non-ASCII and quoted names with spaces', () => {
  const text = 'profile "my app ü" {\r\n\t/srv/ŵeb/** r,\r\n\t^hät {\r\n\t}\r\n}\r\n';
  const result = parsePolicy(text, 't');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(printTree(result.root), text);
  assert.deepEqual(bodyKinds(text), ['FileRule', 'Profile']);
  const assignment = '@{V} = a \\\r\n  b\r\n/x {\r\n}\r\n';
  assert.deepEqual(outline(assignment).split('\n').map((l) => l.trim()), ['Policy', 'VariableAssignment', 'Profile', 'ProfileName', 'Block']);
});

test('escapes and commas inside words', () => {
  const text = wrap('  /a\\ b\\,c r,\n  /usr/{bin,sbin}/x r,\n  /{,usr/}lib/** mr,');
  assert.deepEqual(errorCodes(text), []);
  assert.deepEqual(bodyKinds(text), ['FileRule', 'FileRule', 'FileRule']);
});

test('a condition value may begin with an alternation, in a rule and inside ( … )', () => {
  const text = wrap([
    '  signal peer={,vs}code,',
    '  ptrace peer={foo,bar},',
    '  dbus send peer=(name={,vs}code label={foo,bar}),',
    '  unix peer=(label=x{a,{b,c}}y addr=@foo),',
    '  dbus peer=(name=org.{a,}.x),',
    '  dbus receive peer=(),',
  ].join('\n'));
  const result = parsePolicy(text, 't');
  assert.deepEqual(result.diagnostics, []);
  assert.equal(printTree(result.root), text);
  const values: string[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.kind === 'Condition') values.push(node.text().trim());
    node.childNodes().forEach(visit);
  };
  visit(new SyntaxNode(result.root));
  assert.deepEqual(values, [
    'peer={,vs}code', 'peer={foo,bar}',
    'peer=(name={,vs}code label={foo,bar})', 'name={,vs}code', 'label={foo,bar}',
    'peer=(label=x{a,{b,c}}y addr=@foo)', 'label=x{a,{b,c}}y', 'addr=@foo',
    'peer=(name=org.{a,}.x)', 'name=org.{a,}.x', 'peer=()',
  ]);
  // Outside an alternation a comma still separates list items, and a lone '{' is still a brace.
  assert.deepEqual(errorCodes(wrap('  dbus peer=(name=a,label=b),')), []);
  assert.deepEqual(errorCodes(wrap('  signal peer={\n  }')).includes('syntax/expected-value'), true);
});

test('syntax errors: codes, positions and recovery', () => {
  const cases: [string, string[]][] = [
    [wrap('  /x r\n  /y r,'), ['syntax/missing-comma']],
    ['profile p {\n  /x r,\n', ['syntax/unclosed-block']],
    ['profile p {\n}\n}\n', ['syntax/unmatched-close-brace']],
    [wrap('  frobnicate the widget,'), ['syntax/unknown-rule']],
    ['@{X} = a, b\n', ['syntax/assignment-trailing-comma']],
    [wrap('  /x "unterminated r,'), ['syntax/unterminated-string', 'syntax/missing-comma']],
    ['include <abstractions/base\n', ['syntax/unterminated-include']],
    ['profile p {\n} \nelse {\n}\n', ['syntax/else-without-if']],
    [wrap('  network inet peer=(ip=1.2.3.4,'), ['syntax/unclosed-paren', 'syntax/missing-comma']],
    ['profile {\n}\n', ['syntax/expected-profile-name']],
    ['profile p\n/x r,\n', ['syntax/expected-block']],
    ['{ /x r, }\n', ['syntax/unexpected-block']],
    ['^ hat {\n}\n', ['syntax/space-after-caret']],
  ];
  for (const [text, expected] of cases) {
    const result = parsePolicy(text, 'f.apparmor');
    assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code), expected, text);
    assert.equal(printTree(result.root), text);
  }
  const missing = parsePolicy(wrap('  /x r\n  /y r,'), 'f.apparmor').diagnostics[0]!;
  assert.deepEqual([missing.file, missing.line, missing.col], ['f.apparmor', 2, 6]);
  // Recovery: the rule after a broken one is still a rule.
  assert.deepEqual(bodyKinds(wrap('  frobnicate,\n  /ok r,')), ['UnknownRule', 'FileRule']);
  assert.deepEqual(bodyKinds(wrap('  /x r\n  capability chown,')), ['FileRule', 'CapabilityRule']);
});

test('#include is a deprecation warning, not an error', () => {
  const result = parsePolicy('#include <tunables/global>\n', 't');
  assert.deepEqual(result.diagnostics.map((d) => [d.severity, d.code]), [['warning', 'syntax/deprecated-hash-include']]);
});
