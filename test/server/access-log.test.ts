// The supervisor's own errors are survived: an access log that cannot be written (a full disk,
// /dev/full) loses lines, counted, and says so once; an access log in a directory that does not exist
// is a diagnostic at its configuration key, not a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessLog } from '../../src/server/access-log.js';
import { loadConfigFile, prepareServe } from '../../src/server/serve.js';
import { get, serverStatus, sleep, startFromYaml } from './helpers.js';

const hasDevFull = existsSync('/dev/full');

test('AccessLog on /dev/full: writes never throw, lines are counted as dropped, one warning', { skip: !hasDevFull && 'no /dev/full' }, async () => {
  const warnings: string[] = [];
  const log = new AccessLog('/dev/full', (line) => warnings.push(line));
  for (let i = 0; i < 5; i++) { log.write([`{"n":${i}}`]); await sleep(20); }
  await sleep(100);
  assert.ok(log.status().droppedLines >= 5, JSON.stringify(log.status()));
  assert.match(log.status().lastError ?? '', /ENOSPC/);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  log.close();
});

test('a server logging to /dev/full keeps serving and shows the lost lines on the status page (it crashed before)', { skip: !hasDevFull && 'no /dev/full' }, async () => {
  const server = await startFromYaml(`listen: 127.0.0.1:0
backend: none
pool: { min: 1, max: 1 }
sites:
  - serverName: a.test
    documentRoot: pub
`, { 'pub/index.html': 'hello\n' }, { accessLog: '/dev/full' });
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal((await get(server.port, 'a.test', '/')).status, 200);
      await sleep(1100); // workers send their lines at least once a second
    }
    const status = await serverStatus(server.adminPort);
    assert.ok(status.accessLog.droppedLines >= 1, JSON.stringify(status.accessLog));
    assert.equal((await get(server.port, 'a.test', '/')).status, 200);
    assert.ok(server.messages.some((m) => /cannot write the access log \/dev\/full/.test(m)), server.messages.join('\n'));
  } finally {
    await server.stop();
  }
});

test('an access log in a directory that does not exist: a diagnostic at the accessLog key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hatter-access-log-'));
  try {
    const file = join(dir, 'hatter.yaml');
    writeFileSync(file, `listen: 127.0.0.1:0
backend: none
accessLog: ${dir}/missing/access.jsonl
sites:
  - serverName: a.test
    documentRoot: .
`);
    const result = prepareServe(loadConfigFile(file), {}, false);
    assert.equal(result.prepared, undefined);
    const d = result.diagnostics.find((x) => x.code === 'serve/access-log-unwritable');
    assert.ok(d, JSON.stringify(result.diagnostics));
    assert.deepEqual([d.file, d.line, d.col, d.severity], [file, 3, 1, 'error']);
    assert.match(d.message, /missing.*does not exist/);
    const viaOption = prepareServe(loadConfigFile(file), { accessLog: join(dir, 'nope', 'x.log') }, false);
    assert.equal(viaOption.diagnostics.find((x) => x.code === 'serve/access-log-unwritable')?.file, '--access-log');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
