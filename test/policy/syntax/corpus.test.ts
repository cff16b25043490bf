// Round trip and PASS-case cleanliness over the shared AppArmor corpora and the Debian profile packages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { decodeSource, encodeSource } from '../../../src/policy/diagnostic/index.js';
import { parsePolicy, printTree } from '../../../src/policy/syntax/index.js';
import { listFiles, policyCorpora } from '../../support/policy-corpora.js';

for (const { label, dir, skip } of policyCorpora()) {
  test(`round trip is byte-identical on every file of ${label}`, { skip }, () => {
    const files = listFiles(dir!);
    assert.ok(files.length > 0);
    const failures: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      const { text, encoding } = decodeSource(bytes);
      const printed = printTree(parsePolicy(text, file).root);
      if (!encodeSource(printed, encoding).equals(bytes)) failures.push(relative(dir!, file));
    }
    assert.deepEqual(failures, [], `${failures.length} of ${files.length} files did not round-trip`);
  });
}

const simple = policyCorpora()[1]!;
test('every #=EXRESULT PASS case of simple_tests parses without a syntax error', { skip: simple.skip }, () => {
  const files = listFiles(simple.dir!).filter((f) => f.endsWith('.sd'));
  let pass = 0;
  const failures: string[] = [];
  for (const file of files) {
    const { text } = decodeSource(readFileSync(file));
    if (!/^#=EXRESULT PASS\r?$/m.test(text)) continue;
    pass++;
    const errors = parsePolicy(text, file).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) failures.push(`${relative(simple.dir!, file)}: ${errors[0]!.message} [${errors[0]!.code}]`);
  }
  assert.ok(pass > 1000, `only ${pass} PASS cases found`);
  assert.deepEqual(failures, []);
});

const profiles = policyCorpora()[0]!;
test('every shared profile, abstraction and tunable parses without a syntax error', { skip: profiles.skip }, () => {
  // abi/ holds kernel feature sets (not policy) and README is prose.
  const files = listFiles(profiles.dir!).filter((f) => !/\/abi\/|README/.test(f));
  const failures: string[] = [];
  for (const file of files) {
    const errors = parsePolicy(decodeSource(readFileSync(file)).text, file).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) failures.push(`${relative(profiles.dir!, file)}:${errors[0]!.line}: ${errors[0]!.message}`);
  }
  assert.deepEqual(failures, []);
});
