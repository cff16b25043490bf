// Diagnostics quote text from the user's file; control characters in it (an ESC sequence in a
// hostile profile, CR or NUL in binary garbage) must be shown escaped, never sent to the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../support/cli.js';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

for (const [what, text, code] of [
  ['a parse error', 'profile p {\n  \x1b[31mRED\x1b[0m r,\n}\n', 'syntax/unknown-rule'],
  ['a resolve error', '/a\x1b[2J\rb r,\n', 'resolve/rule-outside-profile'],
  ['a check error', 'profile p {\n  capability \x1b[2Jx,\n}\n', ''],
] as const) {
  test(`check: ${what} quoting control characters shows them as \\xNN`, async () => {
    const r = await runCli(['check', '-'], { stdin: text });
    const out = r.stdout + r.stderr; // check prints its diagnostics on stdout
    assert.equal(r.code, 1, out);
    assert.doesNotMatch(out, CONTROL, JSON.stringify(out));
    assert.match(out, /\\x1b/);
    if (code) assert.match(out, new RegExp(`\\[${code}\\]`));
    for (const line of out.trimEnd().split('\n')) if (!line.startsWith('  ')) assert.match(line, /^-:\d+:\d+: (error|warning): /);
  });
}

test('parse: binary garbage gives one-line diagnostics without control characters', async () => {
  const bytes = Buffer.alloc(4096);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
  const r = await runCli(['parse', '-'], { stdin: bytes });
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, CONTROL);
  for (const line of r.stderr.trimEnd().split('\n')) assert.match(line, /^<stdin>:\d+:\d+: (error|warning): .* \[[a-z-]+\/[a-z-]+\]$/);
});
