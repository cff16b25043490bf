// Agreement with libapparmor's own log tests: for every NAME.in, hatter's aalogparse view must print NAME.out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatAalogparse } from '../../src/logs/index.js';
import { corpus } from '../support/corpora.js';

const logTests = corpus('log-tests');

test('aalogparse output equals every log-tests/NAME.out', { skip: logTests.skip }, (t) => {
  const dir = logTests.dir!;
  const cases = readdirSync(dir).filter((f) => f.endsWith('.in')).sort();
  assert.ok(cases.length > 100, `expected the full corpus, found ${cases.length} cases`);
  const mismatches: string[] = [];
  for (const file of cases) {
    const name = file.slice(0, -3);
    const got = formatAalogparse(readFileSync(join(dir, file), 'utf8'), file);
    const want = readFileSync(join(dir, `${name}.out`), 'utf8');
    if (got !== want) mismatches.push(`${name}:\n--- got\n${got}--- want\n${want}`);
  }
  t.diagnostic(`log-tests agreement: ${cases.length - mismatches.length}/${cases.length} cases print exactly NAME.out (corpus ${dir})`);
  assert.deepEqual(mismatches, []);
});
