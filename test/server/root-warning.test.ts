// Running as root without per-site `user:` is allowed, but loudly: at startup and on the status page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeConfig } from '../../src/server/config.js';
import { rootWithoutUsers } from '../../src/server/supervisor.js';
import { serverStatus, startFromYaml } from './helpers.js';

const YAML = `listen: 127.0.0.1:0
backend: none
pool: { min: 0, max: 1 }
sites:
  - serverName: a.test
    documentRoot: pub
  - serverName: b.test
    documentRoot: pub
    user: nobody
`;

test('root, a site without user: named in the warning; not root, or every site with a user: no warning', () => {
  const config = parseServeConfig(YAML, '/etc/hatter/hatter.yaml').config!;
  const warning = rootWithoutUsers(config, 0);
  assert.match(warning ?? '', /RUNNING AS ROOT: the workers of a\.test run as root/);
  assert.doesNotMatch(warning ?? '', /b\.test/);
  assert.equal(rootWithoutUsers(config, 1000), undefined);
  const withUsers = parseServeConfig(YAML.replace('    documentRoot: pub\n  - serverName: b.test', '    documentRoot: pub\n    user: www-data\n  - serverName: b.test'), '/etc/hatter/hatter.yaml').config!;
  assert.equal(rootWithoutUsers(withUsers, 0), undefined);
});

test('as root: the warning is printed at startup and shown on the status page', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const server = await startFromYaml(YAML, { 'pub/index.html': 'x\n' });
  try {
    assert.ok(server.messages.some((m) => m.includes('RUNNING AS ROOT')), server.messages.join('\n'));
    const status = await serverStatus(server.adminPort);
    assert.match(String((status.warnings as string[] | undefined)?.[0]), /RUNNING AS ROOT: the workers of a\.test/);
  } finally {
    await server.stop();
  }
});
