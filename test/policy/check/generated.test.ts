// The rules of upstream's generated corpora (gen-conditionals.py), as properties instead of files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPolicy } from '../../../src/policy/check/index.js';
import { memoryFileReader } from '../../../src/policy/resolve/index.js';

function accepted(text: string): boolean {
  return checkPolicy('/p', { reader: memoryFileReader({ '/p': text }), workingDirectory: '/' }).ok;
}

const number = fc.oneof(fc.integer({ min: 0, max: 5000 }).map(String), fc.constantFrom('0x1f', '017', '-3'));
const word = fc.constantFrom('foo', 'bar', 'a b', 'true', 'x1');
const operand = fc.oneof(number.map((v) => ({ text: v, numeric: true })), word.map((v) => ({ text: v, numeric: false })));

test('conditionals: ordering needs two numbers or two non-numbers; ==, != and in always work', () => {
  fc.assert(fc.property(operand, operand, fc.constantFrom('==', '!=', 'in', '<', '<=', '>', '>='), fc.boolean(), (left, right, op, viaVariable) => {
    const single = (o: { text: string; numeric: boolean }) => o.numeric || !o.text.includes(' ');
    const leftText = viaVariable ? '@{L}' : left.text.includes(' ') ? left.text.split(' ')[0]! : left.text;
    const leftNumeric = viaVariable ? left.numeric && single(left) : left.numeric;
    const text = `@{L} = ${left.text}\n@{R} = ${right.text}\n/p {\n  if ${leftText} ${op} @{R} {\n    /a r,\n  }\n}\n`;
    const rightNumeric = right.numeric;
    const expected = ['==', '!=', 'in'].includes(op) || leftNumeric === rightNumeric;
    assert.equal(accepted(text), expected, text);
  }), { numRuns: 300 });
});

test('booleans: defined, not, and, or, and undefined booleans', () => {
  assert.ok(accepted('$a = true\n$b = false\n/p { if $a and not $b { /x r, } else { /y r, } }\n'));
  assert.ok(accepted('/p { if defined $nope or defined @{nope} { /x r, } }\n'));
  assert.ok(!accepted('/p { if $nope { /x r, } }\n'));
  assert.ok(!accepted('$a = maybe\n/p { }\n'));
  assert.ok(!accepted('$a = true\n$a = false\n/p { }\n'));
  assert.ok(accepted('$a = true\n$a := false\n/p { }\n'));
});
