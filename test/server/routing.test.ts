import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/server/serve.js';
import { loadPolicyHats, hatChooser } from '../../src/server/policy-hats.js';
import { parseServeConfig } from '../../src/server/config.js';
import { Router, chooserFromHats, normalizeUriPath, prefixMatches } from '../../src/server/routing.js';
import { repoRoot } from '../support/repo.js';

const demo = join(repoRoot, 'examples', 'hosting', 'hatter.yaml');

test('demo: each site lands in its own hat of hatter-demo; unknown hosts go to the first site', () => {
  const { config, diagnostics } = loadConfigFile(demo);
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  const policy = loadPolicyHats(config);
  assert.ok(policy.hats, JSON.stringify(policy.diagnostics));
  assert.deepEqual([...policy.hats.hats].sort(), ['DEFAULT_URI', 'HANDLING_UNTRUSTED_INPUT', 'alice.localhost', 'bob.localhost']);
  assert.deepEqual(policy.diagnostics.filter((d) => d.severity !== 'info'), []);
  const router = new Router(config, hatChooser(policy.hats));
  const cases: [string, string, string, string][] = [
    ['alice.localhost', '/', 'hatter-demo//alice.localhost', 'static'],
    ['alice.localhost', '/hello', 'hatter-demo//alice.localhost', 'node'],
    ['bob.localhost', '/read', 'hatter-demo//bob.localhost', 'node'],
    ['bob.localhost', '/cgi-bin/hello.cgi', 'hatter-demo//bob.localhost', 'cgi'],
    ['unknown.example', '/hello', 'hatter-demo//alice.localhost', 'node'],
  ];
  for (const [host, path, label, type] of cases) {
    const route = router.route(host, path)!;
    assert.equal(route.label, label, `${host}${path}`);
    assert.equal(route.handler.type, type, `${host}${path}`);
  }
  assert.deepEqual(router.route('bob.localhost', '/cgi-bin/hello.cgi')!.candidates, ['bob.localhost', 'bob.localhost-/cgi-bin/hello.cgi', '/cgi-bin/hello.cgi', 'DEFAULT_URI']);
  assert.equal(router.route('bob.localhost', '/cgi-bin/hello.cgi')!.locationPrefix, '/cgi-bin/');
});

test('the hat vector falls through: AAHatName, default hat, ServerName-URI, URI, DEFAULT_URI, parent', () => {
  const { config } = parseServeConfig(`policy: { profile: web }
sites:
  - serverName: shop.example
    documentRoot: /srv/shop
    defaultHat: shop
    locations:
      - prefix: /cart
        hat: checkout
      - prefix: /cart/admin
        hat: admin
`, '/etc/hatter/hatter.yaml');
  assert.ok(config);
  const route = (hats: string[], path: string) => new Router(config, chooserFromHats(new Set(hats))).route('shop.example', path)!;
  assert.deepEqual(route([], '/cart/add.php').candidates, ['checkout', 'shop', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI']);
  assert.equal(route(['checkout', 'shop'], '/cart/add.php').label, 'web//checkout');
  assert.equal(route(['shop'], '/cart/add.php').label, 'web//shop');
  assert.equal(route(['shop.example-/cart/add.php', '/cart/add.php'], '/cart/add.php').hat, 'shop.example-/cart/add.php');
  assert.equal(route(['/cart/add.php'], '/cart/add.php').hat, '/cart/add.php');
  assert.equal(route(['DEFAULT_URI'], '/cart/add.php').hat, 'DEFAULT_URI');
  assert.equal(route([], '/cart/add.php').label, 'web');
  // The last matching location that sets a hat wins (Apache merges <Location> in file order).
  assert.equal(route(['admin', 'checkout'], '/cart/admin/x').hat, 'admin');
  // Prefixes match on segment boundaries; the vector uses the decoded, normalized URI.
  assert.equal(route(['checkout', 'shop'], '/cartoon').hat, 'shop');
  assert.deepEqual(route([], '/a/../cart/%61dd').candidates.slice(2, 4), ['shop.example-/cart/add', '/cart/add']);
});

test('URI normalization and prefix matching', () => {
  assert.equal(normalizeUriPath('/a//b/./c/../d'), '/a/b/d');
  assert.equal(normalizeUriPath('/%2e%2e/x'), undefined);
  assert.equal(normalizeUriPath('/a/%2f'), undefined);
  assert.equal(normalizeUriPath('/../etc/passwd'), undefined);
  assert.equal(prefixMatches('/app', '/app'), true);
  assert.equal(prefixMatches('/app', '/app/x'), true);
  assert.equal(prefixMatches('/app', '/apple'), false);
  assert.equal(prefixMatches('/app/', '/app/x'), true);
});

test('startup warns about configured hats the policy lacks', () => {
  const { config } = parseServeConfig(`policy: { file: ${join(repoRoot, 'examples', 'hosting', 'policy', 'hatter-demo')}, profile: hatter-demo }
sites:
  - serverName: alice.localhost
    documentRoot: /srv/a
    locations:
      - prefix: /x
        hat: nosuchhat
  - serverName: carol.localhost
    documentRoot: /srv/c
`, '/etc/hatter/hatter.yaml');
  assert.ok(config);
  const { hats, diagnostics } = loadPolicyHats(config);
  assert.ok(hats);
  const warnings = diagnostics.filter((d) => d.code === 'serve/hat-not-in-policy').map((d) => d.message);
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((m) => m.includes("'nosuchhat'")));
  assert.ok(warnings.some((m) => m.includes('carol.localhost') && m.includes('DEFAULT_URI')));
  const missing = loadPolicyHats({ ...config, policy: { ...config.policy, profile: 'nope' } });
  assert.equal(missing.hats, undefined);
  assert.equal(missing.diagnostics.at(-1)?.code, 'serve/profile-not-in-policy');
});
