import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseServeConfig } from '../../src/server/config.js';

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
