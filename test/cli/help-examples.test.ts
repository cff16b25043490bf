// The examples in `hatter COMMAND --help` that use the repository's own example files must run as
// printed (from the repository root): a user copies them first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { repoRoot } from '../support/repo.js';

const COMMANDS = ['parse', 'fmt', 'check', 'aare', 'which-hat', 'confine'];

/** The example command lines of a help text, continuation lines ('\' at the end) joined. */
function helpExamples(help: string): { text: string; lines: string[] }[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => /^Examples?:/.test(l));
  if (start < 0) return [];
  const examples: { text: string; lines: string[] }[] = [];
  let current: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || !line.startsWith(' ')) break;
    current.push(line);
    if (line.trimEnd().endsWith('\\')) continue;
    examples.push({ text: current.map((l) => l.trim().replace(/\\$/, '')).join(' '), lines: current });
    current = [];
  }
  return examples;
}

/** Shell words up to the first pipe, redirection or comment (single quotes only, as the examples use). */
function words(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/'([^']*)'|(\S+)/g)) {
    const word = m[1] ?? m[2]!;
    if (m[2] !== undefined && /^(\||<|>|#)/.test(word)) break;
    out.push(word);
  }
  return out;
}

for (const name of COMMANDS) {
  test(`hatter ${name} --help: examples on the repository's files run as printed`, async () => {
    const help = (await runCli([name, '--help'])).stdout;
    const examples = helpExamples(help);
    assert.ok(examples.length > 0, `no examples in hatter ${name} --help`);
    for (const { text, lines } of examples) {
      // A '\' that the help's template literal swallowed joins two lines with a run of blanks.
      for (const line of lines) assert.doesNotMatch(line.trim(), /\S {3,}[^#\s]/, `a lost line continuation in: ${line}`);
      if (!/(^|\s)examples\//.test(text)) continue;
      const argv = words(text);
      const at = argv.indexOf('hatter');
      assert.ok(at >= 0, text);
      for (const arg of argv) {
        if (arg.startsWith('examples/')) assert.ok(existsSync(join(repoRoot, arg)), `${arg} does not exist (in: ${text})`);
      }
      const r = await runCli(argv.slice(at + 1));
      assert.notEqual(r.code, 2, `exit 2 for: ${text}\n${r.stderr}`);
    }
  });
}
