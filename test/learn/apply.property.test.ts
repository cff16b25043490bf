// applyEdits over random policy trees and random edits: the result loads, every original byte is kept
// (the change is insertions only), the added accesses are allowed, nothing allowed before is lost, and
// applying the same edits again changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyEdits } from '../../src/learn/apply.js';
import type { PolicyEdit } from '../../src/learn/edit-model.js';
import { loadPolicy } from '../../src/policy/load/index.js';
import { memoryFileReader } from '../../src/policy/resolve/index.js';
import { compilePolicy, decide, diffPolicies } from '../../src/policy/eval/index.js';

const D = '/etc/apparmor.d';
const ENTRY = `${D}/web`;

/** Rule paths and a concrete path each one matches. */
const PATHS: readonly (readonly [string, string])[] = [
  ['/srv/www/a/index.php', '/srv/www/a/index.php'],
  ['/srv/www/b/**', '/srv/www/b/img/x.png'],
  ['/tmp/upload-*', '/tmp/upload-42'],
  ['/var/log/app.log', '/var/log/app.log'],
  ['/etc/ssl/certs/*.pem', '/etc/ssl/certs/ca.pem'],
  ['"/srv/www/with space/f"', '/srv/www/with space/f'],
];
const PERMISSIONS = ['r', 'w', 'rw', 'rk', 'm'] as const;
const CAPABILITIES = ['chown', 'setuid', 'kill', 'dac_override'] as const;

interface FileAccess { readonly path: string; readonly permissions: string }
type GeneratedRule = { readonly text: string; readonly access?: FileAccess; readonly capability?: string };

const fileRule = fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...PERMISSIONS)).map(([[pattern, path], permissions]): GeneratedRule =>
  ({ text: `${pattern} ${permissions},`, access: { path, permissions } }));
const capabilityRule = fc.constantFrom(...CAPABILITIES).map((name): GeneratedRule => ({ text: `capability ${name},`, capability: name }));
const rule = fc.oneof({ weight: 3, arbitrary: fileRule }, { weight: 1, arbitrary: capabilityRule });

/** A body line: a rule, a comment, a blank line. */
const bodyLine = fc.oneof(
  { weight: 4, arbitrary: rule.map((r) => r.text) },
  { weight: 1, arbitrary: fc.constantFrom('# a comment', '') },
);

interface Tree {
  readonly files: Record<string, string>;
  /** Labels that exist, for edits to aim at. */
  readonly labels: readonly string[];
}

const treeArbitrary: fc.Arbitrary<Tree> = fc.record({
  indent: fc.constantFrom('  ', '    ', '\t'),
  body: fc.array(bodyLine, { maxLength: 6 }),
  hats: fc.array(fc.tuple(fc.constantFrom('alice', 'bob', 'carol'), fc.array(bodyLine, { maxLength: 3 }), fc.boolean(), fc.boolean()), { maxLength: 3 }),
  local: fc.constantFrom('none', 'missing', 'present'),
  crlf: fc.boolean(),
  trailingNewline: fc.boolean(),
}).map(({ indent, body, hats, local, crlf, trailingNewline }) => {
  const files: Record<string, string> = {};
  const labels = ['web'];
  const seen = new Set<string>();
  const lines = ['# web server', 'include <tunables/global>', '', 'profile web /usr/sbin/web {', ...body.map((l) => (l ? indent + l : l))];
  if (local !== 'none') lines.push(`${indent}include if exists <local/web>`);
  if (local === 'present') files[`${D}/local/web`] = '# local additions\n/etc/hosts r,\n';
  let included = false;
  for (const [name, hatBody, oneLine, inIncludedFile] of hats) {
    if (seen.has(name)) continue;
    seen.add(name);
    labels.push(`web//${name}`);
    const text = oneLine && hatBody.length === 0 ? [`^${name} {}`] : [`^${name} {`, ...hatBody.map((l) => (l ? `  ${l}` : l)), '}'];
    if (inIncludedFile) {
      files[`${D}/web.d/${name}`] = `${text.join('\n')}\n`;
      if (!included) { lines.push(`${indent}include <web.d>`); included = true; }
    } else {
      lines.push(...text.map((l) => (l ? indent + l : l)));
    }
  }
  lines.push('}');
  const eol = crlf ? '\r\n' : '\n';
  files[ENTRY] = lines.join(eol) + (trailingNewline ? eol : '');
  files[`${D}/tunables/global`] = '@{HOME}=/home/*/ /root/\n';
  return { files, labels };
});

const editsFor = (labels: readonly string[]) => fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...labels), rule).map(([profile, r]) => ({ kind: 'add-rule' as const, profile, rule: r.text, generated: r })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...labels.filter((l) => !l.includes('//'))), fc.constantFrom('dave', 'erin'), fc.boolean()).map(([parent, name, hat]) => ({ kind: 'create-profile' as const, parent, name, hat, flags: ['complain'], generated: undefined })) },
  ),
  { minLength: 1, maxLength: 6 },
);

function load(files: Record<string, string>) {
  const loaded = loadPolicy(ENTRY, memoryFileReader(files), { includePaths: [D] });
  return loaded;
}

/** Whether `small` is `big` with characters removed (so `big` is `small` with insertions). */
function isSubsequence(small: string, big: string): boolean {
  let i = 0;
  for (let j = 0; j < big.length && i < small.length; j++) if (big[j] === small[i]) i++;
  return i === small.length;
}

test('property: edits are insertions that load, grant what they add, lose nothing, and are idempotent', () => {
  fc.assert(fc.property(treeArbitrary.chain((tree) => fc.tuple(fc.constant(tree), editsFor(tree.labels))), ([tree, generated]) => {
    const before = load(tree.files);
    assert.deepEqual(before.diagnostics.filter((d) => d.severity === 'error'), [], 'the generated tree loads');
    const edits: PolicyEdit[] = generated.map(({ generated: _g, ...edit }) => edit);
    const result = applyEdits(new Map(Object.entries(tree.files)), edits, { entry: ENTRY, includePaths: [D] });
    assert.deepEqual(result.diagnostics, []);

    const files = { ...tree.files };
    for (const change of result.changes) {
      assert.equal(change.before, tree.files[change.file]);
      if (change.before !== undefined) assert.ok(isSubsequence(change.before, change.after), `only insertions in ${change.file}`);
      files[change.file] = change.after;
    }
    const after = load(files);
    assert.deepEqual(after.diagnostics.filter((d) => d.severity === 'error'), [], 'the edited tree loads');

    const oldCompiled = compilePolicy(before.resolved).compiled;
    const newCompiled = compilePolicy(after.resolved).compiled;
    for (const edit of generated) {
      if (edit.kind === 'create-profile') {
        assert.ok(newCompiled.profiles.has(`${edit.parent}//${edit.name}`), `${edit.parent}//${edit.name} exists`);
        continue;
      }
      const access = edit.generated.access;
      const request = access
        ? { class: 'file' as const, path: access.path, permissions: access.permissions }
        : { class: 'capability' as const, name: edit.generated.capability! };
      assert.equal(decide(newCompiled, edit.profile, request).allowed, true, `${edit.profile}: ${edit.rule}`);
    }
    const diff = diffPolicies(oldCompiled, newCompiled);
    for (const profile of diff.profiles) {
      for (const c of profile.classes) for (const w of c.witnesses) assert.deepEqual(w.lost, [], `${profile.label}: ${w.summary}`);
    }

    const again = applyEdits(new Map(Object.entries(files)), edits, { entry: ENTRY, includePaths: [D] });
    assert.deepEqual(again.diagnostics, []);
    assert.deepEqual(again.changes, [], 'the same edits again change nothing');
  }), { numRuns: 150 });
});
