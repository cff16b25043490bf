// Builds the confinement launcher native/hatter-launch.c into native/build/hatter-launch with the
// system C compiler (static when the toolchain can, else dynamic). Never downloads anything.
// Exit 0 when the launcher was built, 1 otherwise (prepare.mjs tolerates that: Landlock is then unavailable).
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'hatter-launch.c');
const outDir = join(root, 'native', 'build');
const output = join(outDir, 'hatter-launch');
const temp = `${output}.tmp-${process.pid}`;

if (process.platform !== 'linux') {
  process.stderr.write('build-native: the launcher is Linux-only; skipped\n');
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
const compiler = process.env.CC || 'cc';
for (const extra of [['-static'], []]) {
  const args = ['-O2', '-Wall', '-Wextra', ...extra, '-o', temp, source];
  const result = spawnSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (result.status === 0) {
    renameSync(temp, output); // atomic: a running server never sees a half-written launcher
    process.stdout.write(`build-native: built ${output} (${extra.length ? 'static' : 'dynamic'})\n`);
    process.exit(0);
  }
  rmSync(temp, { force: true });
  if (result.error) {
    process.stderr.write(`build-native: ${compiler} not available (${result.error.message})\n`);
    process.exit(1);
  }
  if (!extra.length) process.stderr.write(`build-native: ${compiler} failed:\n${result.stderr}`);
}
process.exit(1);
