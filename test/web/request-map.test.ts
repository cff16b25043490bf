// Host normalisation and name-based virtual host selection as httpd does them (vhost.c fix_hostname,
// matches_aliases): the pieces `hatter serve` and `hatter which-hat` share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizeHost, normalizeUri, VhostNameChain } from '../../src/web/index.js';

test('normalizeHost: port, case, one trailing dot and IPv6 brackets go; what httpd refuses is undefined', () => {
  const cases: [string, string | undefined][] = [
    ['bob.localhost', 'bob.localhost'],
    ['BOB.LOCALHOST', 'bob.localhost'],
    ['bob.localhost.', 'bob.localhost'],
    ['bob.localhost.:80', 'bob.localhost'],
    ['Bob.Localhost.:8080', 'bob.localhost'],
    ['bob.localhost:', 'bob.localhost'],
    ['[::1]:8080', '::1'],
    ['[::1]', '::1'],
    ['[::FFFF:127.0.0.1]:80', '::ffff:127.0.0.1'],
    ['::1', '::1'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['', ''],
    ['bob.localhost..', undefined],
    ['a..b', undefined],
    ['a/b', undefined],
    ['a\\b', undefined],
    ['bob:x', undefined],
    ['[::1', undefined],
    ['[::1]x', undefined],
    ['[zz::1]', undefined],
    ['[1::2::3]', undefined],
    ['[fe80::1%eth0]', undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeHost(input), expected, input);
});

test('normalizeHost is idempotent and never keeps upper case, a port or a trailing dot', () => {
  const host = fc.stringOf(fc.constantFrom('a', 'B', '.', ':', '8', '[', ']', '-', 'f'), { maxLength: 12 });
  fc.assert(fc.property(host, (h) => {
    const once = normalizeHost(h);
    if (once === undefined) return;
    assert.equal(normalizeHost(once), once, h);
    assert.equal(once, once.toLowerCase());
    if (!once.includes(':')) assert.ok(!once.endsWith('.'), h);
  }), { numRuns: 2000 });
});

test('VhostNameChain: the first vhost in order whose ServerName or ServerAlias matches, wildcards as ap_strcasecmp_match', () => {
  const chain = new VhostNameChain([
    { serverName: 'first.example', serverAliases: ['*.wild.example'] },
    { serverName: 'a.wild.example', serverAliases: ['W?W.example', '[ab].example'] },
    { serverName: 'third.example', serverAliases: ['*'] },
  ]);
  // httpd walks the vhosts in order: the first one's wildcard wins over a later exact ServerName.
  assert.deepEqual(chain.find('a.wild.example'), { index: 0, matchedBy: 'ServerAlias', alias: '*.wild.example' });
  assert.deepEqual(chain.find('www.example'), { index: 1, matchedBy: 'ServerAlias', alias: 'W?W.example' });
  // '[' is not special in a ServerAlias.
  assert.deepEqual(chain.find('[ab].example'), { index: 1, matchedBy: 'ServerAlias', alias: '[ab].example' });
  assert.deepEqual(chain.find('a.example'), { index: 2, matchedBy: 'ServerAlias', alias: '*' });
  assert.deepEqual(chain.find('first.example'), { index: 0, matchedBy: 'ServerName' });
  assert.equal(new VhostNameChain([{ serverName: 'x', serverAliases: [] }]).find('y'), undefined);
});

test('normalizeUri: the fast path for plain paths gives what the full decoder gives', () => {
  const segment = fc.stringOf(fc.constantFrom('a', 'Z', '0', '-', '.', '_', '~', '!', '$', '(', ';', '=', '@', ':', '\\'), { maxLength: 4 });
  fc.assert(fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
    const path = `/${segments.join('/')}`;
    const plain = normalizeUri(path);
    // '%61' ('a') forces the full decoder; a leading real segment keeps '..' from climbing out.
    const full = normalizeUri(`/%61${path}`);
    if (plain.ok) assert.deepEqual(full, { ok: true, uri: `/a${plain.uri}` }, path);
  }), { numRuns: 2000 });
});
