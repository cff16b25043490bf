import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  changeHatCommand, changeHatVectorCommand, changeProfileCommand, formatToken, randomToken, MAX_HAT_NAME,
} from '../../src/confine/change-hat.js';

const text = (b: Buffer | { errno: string }) => (Buffer.isBuffer(b) ? b.toString('utf8') : b.errno);

test('tokens are 16 zero-padded lowercase hex digits, as libapparmor writes them', () => {
  assert.equal(formatToken(0x1234abcdn), '000000001234abcd');
  assert.equal(formatToken(0xffffffffffffffffn), 'ffffffffffffffff');
});

test('single-name change_hat has no trailing NUL; the vector form NUL-terminates every name', () => {
  assert.equal(text(changeHatCommand(0x1234abcd5678ef90n, 'siteA')), 'changehat 1234abcd5678ef90^siteA');
  assert.equal(text(changeHatVectorCommand(0x1234abcd5678ef90n, ['a.example', '/index.php', 'DEFAULT_URI'])),
    'changehat 1234abcd5678ef90^a.example\0/index.php\0DEFAULT_URI\0');
});

test('returning: `changehat <tok>^` for one name, `changehat <tok>^\\0` for the vector call', () => {
  assert.equal(text(changeHatCommand(1n, null)), 'changehat 0000000000000001^');
  assert.equal(text(changeHatVectorCommand(1n, null)), 'changehat 0000000000000001^\0');
});

test('libapparmor refusals: return with token 0 is EINVAL, an over-long name is EPROTO, over 16 names EINVAL', () => {
  assert.equal(text(changeHatCommand(0n, null)), 'EINVAL');
  assert.equal(text(changeHatVectorCommand(0n, null)), 'EINVAL');
  assert.equal(text(changeHatVectorCommand(5n, ['x'.repeat(MAX_HAT_NAME + 1)])), 'EPROTO');
  assert.equal(text(changeHatVectorCommand(5n, Array.from({ length: 17 }, (_, i) => `h${i}`))), 'EINVAL');
  assert.equal(text(changeHatVectorCommand(5n, ['x'.repeat(MAX_HAT_NAME)])).length, 'changehat 0000000000000005^'.length + MAX_HAT_NAME + 1);
});

test('entering with token 0 is allowed (the kernel accepts it); change_profile is one-way', () => {
  assert.equal(text(changeHatCommand(0n, 'a')), 'changehat 0000000000000000^a');
  assert.equal(text(changeProfileCommand('php-fpm//www')), 'changeprofile php-fpm//www');
});

test('the vector command splits back into exactly the names given (property)', () => {
  fc.assert(fc.property(fc.bigUintN(64), fc.array(fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 16 }), (token, hats) => {
    const command = changeHatVectorCommand(token, hats);
    assert.ok(Buffer.isBuffer(command));
    const body = command.toString('utf8');
    assert.ok(body.startsWith(`changehat ${formatToken(token)}^`));
    const names = body.slice('changehat '.length + 17).split('\0');
    assert.equal(names.pop(), '');
    assert.deepEqual(names, hats);
  }));
});

test('random tokens are never zero', () => {
  let calls = 0;
  const token = randomToken((n) => (calls++ === 0 ? Buffer.alloc(n) : randomBytes(n)));
  assert.notEqual(token, 0n);
  assert.equal(calls, 2);
});
