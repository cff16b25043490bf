import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { VariableTable, escapeProfileName, splitReferences } from '../../../src/policy/resolve/variables.js';
import { evaluateCondition, parseInteger } from '../../../src/policy/resolve/conditions.js';
import { filterSlashes } from '../../../src/policy/resolve/slashes.js';

function table(assignments: [string, '=' | '+=' | '?=' | ':=', string[]][]): VariableTable {
  const t = new VariableTable();
  for (const [name, op, values] of assignments) assert.equal(t.assign(name, op, values, undefined), undefined);
  return t;
}

test('one value expands inline, several as an alternation', () => {
  const t = table([['ONE', '=', ['/a']], ['TWO', '=', ['x', 'y']]]);
  assert.equal(t.expand('@{ONE}/b'), '/a/b');
  assert.equal(t.expand('/p/@{TWO}/q'), '/p/{x,y}/q');
  assert.deepEqual(t.expandAll('/p/@{TWO}/q'), ['/p/x/q', '/p/y/q']);
});

test('slashes next to a reference are trimmed', () => {
  const t = table([['HOME', '=', ['/home/*/', '/root/']]]);
  assert.deepEqual(t.expandAll('@{HOME}/.cfg'), ['/home/*/.cfg', '/root/.cfg']);
  assert.deepEqual(t.expandAll('/x/@{HOME}'), ['/x/home/*/', '/x/root/']);
});

test('empty values vanish', () => {
  const t = table([['E', '=', ['']]]);
  assert.deepEqual(t.expandAll('/e@{E}/x'), ['/e/x']);
});

test('assignment operators follow apparmor_parser', () => {
  const t = new VariableTable();
  assert.equal(t.assign('A', '+=', ['x'], 'here')?.code, 'resolve/variable-append-undefined');
  assert.equal(t.assign('A', '?=', ['x'], undefined), undefined);
  assert.equal(t.assign('A', '?=', ['ignored'], undefined), undefined);
  assert.equal(t.assign('A', '+=', ['y'], undefined), undefined);
  assert.deepEqual(t.values('A'), ['x', 'y']);
  assert.equal(t.assign('A', '=', ['z'], undefined)?.code, 'resolve/variable-redefined');
  assert.equal(t.assign('A', ':=', ['z'], undefined), undefined);
  assert.deepEqual(t.values('A'), ['z']);
  assert.equal(t.assign('_A', '=', ['z'], undefined)?.code, 'resolve/bad-variable-name');
  assert.equal(t.assign('4A', '=', ['z'], undefined)?.code, 'resolve/bad-variable-name');
});

test('undefined and recursive variables are problems, not crashes', () => {
  const t = table([['A', '=', ['@{B}']], ['B', '=', ['@{A}']], ['S', '=', ['@{S}']]]);
  const cycle = t.expand('/x/@{A}');
  assert.equal(typeof cycle === 'string' ? cycle : cycle.code, 'resolve/recursive-variable');
  const self = t.expand('@{S}');
  assert.equal(typeof self === 'string' ? self : self.code, 'resolve/recursive-variable');
  const missing = t.expand('/x/@{NOPE}');
  assert.equal(typeof missing === 'string' ? missing : missing.code, 'resolve/undefined-variable');
  assert.equal(t.expand('/x/\\@{NOPE}'), '/x/\\@{NOPE}');
});

test('built-ins: profile_name is escaped, attach_path exists only with an attachment', () => {
  const t = new VariableTable();
  assert.equal(t.expand('/run/@{profile_name}/x', { profile_name: escapeProfileName('g/[x]') }), '/run/g/\\[x\\]/x');
  const missing = t.expand('@{attach_path}', { profile_name: 'p' });
  assert.equal(typeof missing === 'string' ? missing : missing.code, 'resolve/undefined-variable');
  assert.equal(t.expand('@{exec_path}', { exec_path: '/usr/bin/x' }), '/usr/bin/x');
});

test('conditionals: numeric versus lexicographic ordering', () => {
  const t = table([['N', '=', ['10']], ['W', '=', ['abc']], ['SET', '=', ['a', 'b']]]);
  t.assignBoolean('yes', '=', true, undefined);
  const cmp = (left: string, operator: '<' | '>' | '==' | 'in', right: string) => evaluateCondition({ kind: 'compare', operator, left, right }, t);
  assert.equal(cmp('@{N}', '>', '9'), true);
  assert.equal(cmp('@{N}', '>', '0x9'), true);
  assert.equal(cmp('@{W}', '<', 'abd'), true);
  const mixed = cmp('@{N}', '<', 'abc');
  assert.equal(typeof mixed === 'boolean' ? mixed : mixed.code, 'resolve/compare-number-with-text');
  assert.equal(cmp('a', 'in', '@{SET}'), true);
  assert.equal(cmp('@{SET}', '==', '@{SET}'), true);
  assert.equal(evaluateCondition({ kind: 'not', operand: { kind: 'boolean', name: 'yes' } }, t), false);
  assert.equal(evaluateCondition({ kind: 'defined', target: 'set', name: 'NOPE' }, t), false);
  const unset = evaluateCondition({ kind: 'boolean', name: 'nope' }, t);
  assert.equal(typeof unset === 'boolean' ? unset : unset.code, 'resolve/undefined-boolean');
  assert.equal(parseInteger('017'), 15n);
  assert.equal(parseInteger('09'), undefined);
});

test('slash filtering', () => {
  assert.equal(filterSlashes('///foo//////f//oo////'), '/foo/f/oo/');
  assert.equal(filterSlashes('///'), '/');
  assert.equal(filterSlashes('///usr'), '/usr');
  assert.equal(filterSlashes('//usr'), '//usr');
  assert.equal(filterSlashes('/a/'), '/a/');
});

test('property: slash filtering is idempotent and never leaves a triple slash', () => {
  fc.assert(fc.property(fc.stringOf(fc.constantFrom('/', 'a', '*', '\\')), (s) => {
    const once = filterSlashes(s);
    assert.equal(filterSlashes(once), once);
    assert.ok(!once.includes('///'));
  }));
});

test('property: splitting references keeps every character', () => {
  fc.assert(fc.property(fc.stringOf(fc.constantFrom('@', '{', '}', 'A', '/', '\\')), (s) => {
    const joined = splitReferences(s).map((p) => (typeof p === 'string' ? p : `@{${p.name}}`)).join('');
    assert.equal(joined, s);
  }));
});
