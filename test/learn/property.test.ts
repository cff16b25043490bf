// Properties of the whole pipeline over random policies and random events: every default alternative
// is tenant-safe; after applying the defaults (through learn-edit's applyEdits) every event of a group
// with a default is allowed by decide() on the new policy, and learning the same events again proposes
// only what had no safe default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyAnswers, defaultAnswers, needsFromEvents, propose, type Need } from '../../src/learn/index.js';
import { applyEdits } from '../../src/learn/apply.js';
import { tenantsFromFlags } from '../../src/web/index.js';
import { avc, eventsOf, policyOf } from './fixture.js';

const ENTRY = '/etc/apparmor.d/apache2';
const tenants = tenantsFromFlags(['alice=/srv/www/alice', 'bob=/srv/www/bob']).tenants;

const segment = fc.constantFrom('a', 'b', 'up', 'x.php', 'y.jpg', '.ht');
const path = fc.tuple(fc.constantFrom('/srv/www/alice', '/srv/www/bob', '/srv/www', '/etc', '/proc/12'), fc.array(segment, { minLength: 1, maxLength: 3 }))
  .map(([dir, parts]) => `${dir}/${parts.join('/')}`);
const label = fc.constantFrom('apache2', 'apache2//alice', 'apache2//bob', 'apache2//null-carol');
const mask = fc.constantFrom('r', 'w', 'rw', 'm', 'k', 'wc', 'a');
const event = fc.oneof(
  fc.record({ kind: fc.constant('file' as const), label, path, mask, owner: fc.boolean() }),
  fc.record({ kind: fc.constant('exec' as const), label, path: fc.constantFrom('/usr/bin/dash', '/usr/bin/cwebp', '/srv/www/bob/run.sh') }),
  fc.record({ kind: fc.constant('cap' as const), label, cap: fc.constantFrom('chown', 'setuid', 'dac_override') }),
);
const existingRules = fc.array(fc.tuple(fc.constantFrom('alice', 'bob'), path, fc.constantFrom('r', 'rw', 'm')), { maxLength: 4 });

interface GeneratedEvent { readonly kind: string; readonly label: string; readonly path?: string; readonly mask?: string; readonly owner?: boolean; readonly cap?: string }

function line(e: GeneratedEvent): string {
  if (e.kind === 'cap') return avc(`operation="capable" class="cap" profile="${e.label}" pid=2 comm="php" capability=0 capname="${e.cap}"`);
  if (e.kind === 'exec') return avc(`operation="exec" class="file" profile="${e.label}" name="${e.path}" pid=3 comm="php" requested_mask="x" denied_mask="x" fsuid=33 ouid=0`);
  return avc(`operation="open" class="file" profile="${e.label}" name="${e.path}" pid=3 comm="php" requested_mask="${e.mask}" denied_mask="${e.mask}" fsuid=33 ouid=${e.owner ? 33 : 0}`);
}

function policyText(rules: readonly [string, string, string][]): string {
  const hat = (name: string) => `  ^${name} {\n${rules.filter((r) => r[0] === name).map((r) => `    ${r[1]} ${r[2]},\n`).join('')}  }\n`;
  return `profile apache2 flags=(complain) {\n  /usr/sbin/apache2 mr,\n${hat('alice')}${hat('bob')}}\n`;
}

const needKey = (n: Need) => `${n.profile} ${n.class} ${'path' in n ? n.path : ''}`;

test('after --apply, every learned event with a safe default is allowed, and learning again proposes nothing new', () => {
  fc.assert(fc.property(existingRules, fc.array(event, { minLength: 1, maxLength: 12 }), (rules, generated) => {
    const text = policyText(rules);
    const before = policyOf({ [ENTRY]: text });
    const events = eventsOf(generated.map(line));
    const needs = needsFromEvents(events, before.compiled);
    const proposals = propose(needs, { policy: before.compiled, tenants });
    for (const group of proposals.groups) {
      if (group.defaultIndex >= 0) assert.equal(group.alternatives[group.defaultIndex]!.crossesTenant, undefined, `${group.title}: default crosses tenants`);
    }
    const { edits, diagnostics } = applyAnswers(proposals, defaultAnswers(proposals));
    assert.deepEqual(diagnostics, []);
    const applied = applyEdits(new Map([[ENTRY, text]]), edits, { entry: ENTRY });
    assert.deepEqual(applied.diagnostics.filter((d) => d.severity === 'error'), []);
    const afterText = applied.changes.find((c) => c.file === ENTRY)?.after ?? text;
    const after = policyOf({ [ENTRY]: afterText });
    const unsafe = new Set(proposals.groups.filter((g) => g.defaultIndex < 0).flatMap((g) => g.needs.map(needKey)));
    const again = needsFromEvents(events, after.compiled);
    for (const need of again) assert.ok(unsafe.has(needKey(need)), `learned again: ${needKey(need)} in\n${afterText}`);
  }), { numRuns: 40 });
});
