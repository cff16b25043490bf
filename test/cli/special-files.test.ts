// A device or FIFO named where a policy or configuration file is expected (/dev/zero, an include
// of "/dev/zero") must give a prompt input error, not read forever (or until memory runs out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliProcess } from '../support/cli.js';

const ZERO = '/dev/zero';
const skip = existsSync(ZERO) ? false : 'no /dev/zero on this system';

const cases: [string, string[]][] = [
  ['parse', ['parse', ZERO]],
  ['fmt', ['fmt', ZERO]],
  ['check', ['check', ZERO]],
  ['query', ['query', '--policy', ZERO, '--profile', 'p', '--capability', 'chown']],
  ['which-hat --fpm', ['which-hat', '--fpm', ZERO, '--policy', ZERO]],
  ['which-hat --apache', ['which-hat', '--apache', ZERO, '--policy', ZERO, '--url', 'http://a/']],
  ['confine explain', ['confine', 'explain', '--policy', ZERO, 'p//h']],
];

for (const [name, args] of cases) {
  test(`${name} on ${ZERO}: exit 2 at once`, { skip }, () => {
    const r = runCliProcess(args, { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /dev\/zero/);
  });
}

test('check: include "/dev/zero" is refused at once', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-special-'));
  try {
    const file = join(dir, 'p');
    writeFileSync(file, 'profile p {\n  include "/dev/zero"\n}\n');
    const r = runCliProcess(['check', file], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /:2:3: error: .*\/dev\/zero/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
