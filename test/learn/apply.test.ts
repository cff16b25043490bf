import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits } from '../../src/learn/apply.js';
import type { PolicyEdit } from '../../src/learn/edit-model.js';

const D = '/etc/apparmor.d';

function apply(files: Record<string, string>, edits: PolicyEdit[], entry = `${D}/entry`) {
  return applyEdits(new Map(Object.entries(files)), edits, { entry, includePaths: [D] });
}

function after(result: ReturnType<typeof apply>, file: string): string | undefined {
  return result.changes.find((c) => c.file === file)?.after;
}

const add = (profile: string, rule: string, comment?: string): PolicyEdit => ({ kind: 'add-rule', profile, rule, ...(comment ? { comment } : {}) });

test('a rule goes after the last rule of its kind, indented like it; comments and blank lines stay', () => {
  const text = [
    '# header comment',
    'profile web /usr/sbin/web {',
    '    # files',
    '    /etc/web.conf r,   # config',
    '',
    '    capability setuid,',
    '}',
    '',
  ].join('\n');
  const result = apply({ [`${D}/entry`]: text }, [add('web', '/srv/www/** r'), add('web', 'capability   chown,')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/entry`), [
    '# header comment',
    'profile web /usr/sbin/web {',
    '    # files',
    '    /etc/web.conf r,   # config',
    '    /srv/www/** r,',
    '',
    '    capability setuid,',
    '    capability chown,',
    '}',
    '',
  ].join('\n'));
});

test('a rule of a new kind goes before the nested hats, or before the closing brace', () => {
  const text = 'profile p {\n  /a r,\n\n  ^h {\n  }\n}\nprofile q {\n\t/b r,\n}\n';
  const result = apply({ [`${D}/entry`]: text }, [add('p', 'capability kill'), add('q', 'network inet stream')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/entry`), 'profile p {\n  /a r,\n  capability kill,\n\n  ^h {\n  }\n}\nprofile q {\n\t/b r,\n\tnetwork inet stream,\n}\n');
});

test('an empty block on one line is opened up', () => {
  const result = apply({ [`${D}/entry`]: 'profile p {\n  ^h {}\n}\n' }, [add('p//h', '/x r')]);
  assert.equal(after(result, `${D}/entry`), 'profile p {\n  ^h {\n    /x r,\n  }\n}\n');
});

test('a rule already present (spelled differently) is not added again; the same edits twice are one', () => {
  const text = 'profile p {\n  /a rw,\n  include <abstractions/base>\n}\n';
  const files = { [`${D}/entry`]: text, [`${D}/abstractions/base`]: '/etc/ld.so.cache r,\n' };
  const result = apply(files, [add('p', '/a   wr,'), add('p', '/etc/ld.so.cache r'), add('p', '/b r'), add('p', '/b r,')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/entry`), 'profile p {\n  /a rw,\n  /b r,\n  include <abstractions/base>\n}\n');
  const again = apply({ ...files, [`${D}/entry`]: after(result, `${D}/entry`)! }, [add('p', '/b r')]);
  assert.deepEqual(again.changes, []);
});

test('local/ override: rules go into the existing local file, or a new one where the loader would look', () => {
  const text = 'profile p {\n  /a r,\n  include if exists <local/p>\n}\n';
  const existing = apply({ [`${D}/entry`]: text, [`${D}/local/p`]: '# site additions\n/x r,\n' }, [add('p', '/y w')]);
  assert.deepEqual(existing.diagnostics, []);
  assert.equal(existing.changes.length, 1);
  assert.equal(after(existing, `${D}/local/p`), '# site additions\n/x r,\n/y w,\n');

  const fresh = apply({ [`${D}/entry`]: text }, [add('p', '/y w'), add('p', 'capability chown')]);
  assert.deepEqual(fresh.diagnostics, []);
  assert.equal(fresh.changes.length, 1);
  assert.equal(fresh.changes[0]!.file, `${D}/local/p`);
  assert.equal(fresh.changes[0]!.before, undefined);
  assert.match(fresh.changes[0]!.after, /^# .*\n\/y w,\ncapability chown,\n$/);
});

test('hats defined in included files are edited where they are written', () => {
  const entry = 'profile php-fpm /usr/sbin/php-fpm* {\n  /etc/php/** r,\n  include <php-fpm.d>\n}\n';
  const blog = '# blog pool\n^blog {\n  /srv/www/blog/** r,\n}\n';
  const shop = '^shop {\n}\n';
  const files = { [`${D}/entry`]: entry, [`${D}/php-fpm.d/blog`]: blog, [`${D}/php-fpm.d/shop`]: shop };
  const result = apply(files, [add('php-fpm//blog', '/srv/www/blog/uploads/** w'), add('php-fpm//shop', '/srv/www/shop/** r')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/php-fpm.d/blog`), '# blog pool\n^blog {\n  /srv/www/blog/** r,\n  /srv/www/blog/uploads/** w,\n}\n');
  assert.equal(after(result, `${D}/php-fpm.d/shop`), '^shop {\n  /srv/www/shop/** r,\n}\n');
  assert.equal(after(result, `${D}/entry`), undefined);
});

test('a new hat goes after its last sibling, with its indentation and flags, holding the rules aimed at it', () => {
  const text = 'profile apache2 {\n  /a r,\n\n  ^DEFAULT_URI {\n    /b r,\n  } # end\n}\n';
  const result = apply({ [`${D}/entry`]: text }, [
    add('apache2//site', '/srv/site/** r'),
    { kind: 'create-profile', parent: 'apache2', name: 'site', hat: true, flags: ['complain'] },
    { kind: 'create-profile', parent: 'apache2', name: 'site', hat: true, flags: ['complain'] },
  ]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/entry`), 'profile apache2 {\n  /a r,\n\n  ^DEFAULT_URI {\n    /b r,\n  } # end\n\n  ^site flags=(complain) {\n    /srv/site/** r,\n  }\n}\n');
});

test('a new child profile in a profile without children goes before the closing brace', () => {
  const text = 'profile php-fpm {\n  /usr/bin/dash Cx -> helper,\n}\n';
  const result = apply({ [`${D}/entry`]: text }, [{ kind: 'create-profile', parent: 'php-fpm', name: 'helper', hat: false, flags: ['complain'] }]);
  assert.equal(after(result, `${D}/entry`), 'profile php-fpm {\n  /usr/bin/dash Cx -> helper,\n\n  profile helper flags=(complain) {\n  }\n}\n');
});

test('hats in an included directory (php-fpm.d/): a new hat gets its own file there; in an included file: after the sibling', () => {
  const entry = 'profile php-fpm {\n  include <php-fpm.d>\n}\n';
  const files = { [`${D}/entry`]: entry, [`${D}/php-fpm.d/blog`]: '^blog {\n}\n' };
  const result = apply(files, [
    { kind: 'create-profile', parent: 'php-fpm', name: 'shop', hat: true, flags: ['complain'] },
    add('php-fpm//shop', '/srv/www/shop/** r'),
  ]);
  assert.deepEqual(result.diagnostics, []);
  assert.deepEqual(result.changes, [{ file: `${D}/php-fpm.d/shop`, before: undefined, after: '^shop flags=(complain) {\n  /srv/www/shop/** r,\n}\n' }]);

  const single = { [`${D}/entry`]: 'profile php-fpm {\n  include <hats/all>\n}\n', [`${D}/hats/all`]: '^blog {\n}\n' };
  const appended = apply(single, [{ kind: 'create-profile', parent: 'php-fpm', name: 'shop', hat: true, flags: [] }]);
  assert.equal(after(appended, `${D}/hats/all`), '^blog {\n}\n\n^shop {\n}\n');
  // A name that is not a plain file name stays next to the sibling too.
  const odd = apply(files, [{ kind: 'create-profile', parent: 'php-fpm', name: '/app/index.php', hat: true, flags: [] }]);
  assert.equal(after(odd, `${D}/php-fpm.d/blog`), '^blog {\n}\n\n^/app/index.php {\n}\n');
});

test('edits that cannot be placed are diagnostics, never throws, and change nothing', () => {
  const text = 'profile p {\n  /a r,\n}\n';
  const result = apply({ [`${D}/entry`]: text }, [
    add('nope', '/x r'),
    add('p', '/x r, } profile evil { /** rwx'),
    add('p', 'include "/etc/shadow"'),
    add('p', '/x r,\n/y w'),
    { kind: 'create-profile', parent: 'missing', name: 'h', hat: true, flags: [] },
    { kind: 'create-profile', parent: 'p', name: 'a}b', hat: true, flags: [] },
  ]);
  assert.deepEqual(result.changes, []);
  assert.deepEqual(result.diagnostics.map((d) => d.code), [
    'learn-edit/unknown-profile', 'learn-edit/bad-profile-name', 'learn-edit/unknown-profile', 'learn-edit/bad-rule', 'learn-edit/bad-rule', 'learn-edit/bad-rule',
  ]);
});

test('CRLF files get CRLF lines', () => {
  const result = apply({ [`${D}/entry`]: 'profile p {\r\n  /a r,\r\n}\r\n' }, [add('p', '/b r', 'learned from 3 events')]);
  assert.equal(after(result, `${D}/entry`), 'profile p {\r\n  /a r,\r\n  # learned from 3 events\r\n  /b r,\r\n}\r\n');
});

test('an abstraction alternative (an include) goes after the last include, without a comma, and only once', () => {
  const text = 'profile p {\n  include <abstractions/base>\n  /a r,\n}\n';
  const files = { [`${D}/entry`]: text, [`${D}/abstractions/base`]: '/etc/ld.so.cache r,\n', [`${D}/abstractions/user-tmp`]: 'owner /tmp/** rw,\n' };
  const result = apply(files, [add('p', 'include <abstractions/user-tmp>'), add('p', 'include   <abstractions/user-tmp>'), add('p', 'include <abstractions/base>')]);
  assert.deepEqual(result.diagnostics, []);
  assert.equal(after(result, `${D}/entry`), 'profile p {\n  include <abstractions/base>\n  include <abstractions/user-tmp>\n  /a r,\n}\n');
});
