// The Apache configuration reader: structure, conditionals, includes and every malformed input as a
// file:line diagnostic. Debian's shipped configuration must read without errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { filesUnder, memoryFileSystem, nodeFileSystem, parseEnvvars, readApacheConfig, splitApacheArgs, type WebFileSystem } from '../../src/web/index.js';

const LOAD = 'LoadModule apparmor_module /usr/lib/apache2/modules/mod_apparmor.so\n';
const read = (files: Record<string, string>, options: { defines?: string[]; modules?: string[]; unreadable?: string[] } = {}) =>
  readApacheConfig('/etc/apache2/apache2.conf', {
    fs: memoryFileSystem(files, options.unreadable ? { unreadable: options.unreadable } : {}),
    ...(options.defines ? { defines: options.defines } : {}),
    ...(options.modules ? { modules: options.modules } : {}),
  });
const codes = (r: ReturnType<typeof read>) => r.diagnostics.map((d) => `${d.file}:${d.line} ${d.code}`);

test('arguments: quotes, escaped quotes, tabs', () => {
  assert.deepEqual(splitApacheArgs(`"/srv/my site"\t'x y' plain "a \\"q\\" b"`), ['/srv/my site', 'x y', 'plain', 'a "q" b']);
});

test('Include with wildcards relative to ServerRoot, in sorted order; IncludeOptional tolerates no match', () => {
  const r = read({
    '/etc/apache2/apache2.conf': `${LOAD}Include sites/*.conf\nIncludeOptional missing/*.conf\nIncludeOptional /nowhere.conf\n`,
    '/etc/apache2/sites/b.conf': '<VirtualHost *:80>\nServerName b.example\n</VirtualHost>\n',
    '/etc/apache2/sites/a.conf': '<VirtualHost *:80>\nServerName a.example\n</VirtualHost>\n',
    '/etc/apache2/sites/.hidden.conf': '<VirtualHost *:80>\nServerName hidden.example\n</VirtualHost>\n',
  });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.config.vhosts.map((v) => v.serverName), ['a.example', 'b.example']);
});

test('Include of a directory reads every file below it', () => {
  const r = read({
    '/etc/apache2/apache2.conf': 'Include conf.d\n',
    '/etc/apache2/conf.d/x.conf': 'ServerName x.example\n',
    '/etc/apache2/conf.d/sub/y.conf': 'DocumentRoot /srv/y\n',
  });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.main.serverName, 'x.example');
  assert.equal(r.config.main.documentRoot, '/srv/y');
});

test('Include that matches nothing is an error at its line', () => {
  const r = read({ '/etc/apache2/apache2.conf': '\n\nInclude sites/*.conf\nInclude /etc/none.conf\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:3 web/apache-include-not-found', '/etc/apache2/apache2.conf:4 web/apache-include-not-found']);
});

test('include loops are reported once per edge and do not hang', () => {
  const r = read({
    '/etc/apache2/apache2.conf': 'Include a.conf\n',
    '/etc/apache2/a.conf': 'Include b.conf\n',
    '/etc/apache2/b.conf': '\nInclude a.conf\n',
  });
  assert.deepEqual(codes(r), ['/etc/apache2/b.conf:2 web/apache-include-loop']);
  assert.deepEqual(r.diagnostics[0]!.includeChain?.map((c) => `${c.file}:${c.line}`), ['/etc/apache2/apache2.conf:1', '/etc/apache2/a.conf:1']);
});

test('unreadable included file: error at the Include line', () => {
  const r = read({ '/etc/apache2/apache2.conf': 'Include secret.conf\n', '/etc/apache2/secret.conf': '' }, { unreadable: ['/etc/apache2/secret.conf'] });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:1 web/apache-unreadable']);
});

test('unreadable main file: one error, empty config', () => {
  const r = readApacheConfig('/nope/apache2.conf', { fs: memoryFileSystem({}) });
  assert.equal(r.diagnostics.length, 1);
  assert.equal(r.diagnostics[0]!.code, 'web/apache-unreadable');
  assert.deepEqual(r.config.files, []);
});

test('unterminated sections are reported where they open; sections must close in their own file', () => {
  const r = read({
    '/etc/apache2/apache2.conf': '<VirtualHost *:80>\nInclude x.conf\nServerName a\n',
    '/etc/apache2/x.conf': '<Directory /srv>\n',
  });
  assert.deepEqual(codes(r), ['/etc/apache2/x.conf:1 web/apache-unclosed-section', '/etc/apache2/apache2.conf:1 web/apache-unclosed-section']);
});

test('mismatched and stray closing tags', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<Directory /a>\n</Location>\n</Directory>\n</VirtualHost>\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:2 web/apache-mismatched-close', '/etc/apache2/apache2.conf:4 web/apache-unexpected-close']);
});

test('unknown directives and unknown sections are fine', () => {
  const r = read({ '/etc/apache2/apache2.conf': 'FrobnicateAll On\n<Frobnicator x>\nWhatever 1 2 3\n</Frobnicator>\nServerName ok.example\n' });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.main.serverName, 'ok.example');
});

test('AAHatName outside a per-directory section, AADefaultHatName inside one: wrong context', () => {
  const r = read({ '/etc/apache2/apache2.conf': `${LOAD}AAHatName x\n<VirtualHost *:80>\nAAHatName y\n<Location /a>\nAADefaultHatName z\nImmDefaultHatName z\n</Location>\n</VirtualHost>\n` });
  assert.deepEqual(codes(r), [
    '/etc/apache2/apache2.conf:2 web/apache-wrong-context', '/etc/apache2/apache2.conf:4 web/apache-wrong-context',
    '/etc/apache2/apache2.conf:6 web/apache-wrong-context', '/etc/apache2/apache2.conf:7 web/apache-wrong-context',
  ]);
});

test('mod_apparmor directives take exactly one argument', () => {
  const r = read({ '/etc/apache2/apache2.conf': `${LOAD}<Location />\nAAHatName a b\n</Location>\nAADefaultHatName\n` });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:3 web/apache-directive-syntax', '/etc/apache2/apache2.conf:5 web/apache-directive-syntax']);
});

test('mod_apparmor directives without the module loaded: Apache would refuse, hatter warns and still reads them', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<Location /a>\nAAHatName a\n</Location>\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:2 web/apache-module-not-loaded']);
  assert.equal(r.config.main.sections[0]!.hatName, 'a');
});

test('<IfModule> follows the modules loaded so far, by identifier or file name, and negation', () => {
  const conf = `<IfModule mod_apparmor.c>\nAADefaultHatName early\n</IfModule>\n${LOAD}<IfModule apparmor_module>\nServerName loaded\n</IfModule>\n<IfModule !mod_apparmor.c>\nServerName not-loaded\n</IfModule>\n<IfModule mod_apparmor.c>\nAADefaultHatName late\n</IfModule>\n`;
  const r = read({ '/etc/apache2/apache2.conf': conf });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.main.serverName, 'loaded');
  assert.equal(r.config.main.defaultHatName, 'late');
  const forced = read({ '/etc/apache2/apache2.conf': conf }, { modules: ['core.c'] });
  assert.equal(forced.config.main.serverName, 'not-loaded');
  assert.equal(forced.config.main.defaultHatName, undefined);
});

test('Define, ${VAR} and <IfDefine>, including -D parameters', () => {
  const r = read({ '/etc/apache2/apache2.conf': 'Define ROOT /srv/www\nDefine FLAG\nDocumentRoot ${ROOT}/main\n<IfDefine FLAG>\nServerName flagged\n</IfDefine>\n<IfDefine !SSL>\nListen 8080\n</IfDefine>\n<IfDefine SSL>\nListen 443\n</IfDefine>\n' }, { defines: [] });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.config.main.documentRoot, '/srv/www/main');
  assert.equal(r.config.main.serverName, 'flagged');
  assert.deepEqual(r.config.listens.map((l) => l.port), [8080]);
  const ssl = read({ '/etc/apache2/apache2.conf': '<IfDefine SSL>\nListen 443\n</IfDefine>\n' }, { defines: ['SSL'] });
  assert.deepEqual(ssl.config.listens.map((l) => l.port), [443]);
});

test('an undefined ${VAR} is a warning and stays literal', () => {
  const r = read({ '/etc/apache2/apache2.conf': 'DocumentRoot /x/${NOPE}\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:1 web/apache-undefined-variable']);
  assert.equal(r.config.main.documentRoot, '/x/${NOPE}');
});

test('line continuations join lines; comments and blank lines are skipped; diagnostics point at the first line', () => {
  const r = read({ '/etc/apache2/apache2.conf': `${LOAD}# comment\n<VirtualHost \\\n  *:80>\nServerName \\\n   joined.example\nServerAlias a.example \\\n b.example\n</VirtualHost>\nAAHatName \\\n x\n` });
  assert.equal(r.config.vhosts[0]!.serverName, 'joined.example');
  assert.deepEqual(r.config.vhosts[0]!.serverAliases, ['a.example', 'b.example']);
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:10 web/apache-wrong-context']);
});

test('Listen forms, VirtualHost addresses, ServerName with scheme and port', () => {
  const r = read({ '/etc/apache2/apache2.conf': 'Listen 80\nListen 127.0.0.1:8080\nListen [::1]:8443 https\n<VirtualHost [::1]:8443 10.0.0.1 _default_:*>\nServerName https://Secure.Example:8443\n</VirtualHost>\n' });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.config.listens.map((l) => [l.address ?? '*', l.port]), [['*', 80], ['127.0.0.1', 8080], ['::1', 8443]]);
  assert.deepEqual(r.config.vhosts[0]!.addresses, [{ host: '::1', port: 8443 }, { host: '10.0.0.1', port: '*' }, { host: '_default_', port: '*' }]);
  assert.equal(r.config.vhosts[0]!.serverName, 'secure.example');
});

test('nesting rules: no <VirtualHost> or <Directory> inside per-directory sections; no <Files> in <Location>', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<Directory /a>\n<Directory /a/b>\n</Directory>\n<VirtualHost *:80>\n</VirtualHost>\n</Directory>\n<Location /x>\n<Files y>\n</Files>\n</Location>\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:2 web/apache-bad-nesting', '/etc/apache2/apache2.conf:4 web/apache-bad-nesting', '/etc/apache2/apache2.conf:8 web/apache-bad-nesting']);
});

test('a regular expression that does not compile is reported', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<LocationMatch "^/(a">\n</LocationMatch>\n<Directory ~ "[">\n</Directory>\n' });
  assert.deepEqual(codes(r), ['/etc/apache2/apache2.conf:1 web/apache-bad-regex', '/etc/apache2/apache2.conf:3 web/apache-bad-regex']);
});

test('sections store their kind; the ~ forms become the Match kinds', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<Directory ~ "^/srv/[a-z]+">\n</Directory>\n<Files ~ "\\.php$">\n</Files>\n<Location ~ "^/api">\n</Location>\n<Directory "/var/www/">\n</Directory>\n' });
  assert.deepEqual(r.config.main.sections.map((s) => [s.kind, s.pattern]), [['DirectoryMatch', '^/srv/[a-z]+'], ['FilesMatch', '\\.php$'], ['LocationMatch', '^/api'], ['Directory', '/var/www']]);
});

test('Debian envvars: exports with $SUFFIX', () => {
  assert.deepEqual(parseEnvvars('unset HOME\nexport APACHE_RUN_USER=www-data\nexport APACHE_LOG_DIR=/var/log/apache2$SUFFIX\nexport LANG=C\n'),
    { APACHE_RUN_USER: 'www-data', APACHE_LOG_DIR: '/var/log/apache2', LANG: 'C' });
});

test("Debian's shipped /etc/apache2/apache2.conf reads without errors", (t) => {
  if (!existsSync('/etc/apache2/apache2.conf')) return t.skip('skipped: apache2 not installed (apt-get install apache2)');
  const env = existsSync('/etc/apache2/envvars') ? parseEnvvars(readFileSync('/etc/apache2/envvars', 'utf8')) : {};
  const r = readApacheConfig('/etc/apache2/apache2.conf', { fs: nodeFileSystem(), env });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.config.files.length > 5, 'follows the Include lines');
  assert.ok(r.config.listens.some((l) => l.port === 80));
  assert.ok(r.config.modules.includes('alias_module'));
});

test('<IfVersion> and <IfDirective> are evaluated', () => {
  const r = read({ '/etc/apache2/apache2.conf': '<IfVersion >= 2.4>\nListen 1\n</IfVersion>\n<IfVersion < 2.4>\nListen 2\n</IfVersion>\n<IfVersion 2.4>\nListen 3\n</IfVersion>\n<IfVersion !~ ^2>\nListen 4\n</IfVersion>\n<IfDirective AAHatName>\nListen 5\n</IfDirective>\n<IfDirective !AAHatName>\nListen 6\n</IfDirective>\n' });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.config.listens.map((l) => l.port), [1, 3, 6]);
});

/** A file system with one config and a directory `/etc/apache2/conf.d/sub` of `count` generated files. */
function hugeDirectory(count: number): WebFileSystem & { listed: number } {
  const names = Array.from({ length: count }, (_, i) => `f${String(i).padStart(6, '0')}.conf`);
  const fs = {
    listed: 0,
    read: (path: string) => (path === '/etc/apache2/apache2.conf' ? { text: `${LOAD}Include conf.d\nServerName after.example\n` } : { text: 'AADefaultHatName from-include\n' }),
    stat: (path: string) => (/^\/etc\/apache2(\/conf\.d(\/sub)?)?$/.test(path) ? 'directory' as const : path.startsWith('/etc/apache2/') ? 'file' as const : undefined),
    list: (path: string) => {
      fs.listed++;
      return path === '/etc/apache2/conf.d' ? ['sub'] : path === '/etc/apache2/conf.d/sub' ? names : [];
    },
  };
  return fs;
}

test('Include of a directory with 150,000 files: the file limit as a diagnostic, no stack overflow', () => {
  const fs = hugeDirectory(150_000);
  const { config, diagnostics } = readApacheConfig('/etc/apache2/apache2.conf', { fs });
  assert.deepEqual(diagnostics.map((d) => [d.code, d.line]), [['web/apache-too-many-files', 2]]);
  assert.equal(config.files.length, 20_000);
  assert.equal(config.files[1], '/etc/apache2/conf.d/sub/f000000.conf');
  // Reading stopped: nothing after the Include was applied.
  assert.equal(config.main.serverName, undefined);
});

test('filesUnder walks depth first in sorted order and stops at its limit', () => {
  const fs = memoryFileSystem({ '/d/b/x': '', '/d/a': '', '/d/c/y/z': '', '/d/c/w': '' });
  assert.deepEqual(filesUnder(fs, '/d', 100), ['/d/a', '/d/b/x', '/d/c/w', '/d/c/y/z']);
  assert.deepEqual(filesUnder(fs, '/d', 2), ['/d/a', '/d/b/x']);
  assert.deepEqual(filesUnder(fs, '/d/a', 100), ['/d/a']);
  assert.equal(filesUnder(hugeDirectory(150_000), '/etc/apache2/conf.d', 10).length, 10);
});
