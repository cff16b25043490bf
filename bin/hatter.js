#!/usr/bin/env node
// The CLI lives in the compiled tree; `npm install` builds it through the `prepare` script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('hatter: the compiled CLI is missing; run `npm install` (or `npm run build`) in the hatter checkout\n');
  process.exit(2);
}
const { runMain } = await import(main.href);
process.exitCode = await runMain(process.argv.slice(2));
