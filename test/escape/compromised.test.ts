// The compromised-site escape suite under the Landlock backend (issue #17 item 10): bob's site runs
// arbitrary code (a web shell) and an uploaded binary; every attack of ./compromised.ts must be
// blocked. Each attack is its own test, named with the issue item it covers. Runs as root (the threat
// of the issue: the demo and the documented unit run as root); skipped otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo.js';
import { landlockSkipReason, scratchDir } from '../support/confine.js';
import { ATTACKS, cleanTree, prepareTree, runCompromisedSuite, type AttackResult, type PreparedTree } from './compromised.js';

const skip = landlockSkipReason() ?? (process.getuid?.() !== 0 ? 'the compromised-site suite runs as root (the server of the threat model runs as root)' : undefined);

describe('compromised site under the Landlock backend: code running in bob\'s worker', { skip: skip ?? false }, () => {
  let tree: PreparedTree | undefined;
  let results = new Map<string, AttackResult>();
  let setupError: Error | undefined;

  before(async () => {
    try {
      tree = prepareTree(scratchDir('compromised'));
      results = await runCompromisedSuite(tree, 'landlock', { log: (line) => process.stdout.write(`# ${line}\n`) });
    } catch (error) {
      setupError = error as Error;
    }
  }, { timeout: 600_000 });
  after(() => {
    if (tree) { cleanTree(tree); rmSync(tree.work, { recursive: true, force: true }); }
  });

  for (const attack of ATTACKS) {
    test(`[${attack.item}] ${attack.title}`, (t) => {
      if (setupError) throw setupError;
      const result = results.get(attack.id);
      assert.ok(result, `attack ${attack.id} did not run`);
      t.diagnostic(`${attack.id}: ${result.detail}`);
      assert.ok(result.blocked, `${attack.control ? 'control' : 'attack'} ${attack.id}: ${result.detail}`);
    });
  }
});

// The web shell must never be reachable from what is shipped: nothing in src/, bin/, native/ or
// examples/ (the package's contents besides docs) names it, and the package does not ship test/.
test('the test-only web shell is referenced by nothing the package ships', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(!pkg.files.some((f) => f === 'test' || f.startsWith('test/') || f === 'dist' || f.startsWith('dist/test')), `package.json files: ${pkg.files.join(', ')}`);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'build') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\b(eval\.mjs|shell\.cgi|attack-tool)\b|\/eval\b.*handler/.test(readFileSync(path, 'latin1'))) offenders.push(path);
    }
  };
  for (const dir of ['src', 'bin', 'native', 'examples']) walk(join(repoRoot, dir));
  assert.deepEqual(offenders, []);
});
