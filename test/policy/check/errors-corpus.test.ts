// parser-tests/errors: where apparmor_parser 3.0.8 reports each error (file and line; hatter words
// its messages itself but keeps apparmor_parser's "Could not open 'X'" text).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkPolicy } from '../../../src/policy/check/index.js';
import { nodeFileReader } from '../../../src/policy-node/index.js';
import { corpus } from '../../support/corpora.js';

const parserTests = corpus('parser-tests');

const EXPECTED: Readonly<Record<string, { file: string; line: number; message?: RegExp } | 'accepted'>> = {
  'okay.sd': 'accepted',
  'single.sd': { file: 'errors/single.sd', line: 3, message: /^Could not open 'failure'$/ },
  'double.sd': { file: 'errors/includes/busted', line: 66, message: /^Could not open 'does-not-exist'$/ },
  'modefail.sd': { file: 'errors/modefail.sd', line: 6 },
  'multi_include.sd': { file: 'errors/multi_include.sd', line: 12, message: /^Could not open 'failure'$/ },
  'deprecation1.sd': 'accepted',
  'deprecation2.sd': 'accepted',
};

test('errors corpus: the same verdict, file and line as apparmor_parser', { skip: parserTests.skip }, () => {
  const root = parserTests.dir!;
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const result = checkPolicy(`errors/${name}`, { reader: nodeFileReader(), workingDirectory: root, includePaths: [join(root, 'errors')] });
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (expected === 'accepted') {
      assert.deepEqual(errors, [], name);
      continue;
    }
    assert.ok(errors.length > 0, `${name} must be rejected`);
    const first = errors[0]!;
    assert.ok(first.file.endsWith(expected.file), `${name}: reported in ${first.file}, expected ${expected.file}`);
    assert.equal(first.line, expected.line, name);
    if (expected.message) assert.match(first.message, expected.message, name);
  }
});

test('hatter check --format apparmor prints what apparmor_parser prints for missing includes', { skip: parserTests.skip }, async () => {
  const { runCli } = await import('../../support/cli.js');
  const expected: Record<string, string> = {
    'okay.sd': '',
    'single.sd': "AppArmor parser error for errors/single.sd in profile errors/single.sd at line 3: Could not open 'failure'\n",
    'double.sd': "AppArmor parser error for errors/double.sd in profile errors/includes/busted at line 66: Could not open 'does-not-exist'\n",
    'multi_include.sd': "AppArmor parser error for errors/multi_include.sd in profile errors/multi_include.sd at line 12: Could not open 'failure'\n",
  };
  for (const [name, stderr] of Object.entries(expected)) {
    const result = await runCli(['check', '--format', 'apparmor', '-I', 'errors', `errors/${name}`], { cwd: parserTests.dir! });
    assert.equal(result.stderr, stderr, name);
    assert.equal(result.code, stderr ? 1 : 0, name);
  }
});
