// End to end: `hatter site add --layout hatter` for two PHP sites in a scratch hatter.yaml, then
// `hatter serve --backend landlock` serves both, and one site's PHP cannot read the other's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { runCli } from '../support/cli.js';
import { get, startFromFile } from '../server/helpers.js';

const landlock = await createBackend('landlock').probe();
const skip = !existsSync(DEFAULT_PHP_FPM_BINARY) ? `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`
  : !landlock.available ? `skipped: Landlock is not available (${landlock.reason})` : false;

test('two PHP sites added with hatter site add are served under Landlock, each confined to its own root', { skip, timeout: 120_000 }, async () => {
  // Outside /tmp: no abstraction grants it, so a read there is decided by the sites' own rules.
  const dir = mkdtempSync(join('/var/tmp', 'hatter-host-serve-'));
  chmodSync(dir, 0o755);
  let server: Awaited<ReturnType<typeof startFromFile>> | undefined;
  try {
    mkdirSync(join(dir, 'policy'));
    writeFileSync(join(dir, 'policy/sites'), '# the sites of this test\ninclude <tunables/global>\nprofile hatter-sites {\n  include <abstractions/base>\n}\n');
    const config = join(dir, 'hatter.yaml');
    writeFileSync(config, '# scratch\nlisten: 127.0.0.1:0\nbackend: landlock\npolicy: { file: policy/sites, profile: hatter-sites }\npool: { min: 1, max: 1 }\nsites:\n');
    for (const site of ['alpha', 'beta']) {
      mkdirSync(join(dir, site), { mode: 0o755 });
      writeFileSync(join(dir, site, 'read.php'), '<?php $r = @file_get_contents($_GET["path"]); echo $r === false ? "refused\\n" : $r;', { mode: 0o644 });
      writeFileSync(join(dir, site, 'secret.txt'), `${site}'s secret\n`, { mode: 0o644 });
      const added = await runCli(['site', 'add', site, '--layout', 'hatter', '--config', config, '--root', join(dir, site), '--php', '--server-name', `${site}.test`]);
      assert.equal(added.code, 0, added.stderr);
    }
    assert.match(readFileSync(config, 'utf8'), /^# scratch\n/);
    server = await startFromFile(config, false, { backend: 'landlock' });
    const read = async (site: string, path: string): Promise<string> => {
      const reply = await get(server!.port, `${site}.test`, `/read.php?path=${encodeURIComponent(path)}`);
      assert.equal(reply.status, 200, reply.body.toString());
      return reply.body.toString();
    };
    assert.equal(await read('alpha', join(dir, 'alpha', 'secret.txt')), "alpha's secret\n");
    assert.equal(await read('beta', join(dir, 'beta', 'secret.txt')), "beta's secret\n");
    assert.equal(await read('alpha', join(dir, 'beta', 'secret.txt')), 'refused\n', 'alpha read beta\'s file');
    assert.equal(await read('beta', join(dir, 'alpha', 'secret.txt')), 'refused\n', 'beta read alpha\'s file');
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
