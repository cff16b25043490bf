import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, runCliProcess } from '../support/cli.js';
import { commands } from '../../src/cli/commands.js';

test('hatter --help lists every command with examples and exits 0', async () => {
  const result = await runCli(['--help']);
  assert.equal(result.code, 0);
  for (const entry of commands) assert.match(result.stdout, new RegExp(`^  ${entry.name}\\s`, 'm'));
  assert.match(result.stdout, /Examples:/);
});

test('no command prints help and exits 2', async () => {
  const result = await runCli([]);
  assert.equal(result.code, 2);
  assert.match(result.stdout, /Usage: hatter COMMAND/);
});

test('an unknown command is a usage error, not a crash', async () => {
  const result = await runCli(['frobnicate']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
});

test('every command has its own --help with a usage line', async () => {
  for (const entry of commands) {
    const result = await runCli([entry.name, '--help']);
    assert.equal(result.code, 0, entry.name);
    assert.ok(result.stdout.length > 0, entry.name);
  }
});

test('the compiled CLI runs as a process and reports its version', () => {
  const result = runCliProcess(['--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^hatter \d+\.\d+\.\d+/);
});
