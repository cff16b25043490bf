import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeConfig } from '../../src/server/config.js';
import { applyOverrides } from '../../src/server/serve.js';

const file = '/srv/conf/hatter.yaml';

test('a full configuration: defaults, relative paths against the config directory, handlers', () => {
  const { config, diagnostics } = parseServeConfig(`
listen: [127.0.0.1:9000, "[::1]:9001"]
admin: off
policy: { file: policy/site, profile: web }
backend: none
front: { mode: strict, maxHeaderBytes: 4096 }
pool: { min: 0, max: 3, queue: 5, requestTimeoutMs: 2000 }
accessLog: logs/access.jsonl
sites:
  - serverName: Shop.Example
    aliases: [www.shop.example]
    documentRoot: shop/public
    defaultHat: shop
    locations:
      - prefix: /cart
        hat: checkout
        handler: { type: node, module: shop/cart.mjs }
      - regex: '\\.php$'
        handler: { type: fastcgi, address: unix:run/fpm.sock, root: shop/public }
`, file);
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.deepEqual(config.listen, [{ host: '127.0.0.1', port: 9000 }, { host: '::1', port: 9001 }]);
  assert.equal(config.admin, null);
  assert.deepEqual(config.policy, { file: '/srv/conf/policy/site', profile: 'web' });
  assert.equal(config.front.mode, 'strict');
  assert.equal(config.front.maxHeaderBytes, 4096);
  assert.equal(config.front.idleTimeoutMs, 60_000);
  assert.equal(config.pool.max, 3);
  assert.equal(config.pool.maxRequests, 0);
  assert.equal(config.accessLog, '/srv/conf/logs/access.jsonl');
  const site = config.sites[0]!;
  assert.equal(site.serverName, 'shop.example');
  assert.equal(site.documentRoot, '/srv/conf/shop/public');
  assert.deepEqual(site.handler, { type: 'static', root: '/srv/conf/shop/public' });
  assert.deepEqual(site.locations[0], { match: { kind: 'prefix', prefix: '/cart' }, hat: 'checkout', handler: { type: 'node', module: '/srv/conf/shop/cart.mjs' } });
  assert.deepEqual(site.locations[1]!.handler, { type: 'fastcgi', address: 'unix:/srv/conf/run/fpm.sock', root: '/srv/conf/shop/public' });
});

test('unknown keys get file:line:col and a did-you-mean hint', () => {
  const { config, diagnostics } = parseServeConfig('listen: 127.0.0.1:80\nsites:\n  - serverName: a.test\n    documentRot: /srv/a\n', file);
  assert.equal(config, undefined);
  const unknown = diagnostics.find((d) => d.code === 'serve-config/unknown-key')!;
  assert.equal(unknown.line, 4);
  assert.equal(unknown.col, 5);
  assert.match(unknown.message, /documentRot/);
  assert.equal(unknown.hint, "did you mean 'documentRoot'?");
  assert.ok(diagnostics.some((d) => d.code === 'serve-config/missing-key' && /documentRoot/.test(d.message)));
});

test('wrong values are located: bad address, backend, handler type, regex, pool bounds, duplicate names', () => {
  const { diagnostics } = parseServeConfig(`listen: nowhere
backend: landlok
pool: { min: 5, max: 2 }
sites:
  - serverName: a.test
    documentRoot: /a
    locations:
      - prefix: app
      - regex: '(['
      - prefix: /x
        handler: { type: php }
  - serverName: a.test
    documentRoot: /b
`, file);
  const byCode = (code: string) => diagnostics.filter((d) => d.code === code);
  assert.equal(byCode('serve-config/invalid-address')[0]?.line, 1);
  const backend = byCode('serve-config/invalid-value').find((d) => d.line === 2)!;
  assert.equal(backend.hint, "did you mean 'landlock'?");
  assert.equal(byCode('serve-config/pool-bounds').length, 1);
  assert.equal(byCode('serve-config/invalid-prefix')[0]?.line, 8);
  assert.equal(byCode('serve-config/invalid-regex')[0]?.line, 9);
  assert.ok(byCode('serve-config/invalid-value').some((d) => d.line === 11));
  assert.equal(byCode('serve-config/duplicate-server-name').length, 1);
});

test('YAML syntax errors and non-mapping documents are diagnostics, not throws', () => {
  const broken = parseServeConfig('sites: [\n', file);
  assert.equal(broken.config, undefined);
  assert.ok(broken.diagnostics.every((d) => d.file === file && d.line >= 1));
  assert.equal(broken.diagnostics[0]?.code, 'serve-config/yaml-syntax');
  const list = parseServeConfig('- a\n- b\n', file);
  assert.equal(list.diagnostics[0]?.code, 'serve-config/expected-map');
  const empty = parseServeConfig('', file);
  assert.equal(empty.config, undefined);
  assert.ok(empty.diagnostics.length > 0);
});

test('a hat name with // is refused', () => {
  const { diagnostics } = parseServeConfig('sites:\n  - serverName: a.test\n    documentRoot: /a\n    defaultHat: a//b\n', file);
  assert.equal(diagnostics[0]?.code, 'serve-config/invalid-hat');
  assert.equal(diagnostics[0]?.line, 4);
});

test('with the host environment: a missing document root, handler root or module, and unknown accounts are errors at their value', () => {
  const present = new Map<string, 'directory' | 'file'>([['/srv/conf/a', 'directory'], ['/srv/conf/a/app.mjs', 'file'], ['/srv/conf/notdir', 'file']]);
  const environment = {
    kindOf: (path: string) => present.get(path),
    userExists: (name: string) => name === 'www-a',
    groupExists: (name: string) => name === 'www-a',
  };
  const text = `sites:
  - serverName: a.example
    documentRoot: a
    user: www-a
    group: www-a
    locations:
      - { prefix: /app, handler: { type: node, module: a/app.mjs } }
  - serverName: b.example
    documentRoot: b/public
    user: nosuchuser
    group: nosuchgroup
    handler: { type: static, root: notdir }
    locations:
      - { prefix: /cgi, handler: { type: cgi, root: b/cgi } }
      - { prefix: /app, handler: { type: node, module: b/app.mjs } }
  - { serverName: c.example, documentRoot: a, user: 1234 }
`;
  const { config, diagnostics } = parseServeConfig(text, file, environment);
  assert.equal(config, undefined);
  const found = diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
  assert.deepEqual(found, [
    "9:19 serve-config/missing-directory sites[1].documentRoot '/srv/conf/b/public' does not exist",
    "12:36 serve-config/missing-directory sites[1].handler.root '/srv/conf/notdir' is not a directory",
    "14:53 serve-config/missing-directory sites[1].locations[0].handler.root '/srv/conf/b/cgi' does not exist",
    "15:56 serve-config/missing-file sites[1].locations[1].handler.module '/srv/conf/b/app.mjs' does not exist",
    "10:11 serve-config/unknown-user sites[1].user 'nosuchuser' is not a user on this host (/etc/passwd)",
    "11:12 serve-config/unknown-group sites[1].group 'nosuchgroup' is not a group on this host (/etc/group)",
  ]);
  // Without an environment (pure parsing), none of this is checked.
  assert.ok(parseServeConfig(text, file).config);
});

test('the front and pool connection limits: defaults, and bounds', () => {
  const { config } = parseServeConfig('sites: [{ serverName: a.example, documentRoot: a }]\n', file);
  assert.equal(config?.front.maxConnections, 1000);
  assert.equal(config?.front.maxConnectionsPerClient, 64);
  assert.equal(config?.pool.maxConnectionsPerClient, 64);
  const custom = parseServeConfig('front: { maxConnections: 50, maxConnectionsPerClient: 5 }\npool: { maxConnectionsPerClient: 2 }\nsites: [{ serverName: a.example, documentRoot: a }]\n', file);
  assert.deepEqual([custom.config?.front.maxConnections, custom.config?.front.maxConnectionsPerClient, custom.config?.pool.maxConnectionsPerClient], [50, 5, 2]);
  const bad = parseServeConfig('pool: { maxConnectionsPerClient: 0 }\nsites: [{ serverName: a.example, documentRoot: a }]\n', file);
  assert.deepEqual(bad.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`), ['1:34 serve-config/expected-integer']);
});

test('front.fastLane: on by default, off with false, anything but a boolean located', () => {
  const site = 'sites: [{ serverName: a.example, documentRoot: a }]\n';
  assert.equal(parseServeConfig(site, file).config?.front.fastLane, true);
  assert.equal(parseServeConfig(`front: { fastLane: false }\n${site}`, file).config?.front.fastLane, false);
  const bad = parseServeConfig(`front: { fastLane: sometimes }\n${site}`, file);
  assert.deepEqual(bad.diagnostics.map((d) => `${d.line}:${d.col}`), ['1:20']);
  assert.match(bad.diagnostics[0]!.code, /^serve-config\//);
});

test('landlock.allowWidening: a list of FILE:LINE or path patterns; anything else is a diagnostic at its line', () => {
  const ok = parseServeConfig('landlock:\n  allowWidening:\n    - abstractions/base:172\n    - /proc/[1-9]*/environ\nsites:\n  - serverName: a.test\n    documentRoot: /srv/a\n', file);
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.config?.landlock?.allowWidening, ['abstractions/base:172', '/proc/[1-9]*/environ']);
  const bad = parseServeConfig('landlock:\n  allowWidening:\n    - everything\n  other: 1\nsites:\n  - serverName: a.test\n    documentRoot: /srv/a\n', file);
  assert.equal(bad.config, undefined);
  const codes = bad.diagnostics.map((d) => [d.code, d.line]);
  assert.deepEqual(codes.find(([code]) => code === 'serve-config/allow-widening'), ['serve-config/allow-widening', 3]);
  assert.ok(codes.some(([code, line]) => code === 'serve-config/unknown-key' && line === 4));
  const notList = parseServeConfig('landlock:\n  allowWidening: abstractions/base:172\nsites:\n  - serverName: a.test\n    documentRoot: /srv/a\n', file);
  assert.equal(notList.diagnostics[0]?.code, 'serve-config/allow-widening');
});

test('phpFpm.startTimeoutMs: 30 s by default, configurable, located when out of range or misspelt', () => {
  const sites = 'sites:\n  - serverName: a.test\n    documentRoot: /srv/a\n';
  assert.equal(parseServeConfig(sites, file).config?.phpFpm.startTimeoutMs, 30_000);
  assert.equal(parseServeConfig(`phpFpm: { startTimeoutMs: 120000 }\n${sites}`, file).config?.phpFpm.startTimeoutMs, 120_000);
  const zero = parseServeConfig(`phpFpm:\n  startTimeoutMs: 0\n${sites}`, file);
  assert.equal(zero.config, undefined);
  assert.ok(zero.diagnostics.some((d) => d.code === 'serve-config/expected-integer' && d.line === 2 && /phpFpm\.startTimeoutMs/.test(d.message)), JSON.stringify(zero.diagnostics));
  const misspelt = parseServeConfig(`phpFpm:\n  startTimeoutMS: 5000\n${sites}`, file);
  const unknown = misspelt.diagnostics.find((d) => d.code === 'serve-config/unknown-key');
  assert.equal(unknown?.line, 2);
  assert.equal(unknown?.hint, "did you mean 'startTimeoutMs'?");
});

test('--php-fpm-start-timeout overrides phpFpm.startTimeoutMs and leaves the rest', () => {
  const { config } = parseServeConfig('phpFpm: { startTimeoutMs: 5000 }\nsites:\n  - serverName: a.test\n    documentRoot: /srv/a\n', file);
  assert.ok(config);
  assert.equal(applyOverrides(config, { phpFpmStartTimeoutMs: 90_000 }).phpFpm.startTimeoutMs, 90_000);
  assert.equal(applyOverrides(config, {}).phpFpm.startTimeoutMs, 5000);
});
