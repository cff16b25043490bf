// Profile trees from policy text: hats from included directories, hats vs child profiles, modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryFileReader } from '../../src/policy/index.js';
import { profileTreesFromPolicy } from '../../src/web/index.js';

const files = {
  '/etc/apparmor.d/usr.sbin.apache2': `profile apache2 /usr/sbin/apache2 flags=(complain) {
  /srv/** r,
  change_profile -> apache2//*,
  ^HANDLING_UNTRUSTED_INPUT {
  }
  hat DEFAULT_URI flags=(complain) {
    /var/www/{html,static}/** r,
  }
  profile helper {
  }
  include if exists <apache2.d>
  include if exists <missing.d>
}
`,
  '/etc/apparmor.d/apache2.d/alice': '^alice.example {\n  /srv/alice/** r,\n}\n',
  '/etc/apparmor.d/apache2.d/bob': '^bob.example flags=(enforce) {\n}\n',
  '/etc/apparmor.d/apache2.d/.hidden': '^hidden {\n}\n',
};

test('hats from include <apache2.d>, child profiles, modes not inherited by hats', () => {
    const r = profileTreesFromPolicy('/etc/apparmor.d/usr.sbin.apache2', { reader: memoryFileReader(files) });
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.equal(r.trees.length, 1);
    const apache = r.trees[0]!;
    assert.equal(apache.name, 'apache2');
    assert.equal(apache.attachment, '/usr/sbin/apache2');
    assert.equal(apache.mode, 'complain');
    assert.deepEqual(apache.changeProfileRules, ['apache2//*']);
    assert.deepEqual(apache.children.map((c) => [c.name, c.baseName, c.isHat, c.mode]), [
      ['apache2//HANDLING_UNTRUSTED_INPUT', 'HANDLING_UNTRUSTED_INPUT', true, 'enforce'],
      ['apache2//DEFAULT_URI', 'DEFAULT_URI', true, 'complain'],
      ['apache2//helper', 'helper', false, 'enforce'],
      ['apache2//alice.example', 'alice.example', true, 'enforce'],
      ['apache2//bob.example', 'bob.example', true, 'enforce'],
    ]);
});

test('an unreadable policy file is one error', () => {
  const r = profileTreesFromPolicy('/nope', { reader: memoryFileReader({}) });
  assert.deepEqual(r.trees, []);
  assert.equal(r.diagnostics[0]!.severity, 'error');
});
