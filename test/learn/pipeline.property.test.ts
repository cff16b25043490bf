// The whole learning pipeline over random policies and random logs (issue #19, "Done when", first bullet):
// events → needsFromEvents → propose → defaultAnswers (what --apply accepts) → applyAnswers → applyEdits.
// On the edited policy: every need of an accepted group is gone (its events are allowed by the rules, not
// just by complain mode), nothing allowed before is denied, every grant `hatter diff` finds comes from an
// accepted alternative's rules, and learning the same log again proposes nothing that --apply accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyEdits } from '../../src/learn/apply.js';
import { applyAnswers, defaultAnswers, needsFromEvents, propose } from '../../src/learn/index.js';
import type { PolicyEdit } from '../../src/learn/edit-model.js';
import { parseLine, type AuditEvent } from '../../src/logs/index.js';
import { loadPolicy } from '../../src/policy/load/index.js';
import { memoryFileReader } from '../../src/policy/resolve/index.js';
import { compilePolicy, decide, diffPolicies } from '../../src/policy/eval/index.js';
import { tenantsFromFlags } from '../../src/web/tenants.js';

const D = '/etc/apparmor.d';
const ENTRY = `${D}/web`;
const TUNABLES = '@{HOME}=/home/*/ /root/\n@{PROC}=/proc/\n@{pid}={[1-9],[1-9][0-9],[1-9][0-9][0-9]}\n';
const HATS = ['alice', 'bob'] as const;
const TENANTS = tenantsFromFlags(HATS.map((h) => `${h}=/srv/www/${h}`)).tenants;

const FILES = [
  '/srv/www/alice/index.php', '/srv/www/alice/uploads/a.jpg', '/srv/www/alice/uploads/b.jpg', '/srv/www/bob/wp-config.php',
  '/srv/www/bob/cache/x.tmp', '/tmp/sess_1', '/etc/ssl/certs/ca.pem', '/proc/12/status', '/usr/share/zoneinfo/UTC',
];
const MASKS = ['r', 'w', 'rw', 'k', 'm'] as const;

const existingRule = fc.constantFrom('/etc/ssl/certs/*.pem r,', '/tmp/** rw,', 'capability setuid,', '/usr/share/** r,', '/srv/www/alice/** r,', '# note');

const policyArbitrary = fc.record({
  top: fc.array(existingRule, { maxLength: 3 }),
  hats: fc.subarray([...HATS]),
  hatRules: fc.array(existingRule, { maxLength: 3 }),
  local: fc.boolean(),
}).map(({ top, hats, hatRules, local }) => {
  const lines = ['include <tunables/global>', 'profile web /usr/sbin/web {', ...top.map((r) => `  ${r}`)];
  if (local) lines.push('  include if exists <local/web>');
  for (const hat of hats) lines.push(`  ^${hat} {`, ...hatRules.map((r) => `    ${r}`), '  }');
  lines.push('}', '');
  return { [ENTRY]: lines.join('\n'), [`${D}/tunables/global`]: TUNABLES } as Record<string, string>;
});

let serial = 1;
function line(body: string): string {
  serial++;
  return `type=AVC msg=audit(1700000000.${String(serial % 1000).padStart(3, '0')}:${serial}): ${body}`;
}

const eventArbitrary = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom('web//alice', 'web//bob', 'web'), fc.constantFrom(...FILES), fc.constantFrom(...MASKS), fc.boolean())
    .map(([profile, name, mask, owner]) => `apparmor="DENIED" operation="open" profile="${profile}" name="${name}" pid=4 comm="php" requested_mask="${mask}" denied_mask="${mask}" fsuid=33 ouid=${owner ? 33 : 0}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('web//alice', 'web'), fc.constantFrom('chown', 'kill', 'net_bind_service'))
    .map(([profile, cap]) => `apparmor="DENIED" operation="capable" profile="${profile}" pid=4 comm="php" capability=0 capname="${cap}"`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('web//alice', 'web'), fc.constantFrom('/usr/bin/dash', '/usr/bin/cwebp'))
    .map(([profile, name]) => `apparmor="DENIED" operation="exec" profile="${profile}" name="${name}" pid=4 comm="php" requested_mask="x" denied_mask="x" fsuid=33 ouid=0`) },
  { weight: 1, arbitrary: fc.constantFrom('web//alice', 'web//bob')
    .map((profile) => `apparmor="DENIED" operation="create" profile="${profile}" pid=4 comm="php" family="inet" sock_type="stream" protocol=6 requested_mask="create" denied_mask="create"`) },
);

function events(bodies: readonly string[]): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const body of bodies) {
    const record = parseLine(line(body));
    if (record.kind === 'event') out.push(record.event);
  }
  return out;
}

function load(files: Record<string, string>) {
  const loaded = loadPolicy(ENTRY, memoryFileReader(files), { includePaths: [D] });
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}: ${d.message}`), []);
  return { loaded, compiled: compilePolicy(loaded.resolved).compiled };
}

/**
 * A policy of only the accepted edits: one enforce-mode profile per edited label with the accepted rules,
 * and an empty stand-in for each hat created in it (a profile with hats gets the compiler's implicit
 * change_hat grant, which is the new hat's doing). Tunables included.
 */
function rulesOnly(edits: readonly PolicyEdit[]) {
  const byLabel = new Map<string, string[]>();
  for (const edit of edits) {
    const [label, line] = edit.kind === 'add-rule'
      ? [edit.profile, `  ${edit.rule.trim().endsWith(',') ? edit.rule : `${edit.rule},`}`]
      : [edit.parent, `  ${edit.hat ? '^' : 'profile '}${edit.name} {\n  }`];
    byLabel.set(label, [...(byLabel.get(label) ?? []), line]);
  }
  const names = new Map([...byLabel.keys()].map((label, i) => [label, `accepted${i}`]));
  const text = ['include <tunables/global>', ...[...byLabel].map(([label, lines]) => `profile ${names.get(label)} {\n${lines.join('\n')}\n}`)].join('\n');
  const loaded = loadPolicy(`${D}/accepted`, memoryFileReader({ [`${D}/accepted`]: `${text}\n`, [`${D}/tunables/global`]: TUNABLES }), { includePaths: [D] });
  return { compiled: compilePolicy(loaded.resolved).compiled, names };
}

test('property: --apply on a random log allows what it learned, loses nothing, grants only what it accepted, and is done', () => {
  fc.assert(fc.property(policyArbitrary, fc.array(eventArbitrary, { minLength: 1, maxLength: 12 }), (files, bodies) => {
    const before = load(files);
    const log = events(bodies);
    const needs = needsFromEvents(log, before.compiled);
    const proposals = propose(needs, { policy: before.compiled, variables: before.loaded.resolved.variables ?? [], tenants: TENANTS });
    const answers = defaultAnswers(proposals);
    const { edits, diagnostics } = applyAnswers(proposals, answers);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    const applied = applyEdits(new Map(Object.entries(files)), edits, { entry: ENTRY, includePaths: [D], resolved: before.loaded.resolved });
    assert.deepEqual(applied.diagnostics, []);
    const changed = { ...files };
    for (const change of applied.changes) changed[change.file] = change.after;
    const after = load(changed);

    // Learned: no need of an accepted group is left (the collector counts complain-only permits as needs).
    // (A hat stub's group lists the hat's needs too, but creating the hat grants none of them.)
    const groups = new Map(proposals.groups.map((g) => [g.id, g]));
    const acceptedNeeds = new Set(answers.flatMap((a) => {
      const group = groups.get(a.group)!;
      const alternative = a.action === 'accept' ? group.alternatives[a.alternative ?? group.defaultIndex] : undefined;
      return alternative?.edits.some((e) => e.kind === 'add-rule' && !/^\s*(audit\s+)?deny\b/.test(e.rule)) ? group.needs.map((n) => n.key) : [];
    }));
    const left = needsFromEvents(log, after.compiled);
    for (const need of left) assert.ok(!acceptedNeeds.has(need.key), `still needed after --apply: ${JSON.stringify(need)}`);

    // Learning again: nothing --apply would accept.
    const again = propose(left, { policy: after.compiled, variables: after.loaded.resolved.variables ?? [], tenants: TENANTS });
    assert.deepEqual(defaultAnswers(again), [], 'a second --apply on the same log changes nothing');

    // hatter diff old → new: no access lost; every gained access is granted by an accepted rule.
    const only = rulesOnly(edits);
    const created = new Set(edits.filter((e) => e.kind === 'create-profile').map((e) => `${e.parent}//${e.name}`));
    for (const profile of diffPolicies(before.compiled, after.compiled).profiles) {
      for (const c of profile.classes) {
        if (c.class === 'profile') { assert.ok(created.has(profile.label), `${profile.label} ${c.notes.join()}`); continue; }
        for (const w of c.witnesses) {
          assert.deepEqual(w.lost, [], `${profile.label}: ${w.summary}`);
          if (w.gained.length === 0) continue;
          const name = only.names.get(profile.label);
          assert.ok(name, `${profile.label} gained ${w.summary} without an accepted rule`);
          const decision = decide(only.compiled, name, w.request);
          for (const bit of w.gained) {
            assert.ok(decision.bits.some((b) => b.bit === bit && b.allowed), `${profile.label}: ${w.summary} is not granted by the accepted rules`);
          }
        }
      }
    }
  }), { numRuns: 60 });
});
