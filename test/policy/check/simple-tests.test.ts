// apparmor_parser's own accept/reject corpus (parser/tst/simple_tests), run the way upstream's
// simple.pl runs it: `#=` headers stripped, the rest fed as stdin from parser-tests/, magic includes
// searched in simple_tests/, feature set features.all. hatter's verdict must match #=EXRESULT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { checkPolicy, createParseCache, parseFeatureSet, FeatureSet } from '../../../src/policy/check/index.js';
import { hasErrors, formatDiagnostic } from '../../../src/policy/diagnostic/index.js';
import { nodeFileReader } from '../../../src/policy-node/index.js';
import type { FileReader } from '../../../src/policy/resolve/index.js';
import { corpus } from '../../support/corpora.js';

/**
 * Cases where hatter deliberately or knowingly disagrees with #=EXRESULT, each with its reason
 * (mirrored in docs/conformance.md). The test asserts they still disagree, so fixes show up.
 */
export const KNOWN_DISAGREEMENTS: Readonly<Record<string, string>> = {
};

/** Directories that must agree on every case. */
const STRICT_DIRECTORIES = ['change_hat', 'file', 'xtrans', 'include_tests', 'bare_include_tests'];

interface Case {
  readonly name: string;
  readonly directory: string;
  readonly expectPass: boolean;
  readonly todo: boolean;
  readonly body: string;
}

function listCases(root: string): Case[] {
  const cases: Case[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) { walk(path); continue; }
      if (!entry.name.endsWith('.sd')) continue;
      const text = readFileSync(path, 'latin1');
      const lines = text.split('\n');
      let expect: string | undefined;
      let todo = false;
      let disabled = false;
      const body: string[] = [];
      for (const line of lines) {
        const header = /^#=(\w+)\s*(.*?)\r?$/.exec(line);
        if (header) {
          const key = header[1]!.toUpperCase();
          if (key === 'EXRESULT') expect = header[2]!.trim();
          else if (key === 'TODO') todo = true;
          else if (key === 'DISABLED') disabled = true;
          continue;
        }
        body.push(line);
      }
      if (disabled) continue;
      if (expect !== 'PASS' && expect !== 'FAIL') throw new Error(`corpus error: ${path} has EXRESULT '${expect}'`);
      const name = relative(root, path).replace(/\.sd$/, '');
      cases.push({ name, directory: name.split('/')[0]!, expectPass: expect === 'PASS', todo, body: body.join('\n') });
    }
  };
  walk(root);
  return cases.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * Reads each file once (the corpus shares include trees between many cases), and shows the corpus
 * at its upstream name: upstream runs from parser/tst, and cases include "../tst/simple_tests/…".
 */
function cachingReader(inner: FileReader, root: string): FileReader {
  const upstreamName = join(dirname(root), 'tst');
  const map = (p: string) => (p === upstreamName || p.startsWith(`${upstreamName}/`) ? root + p.slice(upstreamName.length) : p);
  const kinds = new Map<string, ReturnType<FileReader['kind']>>();
  const files = new Map<string, Uint8Array | undefined>();
  const dirs = new Map<string, string[] | undefined>();
  return {
    kind: (p) => { if (!kinds.has(p)) kinds.set(p, inner.kind(map(p))); return kinds.get(p); },
    readFile: (p) => { if (!files.has(p)) files.set(p, inner.readFile(map(p))); return files.get(p); },
    listDirectory: (p) => { if (!dirs.has(p)) dirs.set(p, inner.listDirectory(map(p))); return dirs.get(p); },
  };
}

const parserTests = corpus('parser-tests');

test('simple_tests: hatter accepts exactly what #=EXRESULT says', { skip: parserTests.skip }, () => {
  const root = parserTests.dir!;
  const simple = join(root, 'simple_tests');
  const features = parseFeatureSet(readFileSync(join(root, 'features_files', 'features.all'), 'utf8'), 'features.all');
  assert.ok(features instanceof FeatureSet);
  const reader = cachingReader(nodeFileReader(), root);
  const cache = createParseCache();
  const cases = listCases(simple);
  const perDirectory = new Map<string, { agree: number; total: number }>();
  const disagreements: { name: string; expectPass: boolean; why: string }[] = [];
  const todoMatches: string[] = [];
  let todoTotal = 0;
  for (const c of cases) {
    const result = checkPolicy(`simple_tests/${c.name}.sd`, {
      bytes: Buffer.from(c.body, 'latin1'), reader, workingDirectory: root, includePaths: [simple], features, cache,
    });
    const accepted = !hasErrors(result.diagnostics);
    const agrees = accepted === c.expectPass;
    if (c.todo) {
      todoTotal++;
      if (agrees) todoMatches.push(c.name);
      continue;
    }
    const stats = perDirectory.get(c.directory) ?? { agree: 0, total: 0 };
    stats.total++;
    if (agrees) stats.agree++;
    perDirectory.set(c.directory, stats);
    if (!agrees) {
      const first = result.diagnostics.find((d) => d.severity === 'error');
      disagreements.push({ name: c.name, expectPass: c.expectPass, why: first ? formatDiagnostic(first).split('\n')[0]! : 'accepted' });
    }
  }
  let agree = 0;
  let total = 0;
  const lines: string[] = [];
  for (const [dir, stats] of [...perDirectory].sort()) {
    agree += stats.agree;
    total += stats.total;
    lines.push(`${dir.padEnd(20)} ${String(stats.agree).padStart(4)}/${String(stats.total).padEnd(4)} ${(100 * stats.agree / stats.total).toFixed(1)}%`);
  }
  lines.push(`${'overall'.padEnd(20)} ${String(agree).padStart(4)}/${String(total).padEnd(4)} ${(100 * agree / total).toFixed(2)}%`);
  lines.push(`TODO cases: ${todoTotal}, hatter already gives the desired result on ${todoMatches.length}${todoMatches.length ? ` (${todoMatches.join(', ')})` : ''}`);
  const unexpected = disagreements.filter((d) => !(d.name in KNOWN_DISAGREEMENTS));
  for (const d of unexpected) lines.push(`DISAGREE ${d.name} (expected ${d.expectPass ? 'PASS' : 'FAIL'}): ${d.why}`);
  console.log(lines.join('\n'));

  const fixed = Object.keys(KNOWN_DISAGREEMENTS).filter((name) => !disagreements.some((d) => d.name === name));
  assert.deepEqual(fixed, [], 'cases listed as known disagreements now agree: remove them from the list and docs/conformance.md');
  assert.ok(agree / total >= 0.99, `overall agreement ${(100 * agree / total).toFixed(2)}% is below 99%`);
  for (const dir of STRICT_DIRECTORIES) {
    const stats = perDirectory.get(dir);
    assert.ok(stats, `no cases in ${dir}`);
    assert.equal(stats.agree, stats.total, `${dir} must agree on every case`);
  }
  assert.deepEqual(unexpected.map((d) => d.name), [], 'disagreements that are not in KNOWN_DISAGREEMENTS');
});
