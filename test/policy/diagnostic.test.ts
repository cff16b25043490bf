import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic } from '../../src/policy/diagnostic/index.js';

test('formatted diagnostics never carry control characters from the input', () => {
  const text = formatDiagnostic({ file: 'a\u001b[31m', line: 1, col: 2, severity: 'error', code: 'x/y', message: 'bad \u0007 word\r\n', hint: 'try\u0000' });
  assert.doesNotMatch(text, /[\u0000\u0007\u001b\r]/);
  assert.match(text, /^a\\x1b\[31m:1:2: error: bad \\x07 word\\x0d\\x0a \[x\/y\]\n  hint: try\\x00$/);
});
