// Shared helpers for the confinement tests: is the launcher built and Landlock there (else a one-line
// skip reason), and run a snippet of Node code confined, collecting what it reports.
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findLauncher, probeLandlock, nodeRuntimeNeeds } from '../../src/confine/launcher.js';
import { repoRoot } from './repo.js';

export const launcherPath: string | undefined = findLauncher(process.env, repoRoot);

/** Why Landlock tests cannot run here, or undefined when they can. */
export function landlockSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'Landlock is Linux-only';
  if (!launcherPath) return 'native/build/hatter-launch is not built (node scripts/build-native.mjs)';
  const probe = probeLandlock(launcherPath);
  if ('error' in probe) return `launcher probe failed: ${probe.error}`;
  if (probe.abi < 1) return 'the kernel has no Landlock';
  return undefined;
}

export function landlockAbi(): number {
  if (!launcherPath) return 0;
  const probe = probeLandlock(launcherPath);
  return 'abi' in probe ? probe.abi : 0;
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `hatter-${prefix}-`));
}

/** Write a CommonJS script (CJS so the worker starts no ESM loader threads before our checks). */
export function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program directly under the launcher with these launcher arguments. */
export function runLauncher(args: readonly string[], command: readonly string[], options: SpawnOptions = {}, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcherPath!, [...args, '--', ...command], { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => { stdout += chunk; });
    child.stderr?.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Launcher arguments that let a Node script run (its runtime needs) plus read access to `dir`. */
export function nodeLauncherArgs(dir: string): string[] {
  const needs = nodeRuntimeNeeds();
  return [
    ...needs.read.flatMap((path) => ['-r', path]),
    ...needs.exec.flatMap((path) => ['-x', path]),
    '-r', dir,
  ];
}
