// The layering rules of docs/architecture.md hold for src/: the pure core imports no node: module and
// nothing outside its layer, dependencies point one way, folders meet only through their index.ts,
// and there is no import cycle. The checker is first shown to catch each kind of violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../support/repo.js';
import { checkLayering, type Violation } from './layering.js';

function rulesOf(violations: readonly Violation[]): string[] {
  return violations.map((v) => `${v.rule} ${v.file}`).sort();
}

const CLEAN: Record<string, string> = {
  'src/index.ts': "export * from './policy/index.js';\n",
  'src/policy/index.ts': "export * from './check/index.js';\nexport * from './diagnostic.js';\n",
  'src/policy/diagnostic.ts': 'export interface Diagnostic { readonly message: string }\n',
  'src/policy/check/index.ts': "export { check } from './check.js';\n",
  'src/policy/check/check.ts': "import type { Diagnostic } from '../diagnostic.js';\nexport function check(): Diagnostic[] { return []; }\n",
  'src/web/index.ts': "import { check } from '../policy/index.js';\nexport const web = check;\n",
  'src/cli/main.ts': "import { readFileSync } from 'node:fs';\nimport { web } from '../web/index.js';\n// import { x } from '../server/secret.js'; (a comment, not an import)\nexport const main = [readFileSync, web];\n",
};

function tree(changes: Record<string, string>): Map<string, string> {
  return new Map(Object.entries({ ...CLEAN, ...changes }));
}

test('the checker accepts a tree that follows the rules', () => {
  assert.deepEqual(checkLayering(tree({})), []);
});

test('the checker catches node: imports and packages in the pure core', () => {
  const violations = checkLayering(tree({
    'src/policy/check/check.ts': "import { readFileSync } from 'node:fs';\nexport const check = readFileSync;\n",
    'src/logs/index.ts': "import fc from 'fast-check';\nexport default fc;\n",
  }));
  assert.deepEqual(rulesOf(violations), ['node-import src/policy/check/check.ts', 'outside-layer src/logs/index.ts']);
});

test('the checker catches dependencies that point the wrong way', () => {
  const violations = checkLayering(tree({
    'src/policy/check/check.ts': "import { web } from '../../web/index.js';\nexport const check = web;\n",
    'src/web/index.ts': "import { main } from '../cli/main.js';\nexport const web = main;\n",
  }));
  const rules = rulesOf(violations);
  assert.ok(rules.includes('outside-layer src/policy/check/check.ts'), rules.join('\n'));
  assert.ok(rules.includes('wrong-direction src/web/index.ts'), rules.join('\n'));
});

test('the checker catches policy parts that depend the wrong way (eval never parses text)', () => {
  const violations = checkLayering(tree({
    'src/policy/syntax/index.ts': 'export const parse = 1;\n',
    'src/policy/eval/index.ts': "import { parse } from '../syntax/index.js';\nexport const evaluate = parse;\n",
  }));
  assert.deepEqual(rulesOf(violations), ['wrong-direction src/policy/eval/index.ts']);
});

test('the checker catches imports into a folder that bypass its index.ts', () => {
  const violations = checkLayering(tree({ 'src/web/index.ts': "import { check } from '../policy/check/check.js';\nexport const web = check;\n" }));
  assert.deepEqual(rulesOf(violations), ['not-through-index src/web/index.ts']);
});

test('the checker catches import cycles, type-only and worker (new URL) edges included', () => {
  const violations = checkLayering(tree({
    'src/logs/a.ts': "import type { B } from './b.js';\nexport type A = B;\n",
    'src/logs/b.ts': "export type B = string;\nexport const worker = new URL('./a.js', import.meta.url);\n",
  }));
  assert.deepEqual(rulesOf(violations), ['cycle src/logs/a.ts']);
  assert.match(violations[0]!.message, /src\/logs\/a\.ts → src\/logs\/b\.ts → src\/logs\/a\.ts/);
});

test('the checker catches a folder that is not in the layer map', () => {
  assert.deepEqual(rulesOf(checkLayering(tree({ 'src/misc/index.ts': 'export const x = 1;\n' }))), ['unknown-layer src/misc/index.ts']);
});

test('src/ follows the layering rules of docs/architecture.md', () => {
  const root = repoRoot;
  const sources = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) sources.set(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(join(root, 'src'));
  assert.ok(sources.size > 100, 'the source tree was found');
  const violations = checkLayering(sources);
  assert.deepEqual(violations.map((v) => `${v.file}: ${v.message} [${v.rule}]`), []);
});
