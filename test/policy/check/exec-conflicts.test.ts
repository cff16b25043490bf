// Exec-mode conflicts against the live oracle: generated pairs and triples of exec rules (3.x syntax,
// no positive character classes, where 3.0.8 and current upstream differ) must get the same verdict
// from hatter and from apparmor_parser -QK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { checkPolicy } from '../../../src/policy/check/index.js';
import { memoryFileReader } from '../../../src/policy/resolve/index.js';
import { apparmorParser } from '../../support/corpora.js';

const oracle = apparmorParser();

const piece = fc.constantFrom('a', 'b', 'ab', '*', '**', '?', '{a,b}', '[^a]', '/', 'c/');
const pattern = fc.array(piece, { minLength: 1, maxLength: 4 }).map((parts) => `/x/${parts.join('')}`);
const mode = fc.constantFrom('ix', 'Px', 'px', 'Ux', 'pix', 'Cx -> c', 'Cx -> d', 'cux');
const owner = fc.constantFrom('', '', '', 'owner ');
const rule = fc.tuple(owner, pattern, mode).map(([o, p, m]) => `  ${o}${p} ${m},`);
const policy = fc.array(rule, { minLength: 2, maxLength: 3 }).map((rules) => `profile t {\n${rules.join('\n')}\n  profile c { }\n  profile d { }\n}\n`);

function oracleVerdict(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(oracle.path!, ['-QK', file], { stdio: 'ignore' });
    child.on('close', (status) => resolve(status === 0));
    child.on('error', () => resolve(false));
  });
}

test('exec-mode conflicts: hatter agrees with apparmor_parser on generated rule sets', { skip: oracle.skip }, async () => {
  const cases = fc.sample(policy, { numRuns: 60, seed: 20261122 });
  const dir = mkdtempSync(join(tmpdir(), 'hatter-xconflict-'));
  try {
    const verdicts: boolean[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const file = join(dir, `case${i}`);
        writeFileSync(file, cases[i]!);
        verdicts[i] = await oracleVerdict(file);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const disagreements: string[] = [];
    let conflicts = 0;
    cases.forEach((text, i) => {
      const result = checkPolicy('/p', { reader: memoryFileReader({ '/p': text }), workingDirectory: '/' });
      if (!verdicts[i]) conflicts++;
      if (result.ok !== verdicts[i]) {
        disagreements.push(`${verdicts[i] ? 'apparmor_parser accepts' : 'apparmor_parser rejects'}, hatter ${result.ok ? 'accepts' : 'rejects'}:\n${text}${result.diagnostics.map((d) => `  ${d.message}`).join('\n')}`);
      }
    });
    assert.ok(conflicts > 5 && conflicts < cases.length - 5, `the generator should produce both outcomes (${conflicts} conflicts)`);
    assert.deepEqual(disagreements, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
