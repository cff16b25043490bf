// literalPrefix and supersetRegExp are cheap first filters: every string the exact automaton matches must
// start with the prefix and match the regular expression (they may let more through, never less).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compilePattern, literalPrefix, matches, parseAare, supersetRegExp } from '../../../src/policy/aare/index.js';
import { probesFor, trickyPatterns } from '../../support/aare-probes.js';

test('property: the literal prefix and the superset expression never reject a string the automaton matches', () => {
  let checked = 0;
  let matched = 0;
  let filtered = 0;
  for (const pattern of trickyPatterns(400, 20261207)) {
    const parsed = parseAare(pattern, { kind: 'path' });
    if (!parsed.ok) continue;
    const compiled = compilePattern(pattern, { kind: 'path' });
    if (!compiled.ok) continue;
    const prefix = literalPrefix(pattern);
    const regexp = supersetRegExp(pattern);
    for (const probe of probesFor(parsed.ast, 7)) {
      checked++;
      const exact = matches(compiled.automaton, probe);
      const passes = probe.startsWith(prefix) && (regexp === undefined || regexp.test(probe));
      if (!passes) filtered++;
      if (exact) { matched++; assert.ok(passes, `${pattern} matches ${JSON.stringify(probe)}, but prefix ${JSON.stringify(prefix)} / ${regexp} reject it`); }
    }
  }
  // the filters must have had something to do: many matches checked, and many non-matches filtered
  assert.ok(matched > 500 && filtered > 500, `checked ${checked}, matched ${matched}, filtered ${filtered}`);
});

test('the filters on typical abstraction rules', () => {
  assert.equal(literalPrefix('/usr/{lib,lib64}/**'), '/usr/');
  assert.equal(literalPrefix('/etc/\\{x\\}'), '/etc/{x}');
  assert.equal(literalPrefix('/etc/\\x41b'), '/etc/');
  const r = supersetRegExp('/{,usr/}lib{,32,64}/**.so*')!;
  assert.ok(r.test('/usr/lib64/libc.so.6') && r.test('/lib/x.so') && !r.test('/usr/share/x.so'));
  assert.equal(supersetRegExp('/a//b'), undefined);
  assert.equal(supersetRegExp('/a/\\x41'), undefined);
  fc.assert(fc.property(fc.stringMatching(/^\/[a-z/.]{0,12}$/), (path) => {
    // a literal path is its own prefix and matches its own expression
    if (path.includes('//')) return; // repeated slashes: both filters step back (tested above)
    assert.equal(literalPrefix(path), path);
    assert.ok(supersetRegExp(path)!.test(path));
  }));
});
