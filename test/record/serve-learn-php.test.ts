// hatter serve --learn with PHP: a copy of the demo where each site also has PHP pages served by the
// PHP-FPM master hatter starts for it. The master's and its children's accesses (the page, the file it
// includes, the write into the site's cache dir) are recorded under the site's hat, `hatter learn
// --apply --write` learns them, and the learned policy serves the same workload under Landlock, while
// bob's PHP still cannot read alice's secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createBackend } from '../../src/confine/index.js';
import { findStrace } from '../../src/record/index.js';
import { DEFAULT_PHP_FPM_BINARY } from '../../src/server/fastcgi/index.js';
import { runCli } from '../support/cli.js';
import { get, startFromFile } from '../server/helpers.js';
import { demoWorkload, recordServe, scratchDemo, SITES } from './demo-copy.js';

const strace = findStrace(process.env['PATH']);
const landlock = await createBackend('landlock').probe();
const skip = !strace ? 'skipped: strace is not installed (Debian package strace)'
  : !existsSync(DEFAULT_PHP_FPM_BINARY) ? `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (Debian package php-fpm)`
    : process.getuid?.() !== 0 ? 'skipped: serving under Landlock with the hatter launcher needs root'
      : landlock.available ? false : `skipped: Landlock is not available (${landlock.reason})`;

test('PHP under serve --learn: FPM\'s accesses are learned into the site\'s hat and served under Landlock', { skip, timeout: 180_000 }, async () => {
  // Outside /tmp: the hats' base abstraction grants parts of /tmp, which would hide what PHP needs.
  const root = realpathSync(mkdtempSync(join('/var/tmp', 'hatter-serve-learn-php-')));
  try {
    const { copy, config, policy } = scratchDemo(root, { php: true, pool: 1 });
    const workload = (port: number) => demoWorkload(port, { php: copy });
    // 1. Record the workload with serve --learn.
    const log = join(root, 'learn.jsonl');
    const started = Date.now();
    const { replies, events } = await recordServe(strace!, config, log, workload);
    const recordMs = Date.now() - started;
    assert.deepEqual(replies.filter((r) => r.status !== 200), []);
    for (const site of SITES) {
      assert.equal(replies.find((r) => r.host === `${site}.localhost` && r.path === '/php/index.php')?.body, `php says hello from ${site}.localhost\n`);
      assert.equal(readFileSync(join(copy, site, 'cache', 'visits.txt'), 'utf8'), 'visit\n');
    }
    const has = (site: string, operation: string, name: string, mask?: RegExp): boolean => events.some((e) => e['label'] === `hatter-demo//${site}.localhost`
      && e['operation'] === operation && e['name'] === name && (mask === undefined || mask.test(String(e['requested']))));
    for (const site of SITES) {
      // FPM's children (forked by the master, running as www-data) read the page and what it includes, and write the cache.
      assert.ok(has(site, 'open', join(copy, site, 'php', 'index.php')), `${site}'s PHP page, read by an FPM child`);
      assert.ok(has(site, 'open', join(copy, site, 'php', 'lib.php')), `${site}'s included PHP file`);
      assert.ok(has(site, 'open', join(copy, site, 'cache', 'visits.txt'), /[wac]/), `${site}'s cache write`);
      assert.ok(events.some((e) => e['label'] === `hatter-demo//${site}.localhost` && /php-fpm/.test(String(e['exe']))), `${site}: events of php-fpm itself`);
    }
    const other = (site: string) => SITES.find((s) => s !== site)!;
    for (const site of SITES) {
      assert.ok(!events.some((e) => e['label'] === `hatter-demo//${site}.localhost` && String(e['name'] ?? '').startsWith(join(copy, other(site), '/'))), `nothing of ${other(site)} in ${site}'s hat`);
    }
    // 2. hatter learn proposes the hats from the recording and writes them into the policy.
    const learned = await runCli(['learn', log, '--policy', policy, '--config', config, '--apply', '--write'], { cwd: copy });
    assert.equal(learned.code, 0, learned.stderr + learned.stdout);
    const text = readFileSync(policy, 'utf8');
    for (const site of SITES) assert.ok(text.includes(join(copy, site, 'php')), `${site}'s PHP learned:\n${text}`);
    // 3. The learned policy under Landlock: the same workload (PHP included), no EACCES, no 403/500.
    const confined = Date.now();
    const server = await startFromFile(config, false, { backend: 'landlock' });
    try {
      assert.ok(server.messages.some((m) => m.includes('PHP-FPM for alice.localhost runs confined to hatter-demo//alice.localhost (landlock)')), server.messages.join('\n'));
      const again = await workload(server.port);
      assert.deepEqual(again.filter((r) => r.status !== 200), [], `the learned policy:\n${text}`);
      for (const site of SITES) assert.equal(readFileSync(join(copy, site, 'cache', 'visits.txt'), 'utf8'), 'visit\nvisit\n');
      // www-data may read it (world-readable, in directories it may enter): only the hat stands in the way.
      assert.equal(statSync(join(copy, 'alice', 'secret.txt')).mode & 0o004, 0o004);
      const stolen = await get(server.port, 'bob.localhost', `/php/read.php?path=${encodeURIComponent(join(copy, 'alice', 'secret.txt'))}`);
      assert.equal(stolen.status, 403, stolen.body.toString());
      assert.match(stolen.body.toString(), /Permission denied/);
      assert.doesNotMatch(stolen.body.toString(), /alice's database password/);
    } finally {
      await server.stop();
    }
    // The test's budget on this 2-core machine: about two minutes.
    process.stderr.write(`serve-learn-php: recording ${recordMs} ms, Landlock run ${Date.now() - confined} ms\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
