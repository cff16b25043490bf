// Which loaded learning profiles stand where a policy's profile goes. The names are the ones Debian's 6.1
// kernel showed in /sys/kernel/security/apparmor/profiles (test/kernel/learn.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shadowingLearningProfiles } from '../../../src/policy/label/index.js';

test('a PHP-FPM pool\'s learning profile P//null-P//HAT stands where the hat P//HAT goes', () => {
  const loaded = ['php-fpm', 'php-fpm//null-php-fpm//myblog', 'apache2', 'apache2//alice'];
  assert.deepEqual(shadowingLearningProfiles(loaded, ['php-fpm', 'php-fpm//myblog']), [{ remove: 'php-fpm//myblog', learning: 'php-fpm//null-php-fpm//myblog' }]);
});

test('nothing to remove when the policy does not define the hat, or the learning profile is a change_hat or exec one', () => {
  const loaded = ['php-fpm//null-php-fpm//myblog', 'apache2//null-alice', 'apache2//alice//null-/usr/bin/dash', 'php-fpm//null-php-fpm//myblog//null-/usr/bin/dash'];
  assert.deepEqual(shadowingLearningProfiles(loaded, ['php-fpm']), []);
  // change_hat learning (`P//null-H`) and exec learning (`…//null-/usr/bin/x`) have names of their own
  assert.deepEqual(shadowingLearningProfiles(loaded, ['apache2//alice', 'apache2//null-alice', 'apache2//alice//dash', 'php-fpm//dash']), []);
});

test('a learning profile under a hat (change_profile from a hat) maps to a child of that hat', () => {
  const loaded = ['web//site//null-web//site//shop'];
  assert.deepEqual(shadowingLearningProfiles(loaded, ['web//site//shop']), [{ remove: 'web//site//shop', learning: 'web//site//null-web//site//shop' }]);
});
