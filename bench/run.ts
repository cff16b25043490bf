// `npm run bench [NAME...]`: run every benchmark, or the named ones. Each lives in bench/NAME.ts and
// exports `run(repoRoot): Promise<void>`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');
const all = ['parse', 'check', 'aare', 'eval', 'logs', 'serve', 'confine', 'record', 'learn', 'lint', 'isolate', 'wordpress'];
const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : all) {
  const module = join(here, `${name}.js`);
  if (!existsSync(module)) {
    if (wanted.length) {
      process.stderr.write(`bench: no benchmark named '${name}' (have: ${all.join(', ')})\n`);
      process.exitCode = 2;
    }
    continue;
  }
  process.stdout.write(`\n=== bench ${name} ===\n`);
  const { run } = (await import(module)) as { run: (root: string) => Promise<void> };
  await run(repoRoot);
}
