// Diagnostics quote text from the user's Apache or PHP-FPM configuration; control characters in it
// must be shown escaped, never sent to the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../support/cli.js';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('which-hat: control characters in an Apache or PHP-FPM configuration are shown as \\xNN', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-qa-ctl-'));
  try {
    writeFileSync(join(dir, 'apache2.conf'), '<Virtual\x1b[2JHost *:80\n');
    writeFileSync(join(dir, 'php-fpm.conf'), '[www]\n\x1b[2Jlisten\n');
    for (const args of [['--apache', join(dir, 'apache2.conf'), '--url', 'http://a/'], ['--fpm', join(dir, 'php-fpm.conf')]]) {
      const r = await runCli(['which-hat', ...args, '--policy', 'examples/web/apparmor.d/php-fpm.apparmor']);
      assert.equal(r.code, 2, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, CONTROL, JSON.stringify(r.stderr));
      assert.match(r.stderr, /\\x1b\[2J/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
