// Fuzzing the readers: any text gives a result and diagnostics, never a throw or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { memoryFileReader } from '../../src/policy/index.js';
import {
  hatVector, mapRequest, memoryFileSystem, normalizeUri, profileTreesFromPolicy, readApacheConfig, readFpmConfig, selectHat,
} from '../../src/web/index.js';

const apacheTokens = fc.constantFrom(
  '<VirtualHost *:80>', '</VirtualHost>', '<Directory /srv>', '<Directory', '</Directory>', '<Location /a>', '</Location>', '<Files', '</Files>',
  '<IfModule mod_apparmor.c>', '<IfModule !x>', '</IfModule>', '<IfDefine X>', '</IfDefine>', '<DirectoryMatch "^/(a|b">', '</DirectoryMatch>',
  'Include a.conf', 'Include b.conf', 'IncludeOptional *.conf', 'Include /etc/apache2/apache2.conf', 'Define X', 'Define V /v', '${V}', '${',
  'AAHatName h', 'AADefaultHatName d', 'ImmHatName', 'ServerName s', 'ServerAlias *.s ?', 'DocumentRoot', 'Alias /x /y', 'AliasMatch ( $1',
  'Listen', 'Listen 80', 'LoadModule apparmor_module m.so', '"', "'", '\\', '\n', '\\\n', ' ', '\t', '#', '>', '<', '~', '\u0000', 'é',
);
const text = (tokens: fc.Arbitrary<string>) => fc.array(fc.oneof(tokens, fc.string({ maxLength: 8 })), { maxLength: 60 }).map((parts) => parts.join(' '));

test('Apache reader and request mapping: no throw on arbitrary configurations', () => {
  fc.assert(fc.property(text(apacheTokens), text(apacheTokens), fc.string({ maxLength: 40 }), (main, other, path) => {
    const fs = memoryFileSystem({ '/etc/apache2/apache2.conf': main, '/etc/apache2/a.conf': other, '/etc/apache2/b.conf': `${other}\n${main}` });
    const { config, diagnostics } = readApacheConfig('/etc/apache2/apache2.conf', { fs });
    for (const d of diagnostics) assert.ok(d.line >= 1 && typeof d.code === 'string');
    const mapped = mapRequest(config, { url: `/${path}`, host: path.slice(0, 10) });
    if (mapped.ok) {
      const v = hatVector(mapped.vectorInput);
      assert.ok(v.length >= 4 && v.length <= 5);
      selectHat({ name: 'p', baseName: 'p', isHat: false, mode: 'enforce', children: [] }, v, mapped.vectorInput);
    }
  }), { numRuns: Number(process.env.HATTER_FUZZ_RUNS ?? 400) });
});

test('FPM reader: no throw on arbitrary configurations', () => {
  const tokens = fc.constantFrom('[global]', '[www]', '[', ']', 'include=/a.conf', 'include = *.conf', 'user = x', 'listen = $pool', 'apparmor_hat = h', '${E}', '"', ';', '#', '=', '\n', 'php_admin_value[open_basedir]=');
  fc.assert(fc.property(text(tokens), text(tokens), (a, b) => {
    const { diagnostics } = readFpmConfig('/a.conf', { fs: memoryFileSystem({ '/a.conf': a, '/b.conf': b }), prefix: '/' });
    for (const d of diagnostics) assert.ok(d.line >= 1);
  }), { numRuns: Number(process.env.HATTER_FUZZ_RUNS ?? 400) });
});

test('policy tree reader: no throw on arbitrary policies', () => {
  const tokens = fc.constantFrom('profile', 'p', '{', '}', '^hat', 'hat', 'flags=(complain)', '/usr/bin/x', '/a/{b,c}', '@{x}', ',', '#', '#include <a>', 'include "b"', 'include if exists <d>', '"', '\n', 'change_profile -> p//*', '(', ')');
  fc.assert(fc.property(text(tokens), text(tokens), (a, b) => {
    profileTreesFromPolicy('/p/main', { reader: memoryFileReader({ '/p/main': a, '/p/a': b, '/p/b': a, '/p/d/x': b }), includeDirs: ['/p'] });
  }), { numRuns: Number(process.env.HATTER_FUZZ_RUNS ?? 400) });
});

test('URI normalisation: never throws; accepted URIs are absolute, without dot segments or repeated slashes', () => {
  fc.assert(fc.property(fc.array(fc.constantFrom('/', '.', '..', '%2e', '%2E', '%2f', '%', '%4', 'a', '%20', '//', '?', '#', 'é', '%C3%A9', '%FF'), { maxLength: 30 }), (parts) => {
    const r = normalizeUri(`/${parts.join('')}`);
    if (!r.ok) return;
    assert.ok(r.uri.startsWith('/'));
    assert.ok(!/\/\.\.?(\/|$)/.test(r.uri), r.uri);
    assert.ok(!r.uri.includes('//'), r.uri);
  }), { numRuns: 2000 });
});

test('request mapping: arbitrary URLs, Host headers and addresses never throw', () => {
  const fs = memoryFileSystem({
    '/c/apache2.conf': 'Listen 80\n<VirtualHost *:80>\nServerName a.example\nServerAlias *.a.example\nDocumentRoot /srv/a\nAlias /x/ /srv/x/\nAliasMatch ^/m/(.*)$ /srv/m/$1\n<LocationMatch "^/(api|v[0-9])/">\nAAHatName api\n</LocationMatch>\n</VirtualHost>\n<VirtualHost 127.0.0.2:*>\nServerName b.example\n</VirtualHost>\n',
  });
  const { config } = readApacheConfig('/c/apache2.conf', { fs });
  const url = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.tuple(fc.constantFrom('http://', 'https://', 'ftp://', ''), fc.string({ maxLength: 20 }), fc.constantFrom('', ':80', ':0', ':99999', ':x'), fc.string({ maxLength: 40 })).map((p) => p.join('')),
    fc.fullUnicodeString({ maxLength: 40 }).map((s) => `/${s}`),
  );
  fc.assert(fc.property(url, fc.option(fc.fullUnicodeString({ maxLength: 20 }), { nil: undefined }), fc.option(fc.constantFrom('127.0.0.1', '127.0.0.2', '::1', 'x'), { nil: undefined }), (u, host, address) => {
    const r = mapRequest(config, { url: u, ...(host !== undefined ? { host } : {}), ...(address !== undefined ? { localAddress: address } : {}) });
    if (r.ok) assert.ok(r.uri.startsWith('/'));
  }), { numRuns: Number(process.env.HATTER_FUZZ_RUNS ?? 400) });
});
