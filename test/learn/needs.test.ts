import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapLearningLabel, needsFromEvents } from '../../src/learn/index.js';
import { parseLabel } from '../../src/policy/label/index.js';
import { avc, eventsOf, policyOf } from './fixture.js';

const FPM = `
profile php-fpm /usr/sbin/php-fpm* flags=(complain) {
  /etc/php/** r,
  ^known {
    /srv/www/known/** r,
  }
}
`;

test('learning labels map back to the hat they stand for; exec and counter labels count for their parent', () => {
  assert.equal(mapLearningLabel(parseLabel('php-fpm//null-myblog')).profile, 'php-fpm//myblog');
  assert.equal(mapLearningLabel(parseLabel('php-fpm//null-myblog')).learning, true);
  assert.equal(mapLearningLabel(parseLabel('/home/cb/bin/hello.sh//null-/usr/bin/rm')).profile, '/home/cb/bin/hello.sh');
  assert.equal(mapLearningLabel(parseLabel('apache2//null-2d')).profile, 'apache2');
  // A missing change_profile target, as the 6.1 kernel names it (test/kernel/mod-apparmor.test.ts), and an exec inside it.
  assert.equal(mapLearningLabel(parseLabel('php-fpm//null-php-fpm//myblog')).profile, 'php-fpm//myblog');
  assert.equal(mapLearningLabel(parseLabel('php-fpm//null-php-fpm//myblog//null-/usr/bin/dash')).profile, 'php-fpm//myblog');
  assert.equal(mapLearningLabel(parseLabel('apache2//null-alice//null-/usr/bin/dash')).profile, 'apache2//alice');
  assert.equal(mapLearningLabel(parseLabel('apache2//www.example.com')).profile, 'apache2//www.example.com');
  assert.equal(mapLearningLabel(parseLabel('apache2//www.example.com')).learning, false);
});

test('events the policy allows are not needs; others are deduplicated with counts, times and samples', () => {
  const { compiled } = policyOf({ '/etc/apparmor.d/php-fpm': FPM });
  const lines = [
    avc('operation="open" class="file" profile="php-fpm" name="/etc/php/8.2/php.ini" pid=1 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=0 ouid=0'),
    avc('operation="open" class="file" profile="php-fpm//known" name="/srv/www/known/index.php" pid=2 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
    avc('operation="open" class="file" profile="php-fpm//known" name="/srv/www/known/up/a.jpg" pid=2 comm="php-fpm" requested_mask="wc" denied_mask="wc" fsuid=33 ouid=33', 'ALLOWED', 1765000001),
    avc('operation="open" class="file" profile="php-fpm//known" name="/srv/www/known/up/a.jpg" pid=2 comm="php-fpm" requested_mask="wc" denied_mask="wc" fsuid=33 ouid=33', 'ALLOWED', 1765000005),
    avc('operation="open" class="file" profile="php-fpm//null-myblog" name="/srv/www/myblog/index.php" pid=3 comm="php-fpm" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
    avc('operation="capable" class="cap" profile="php-fpm//known" pid=2 comm="php-fpm" capability=1 capname="dac_override"', 'DENIED'),
  ];
  const needs = needsFromEvents(eventsOf(lines), compiled);
  assert.deepEqual(needs.map((n) => `${n.profile} ${n.class}`).sort(), ['php-fpm//known capability', 'php-fpm//known file', 'php-fpm//myblog file'].sort());
  const upload = needs.find((n) => n.class === 'file' && n.path.endsWith('a.jpg'));
  assert.ok(upload && upload.class === 'file');
  assert.equal(upload.permissions, 'w');
  assert.equal(upload.owner, true);
  assert.equal(upload.count, 2);
  assert.ok(upload.first! >= 1765000001000 && upload.first! < 1765000002000);
  assert.ok(upload.last! - upload.first! >= 4000);
  assert.equal(upload.samples.length, 2);
  const blog = needs.find((n) => n.profile === 'php-fpm//myblog')!;
  assert.equal(blog.missingProfile, true);
  assert.equal(blog.loggedLabel, 'php-fpm//null-myblog');
  assert.equal(needs.find((n) => n.class === 'capability')!.denied, true);
});

test('events of a profile not in the policy are reported, not learned', () => {
  const { compiled } = policyOf({ '/etc/apparmor.d/php-fpm': FPM });
  const unknown: string[] = [];
  const needs = needsFromEvents(eventsOf([avc('operation="open" class="file" profile="nginx" name="/etc/nginx/nginx.conf" pid=1 comm="nginx" requested_mask="r" denied_mask="r" fsuid=0 ouid=0')]), compiled, { onUnknownProfile: (p) => unknown.push(p) });
  assert.deepEqual(needs, []);
  assert.deepEqual(unknown, ['nginx']);
});
