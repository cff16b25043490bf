// The hat vector and the kernel's change_hat decision, case by case (hats-and-web.md §2, §6–8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hatVector, kernelHatNames, resolveChangeHat, selectHat, type ProfileMode, type ProfileTree } from '../../src/web/index.js';

const hat = (parent: string, base: string, mode: ProfileMode = 'enforce', children: ProfileTree[] = []): ProfileTree => ({ name: `${parent}//${base}`, baseName: base, isHat: true, mode, children });
const child = (parent: string, base: string, mode: ProfileMode = 'enforce'): ProfileTree => ({ name: `${parent}//${base}`, baseName: base, isHat: false, mode, children: [] });
const profile = (name: string, children: ProfileTree[], mode: ProfileMode = 'enforce'): ProfileTree => ({ name, baseName: name, isHat: false, mode, children });

test('the spec example: a vhost with no directives', () => {
  assert.deepEqual(hatVector({ serverName: 'shop.example', uri: '/cart/add.php' }), ['shop.example', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI']);
});

test('the spec example: AAHatName on <Location /cart> and AADefaultHatName on the vhost', () => {
  assert.deepEqual(hatVector({ hatName: 'checkout', defaultHatName: 'shop', serverName: 'shop.example', uri: '/cart/add.php' }),
    ['checkout', 'shop', 'shop.example-/cart/add.php', '/cart/add.php', 'DEFAULT_URI']);
});

test('2.8.95 order: AAHatName, URI, default-or-ServerName, DEFAULT_URI (no ServerName-URI)', () => {
  assert.deepEqual(hatVector({ hatName: 'h', defaultHatName: 'd', serverName: 's', uri: '/u' }, '2.8.95'), ['h', '/u', 'd', 'DEFAULT_URI']);
  assert.deepEqual(hatVector({ serverName: 's', uri: '/u' }, '2.8.95'), ['/u', 's', 'DEFAULT_URI']);
});

test('at most 5 names in either order', () => {
  assert.equal(hatVector({ hatName: 'h', defaultHatName: 'd', serverName: 's', uri: '/u' }).length, 5);
});

const apache = profile('apache2', [hat('apache2', 'a'), hat('apache2', 'b'), child('apache2', 'c')]);

test('the first candidate that exists as a hat wins, in vector order', () => {
  assert.deepEqual(resolveChangeHat(apache, undefined, ['x', 'b', 'a']), { outcome: 'hat', label: 'apache2//b', hat: 'b', candidateIndex: 1, mode: 'enforce' });
});

test('a matching child that is not a hat stops the search with EPERM', () => {
  const r = resolveChangeHat(apache, undefined, ['x', 'c', 'a']);
  assert.equal(r.outcome, 'error');
  assert.equal(r.outcome === 'error' && r.errno, 'EPERM');
});

test('ENOENT when the profile has children but none matches; ECHILD when it has none', () => {
  const r1 = resolveChangeHat(apache, undefined, ['x', 'y']);
  assert.equal(r1.outcome === 'error' && r1.errno, 'ENOENT');
  const r2 = resolveChangeHat(profile('lonely', []), undefined, ['x']);
  assert.equal(r2.outcome === 'error' && r2.errno, 'ECHILD');
  assert.equal(r2.outcome === 'error' && r2.reason, 'no hats defined');
});

test('unconfined task: EPERM "unconfined can not change_hat"', () => {
  assert.deepEqual(resolveChangeHat('unconfined', undefined, ['a']), { outcome: 'error', errno: 'EPERM', reason: 'unconfined can not change_hat' });
});

test('from inside a hat the lookup is among siblings', () => {
  const inA = apache.children[0]!;
  const r = resolveChangeHat(inA, apache, ['b']);
  assert.equal(r.outcome === 'hat' && r.label, 'apache2//b');
});

test('a hat given without its parent is refused rather than guessed', () => {
  const r = resolveChangeHat(apache.children[0]!, undefined, ['b']);
  assert.equal(r.outcome, 'error');
});

test('complain mode only looks at the first name', () => {
  const p = profile('apache2', [hat('apache2', 'a', 'complain'), hat('apache2', 'b', 'complain')], 'complain');
  assert.deepEqual(resolveChangeHat(p, undefined, ['x', 'a']), { outcome: 'learning', label: 'apache2//null-x', hat: 'null-x' });
  assert.equal(resolveChangeHat(p, undefined, ['b', 'a']).outcome, 'hat');
});

test('complain mode is the mode of the profile doing the change, not of its hats', () => {
  const enforcingParent = profile('apache2', [hat('apache2', 'a', 'complain')], 'enforce');
  const r = resolveChangeHat(enforcingParent, undefined, ['x', 'a']);
  assert.equal(r.outcome === 'hat' && r.label, 'apache2//a');
});

test('PATH_MAX: a 4095-byte name passes libapparmor, 4096 bytes fail the whole vector with EPROTO', () => {
  const ok = 'n'.repeat(4000);
  const p = profile('p', [hat('p', ok)]);
  assert.equal(resolveChangeHat(p, undefined, [ok]).outcome, 'hat');
  // 4095 bytes pass libapparmor's check, but the command no longer fits the one page the kernel reads.
  const cut = resolveChangeHat(p, undefined, ['n'.repeat(4095)]);
  assert.equal(cut.outcome === 'error' && cut.errno, 'ENOENT');
  const bad = resolveChangeHat(p, undefined, [ok, 'x'.repeat(4096)]);
  assert.equal(bad.outcome === 'error' && bad.errno, 'EPROTO');
  // Bytes, not UTF-16 units: 2048 two-byte characters are 4096 bytes.
  const wide = resolveChangeHat(p, undefined, ['é'.repeat(2048)]);
  assert.equal(wide.outcome === 'error' && wide.errno, 'EPROTO');
});

test('the kernel reads one page: later names are cut, at most 16 names', () => {
  const { names, truncated } = kernelHatNames(['a'.repeat(3000), 'b'.repeat(3000), 'c']);
  assert.equal(truncated, true);
  assert.equal(names.length, 2);
  // 4096 - 'changehat ' (10) - 16 hex digits - '^' - 3000 a's - NUL = 1068 bytes of the second name.
  assert.equal(names[1], 'b'.repeat(1068));
  const many = kernelHatNames(Array.from({ length: 20 }, (_, i) => `h${i}`));
  assert.equal(many.truncated, false);
  assert.equal(many.names.length, 16);
});

test('selectHat: fail-open to the parent with the warning mod_apparmor logs', () => {
  const s = selectHat(profile('apache2', [hat('apache2', 'HANDLING_UNTRUSTED_INPUT')]), ['x', 'DEFAULT_URI']);
  assert.equal(s.outcome, 'parent');
  assert.equal(s.hat, null);
  assert.equal(s.label, 'apache2');
  assert.deepEqual(s.warnings, ['[apparmor:warn] (2)No such file or directory: aa_change_hatv call failed']);
});

test('selectHat: AADefaultHatName sanity warning unless the hat is the default or the URI', () => {
  const p = profile('apache2', [hat('apache2', 'HANDLING_UNTRUSTED_INPUT'), hat('apache2', '/u'), hat('apache2', 'DEFAULT_URI')]);
  const toUri = selectHat(p, hatVector({ defaultHatName: 'd', serverName: 's', uri: '/u' }), { defaultHatName: 'd', serverName: 's', uri: '/u' });
  assert.equal(toUri.label, 'apache2///u');
  assert.deepEqual(toUri.warnings, []);
  const toDefault = selectHat(p, hatVector({ defaultHatName: 'd', serverName: 's', uri: '/v' }), { defaultHatName: 'd', serverName: 's', uri: '/v' });
  assert.equal(toDefault.label, 'apache2//DEFAULT_URI');
  assert.deepEqual(toDefault.warnings, ["[apparmor:warn] AADefaultHatName 'd' applies, but does not appear to be a hat in the apache apparmor policy"]);
});

test('selectHat: no sanity warnings in complain mode', () => {
  const p = profile('apache2', [hat('apache2', 'HANDLING_UNTRUSTED_INPUT', 'complain'), hat('apache2', 'h', 'complain')], 'complain');
  const s = selectHat(p, ['h', 's'], { hatName: 'other', serverName: 's', uri: '/' });
  assert.equal(s.outcome, 'hat');
  assert.deepEqual(s.warnings, []);
});

test('property: the kernel enters the first name that is a child, and only if it is a hat', async () => {
  const fc = (await import('fast-check')).default;
  const name = fc.constantFrom('a', 'b', 'c', 'd', 'DEFAULT_URI', '/x', 's-/x');
  const arbTree = fc.record({
    mode: fc.constantFrom<ProfileMode>('enforce', 'complain', 'kill'),
    kids: fc.uniqueArray(fc.tuple(name, fc.boolean()), { selector: (k) => k[0], maxLength: 5 }),
  });
  fc.assert(fc.property(arbTree, fc.array(name, { minLength: 1, maxLength: 5 }), ({ mode, kids }, candidates) => {
    const p = profile('p', kids.map(([n, isHat]) => (isHat ? hat('p', n, mode) : child('p', n, mode))), mode);
    const r = resolveChangeHat(p, undefined, candidates);
    const considered = mode === 'complain' ? candidates.slice(0, 1) : candidates;
    const firstChild = considered.findIndex((c) => kids.some(([n]) => n === c));
    if (firstChild < 0) {
      if (mode === 'complain') assert.deepEqual(r, { outcome: 'learning', label: `p//null-${candidates[0]}`, hat: `null-${candidates[0]}` });
      else assert.equal(r.outcome === 'error' && r.errno, kids.length > 0 ? 'ENOENT' : 'ECHILD');
      return;
    }
    const isHat = kids.find(([n]) => n === considered[firstChild])![1];
    if (isHat) assert.deepEqual(r, { outcome: 'hat', label: `p//${considered[firstChild]}`, hat: considered[firstChild], candidateIndex: firstChild, mode });
    else assert.equal(r.outcome === 'error' && r.errno, 'EPERM');
  }), { numRuns: 1000 });
});
