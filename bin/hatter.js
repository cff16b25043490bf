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
// `hatter logs … | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
process.exitCode = await runMain(process.argv.slice(2));
