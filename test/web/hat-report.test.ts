// --report: landing sets per vhost and section, missing names, dead hats, in both orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryFileSystem, readApacheConfig, reportApacheHats, type ProfileTree } from '../../src/web/index.js';

const CONF = `LoadModule apparmor_module m.so
ServerName main.example
<VirtualHost *:80>
    ServerName a.example
    <Location /pay>
        AAHatName pay
    </Location>
</VirtualHost>
<VirtualHost *:80>
    ServerName b.example
    AADefaultHatName b
</VirtualHost>
`;
const hats = (names: string[], mode: ProfileTree['mode'] = 'enforce'): ProfileTree => ({
  name: 'apache2', baseName: 'apache2', isHat: false, mode,
  children: names.map((n) => ({ name: `apache2//${n}`, baseName: n, isHat: true, mode: 'enforce', children: [] })),
});
const { config } = readApacheConfig('/a.conf', { fs: memoryFileSystem({ '/a.conf': CONF }) });

test('current order: ServerName-URI and URI hats are reachable only where the default hat is missing', () => {
  const r = reportApacheHats(config, hats(['HANDLING_UNTRUSTED_INPUT', 'DEFAULT_URI', 'pay', 'a.example-/x', '/y', 'b', 'unused']));
  assert.deepEqual(r.servers.map((s) => [s.serverName, s.defaultLanding]), [
    ['main.example', ['apache2///y (for matching URIs)', 'apache2//DEFAULT_URI']],
    ['a.example', ['apache2//a.example-/x (for matching URIs)', 'apache2///y (for matching URIs)', 'apache2//DEFAULT_URI']],
    ['b.example', ['apache2//b']],
  ]);
  assert.deepEqual(r.servers[1]!.sections.map((s) => [s.hatName, s.landing]), [['pay', ['apache2//pay']]]);
  assert.deepEqual(r.missing, []);
  assert.deepEqual(r.deadHats, ['apache2//unused']);
});

test('2.8.95 order: URI hats come before the default hat', () => {
  const r = reportApacheHats(config, hats(['HANDLING_UNTRUSTED_INPUT', 'b', '/y']), { order: '2.8.95' });
  assert.deepEqual(r.servers[2]!.defaultLanding, ['apache2///y (for matching URIs)', 'apache2//b']);
  assert.deepEqual(r.missing.map((m) => m.name), ['pay']);
  assert.deepEqual(r.servers[1]!.sections[0]!.landing, ['apache2///y (for matching URIs)', 'parent (apache2)']);
});

test('complain mode: the first name decides, missing ones are learning hats', () => {
  const r = reportApacheHats(config, hats(['HANDLING_UNTRUSTED_INPUT'], 'complain'));
  assert.deepEqual(r.servers[1]!.defaultLanding, ['apache2//null-a.example (learning)']);
  assert.deepEqual(r.servers[1]!.sections[0]!.landing, ['apache2//null-pay (learning)']);
});
