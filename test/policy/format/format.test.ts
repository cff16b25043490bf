import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeSource } from '../../../src/policy/diagnostic/index.js';
import { parsePolicy, type GreenNode } from '../../../src/policy/syntax/index.js';
import { buildPolicyModel, canonicalPolicyText } from '../../../src/policy/model/index.js';
import { canonicalPermissions, formatPolicy } from '../../../src/policy/format/index.js';
import { listFiles, policyCorpora } from '../../support/policy-corpora.js';

const fmt = (text: string) => formatPolicy(text, 't').text;

test('canonical layout: indentation, spacing, one rule per line, include instead of #include', () => {
  const input = [
    '#include <tunables/global>',
    '@{X}=a   b',
    '/usr/bin/foo   flags=(complain,audit){',
    '      /etc/x   wr ,',
    '  capability  setuid chown,',
    '  ^hat { /a r, /b r, }',
    '  if $B { /c rm, } else { /d r, }',
    '  deny owner { /e w, }',
    '}',
  ].join('\n');
  assert.equal(fmt(input), [
    'include <tunables/global>',
    '@{X} = a b',
    '/usr/bin/foo flags=(complain audit) {',
    '  /etc/x rw,',
    '  capability chown setuid,',
    '  ^hat {',
    '    /a r,',
    '    /b r,',
    '  }',
    '  if $B {',
    '    /c mr,',
    '  } else {',
    '    /d r,',
    '  }',
    '  deny owner {',
    '    /e w,',
    '  }',
    '}',
    '',
  ].join('\n'));
});

test('permission order is m r w a l k, then the exec mode', () => {
  assert.equal(canonicalPermissions('wr'), 'rw');
  assert.equal(canonicalPermissions('ixrm'), 'mrix');
  assert.equal(canonicalPermissions('Pxr'), 'rPx');
  assert.equal(canonicalPermissions('klwr'), 'rwlk');
  assert.equal(canonicalPermissions('Cixm'), 'mCix');
  assert.equal(canonicalPermissions('/not/perms'), '/not/perms');
});

test('capability and signal lists are sorted; access lists keep their order', () => {
  assert.equal(fmt('profile p {\n  capability sys_admin chown net_raw,\n  signal (send,receive) set=(term,hup,kill),\n}\n'),
    'profile p {\n  capability chown net_raw sys_admin,\n  signal (send, receive) set=(hup, kill, term),\n}\n');
});

test('comments stay with their rule; blank lines collapse to one', () => {
  const input = [
    '# file header',
    '',
    '',
    'profile p { # about p',
    '',
    '  # about /a',
    '  /a   r,   # trailing a',
    '',
    '',
    '',
    '     # about /b',
    '/b r,',
    '  # last words',
    '} # after p',
  ].join('\n');
  assert.equal(fmt(input), [
    '# file header',
    '',
    'profile p { # about p',
    '  # about /a',
    '  /a r, # trailing a',
    '',
    '  # about /b',
    '  /b r,',
    '  # last words',
    '} # after p',
    '',
  ].join('\n'));
});

test('rules with comments inside and statements with syntax errors are printed verbatim', () => {
  const input = 'profile p {\n  dbus send   # why\n     bus=system,\n  frobnicate   this,\n  /ok   r,\n}\n';
  assert.equal(fmt(input), 'profile p {\n  dbus send   # why\n     bus=system,\n  frobnicate   this,\n  /ok r,\n}\n');
  const unclosed = 'profile p {\n  /x   r,\n';
  assert.equal(fmt(unclosed), unclosed);
});

test('long conditional rules put one condition per line', () => {
  const input = 'profile p {\n  dbus send bus=system path=/org/freedesktop/DBus interface=org.freedesktop.DBus member={Hello,AddMatch} peer=(name=org.freedesktop.DBus),\n}\n';
  assert.equal(fmt(input), [
    'profile p {',
    '  dbus send',
    '      bus=system',
    '      path=/org/freedesktop/DBus',
    '      interface=org.freedesktop.DBus',
    '      member={Hello,AddMatch}',
    '      peer=(name=org.freedesktop.DBus),',
    '}',
    '',
  ].join('\n'));
});

test('include fragments (rules at file scope) are indented as inside a profile', () => {
  assert.equal(fmt('# header\n\nabi <abi/4.0>,\n/etc/x r,\ninclude if exists <x.d>\n'), '# header\n\n  abi <abi/4.0>,\n  /etc/x r,\n  include if exists <x.d>\n');
});

test('variable assignments keep their continuation lines', () => {
  assert.equal(fmt('@{A}=x   y \\\n        z\n'), '@{A} = x y \\\n  z\n');
});

function countComments(root: GreenNode): number {
  let n = 0;
  const stack: GreenNode[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.children) stack.push(...(e.children as GreenNode[]));
    else if ((e.kind as string) === 'Comment') n++;
  }
  return n;
}

for (const { label, dir, skip } of policyCorpora()) {
  test(`fmt on ${label}: idempotent, keeps every comment and the meaning, adds no error`, { skip }, () => {
    const problems: string[] = [];
    for (const file of listFiles(dir!)) {
      const { text } = decodeSource(readFileSync(file));
      const before = parsePolicy(text, file);
      const once = formatPolicy(before);
      if (once.keptOriginal) problems.push(`${file}: formatter output failed its own meaning check`);
      const after = parsePolicy(once.text, file);
      if (formatPolicy(after).text !== once.text) problems.push(`${file}: not idempotent`);
      if (countComments(before.root) !== countComments(after.root)) problems.push(`${file}: comment count changed`);
      const errors = (r: typeof before) => r.diagnostics.filter((d) => d.severity === 'error').length;
      if (errors(before) !== errors(after)) problems.push(`${file}: syntax errors ${errors(before)} -> ${errors(after)}`);
      if (canonicalPolicyText(buildPolicyModel(before).policy) !== canonicalPolicyText(buildPolicyModel(after).policy)) {
        problems.push(`${file}: normalized AST changed`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

test('what shares a line with a broken statement stays exactly as written', () => {
  // Recovery depends on line breaks: splitting these lines would change what the parser sees.
  assert.equal(fmt('profile p {\n  junk here /a   r,\n}\n'), 'profile p {\n  junk here /a   r,\n}\n');
  assert.equal(fmt('^   # c\n'), '^   # c\n');
  // The error is reported at the next statement, so both are kept (indented: rules at file scope).
  assert.equal(fmt('#include\t\n/x   r,\n'), '  #include\t\n  /x   r,\n');
  const soup = 'if+=or#include';
  assert.equal(fmt(soup).trim(), soup);
});
