import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsFromEvents, propose, renderReview, Review } from '../../src/learn/index.js';
import { tenantsFromFlags } from '../../src/web/index.js';
import { avc, eventsOf, policyOf } from './fixture.js';

const POLICY = '/etc/apparmor.d/apache2';

function proposals(count = 3) {
  const fixture = policyOf({ [POLICY]: 'profile apache2 flags=(complain) {\n  ^alice {\n  }\n  ^bob {\n  }\n}\n' });
  const lines = [
    avc('operation="exec" class="file" profile="apache2//alice" name="/usr/bin/dash" pid=9 comm="php" requested_mask="x" denied_mask="x" fsuid=33 ouid=0'),
    avc('operation="open" class="file" profile="apache2//alice" name="/srv/www/x.css" pid=9 comm="php" requested_mask="r" denied_mask="r" fsuid=33 ouid=0'),
  ];
  for (let i = 0; i < count; i++) lines.push(avc(`operation="open" class="file" profile="apache2//alice" name="/srv/www/alice/f${i}.php" pid=9 comm="php" requested_mask="r" denied_mask="r" fsuid=33 ouid=0`));
  const needs = needsFromEvents(eventsOf(lines), fixture.compiled);
  return propose(needs, { policy: fixture.compiled, tenants: tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob']).tenants });
}

test('single keys answer groups in turn; inherit, child and deny pick their alternative; undo goes back', () => {
  const p = proposals(0);
  assert.deepEqual(p.groups.map((g) => g.class), ['file', 'exec']);
  const [file, exec] = p.groups as [typeof p.groups[0], typeof p.groups[0]];
  const review = new Review(p);
  review.press('deny');
  review.press('child');
  assert.equal(review.status, 'finished');
  assert.deepEqual(review.answers(), [
    { group: file.id, action: 'accept', alternative: file.alternatives.findIndex((a) => a.kind === 'deny') },
    { group: exec.id, action: 'accept', alternative: exec.alternatives.findIndex((a) => a.kind === 'child') },
  ]);
  review.press('undo');
  assert.equal(review.status, 'reviewing');
  assert.equal(review.group, exec);
  review.press('inherit');
  assert.deepEqual(review.answers()[1], { group: exec.id, action: 'accept', alternative: exec.alternatives.findIndex((a) => a.kind === 'inherit') });
  review.press('undo');
  review.press('undo');
  review.press('ignore');
  review.press('finish');
  assert.equal(review.status, 'finished');
  assert.deepEqual(review.answers(), [{ group: file.id, action: 'ignore' }]);
});

test('allow on an alternative that crosses into another tenant is refused until overridden', () => {
  const p = proposals(0);
  const review = new Review(p);
  const group = review.group!;
  assert.equal(group.title, 'r on /srv/www/x.css');
  review.press('glob'); // /srv/www/*.css
  review.press('glob'); // /srv/www/*: reaches alice and bob
  const alt = group.alternatives[review.current]!;
  assert.equal(alt.rules[0], '/srv/www/* r');
  review.press('allow');
  assert.equal(review.position, 0, 'not answered');
  assert.match(review.message, /refused: grants r on \/srv\/www\/bob/);
  assert.match(renderReview(review), /!! grants r on \/srv\/www\/bob/);
  review.press('override');
  assert.deepEqual(review.answers(), [{ group: group.id, action: 'accept', alternative: group.alternatives.indexOf(alt), override: true }]);
});

test('quit aborts with no answers taken; the screen says nothing changed', () => {
  const review = new Review(proposals(1));
  review.press('allow');
  review.press('abort');
  assert.equal(review.status, 'aborted');
  assert.match(renderReview(review), /nothing was changed/);
});

test('an answer redraws in well under 50 ms, even with many groups', () => {
  const review = new Review(proposals(300));
  const start = performance.now();
  for (let i = 0; i < 200; i++) { review.press('next'); renderReview(review); }
  const perAnswer = (performance.now() - start) / 200;
  assert.ok(perAnswer < 50, `${perAnswer.toFixed(2)} ms per redraw`);
});
