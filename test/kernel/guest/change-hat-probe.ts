// Runs INSIDE the kernel VM, confined by a test profile (started with aa-exec). Performs a list of
// change_hat steps with hatter's own command bytes, one write() each on the calling thread, and prints
// one JSON line per step: whether the write succeeded, its errno, and the label afterwards.
// Usage: node change-hat-probe.js '<json: {"token": "hex", "steps": [{"hats": [...] | null, "token"?: "hex"}]}>'
import { readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { changeHatVectorCommand } from '../../../src/confine/change-hat.js';

interface Step { readonly hats: readonly string[] | null; readonly token?: string }
const plan = JSON.parse(process.argv[2] ?? '{}') as { token: string; steps: Step[] };
const attr = '/proc/thread-self/attr/current';
const label = () => readFileSync(attr, 'utf8').replace(/\0/g, '').trim();

// libuv names only the errnos it knows (ECHILD comes back as 'UNKNOWN'), so name them from the number.
function errnoName(error: NodeJS.ErrnoException): string {
  const number = typeof error.errno === 'number' ? Math.abs(error.errno) : undefined;
  const named = Object.entries(constants.errno).find(([, value]) => value === number)?.[0];
  return named ?? error.code ?? 'UNKNOWN';
}

process.stdout.write(`${JSON.stringify({ step: -1, label: label() })}\n`);
plan.steps.forEach((step, index) => {
  const command = changeHatVectorCommand(BigInt(`0x${step.token ?? plan.token}`), step.hats);
  if (!Buffer.isBuffer(command)) {
    process.stdout.write(`${JSON.stringify({ step: index, ok: false, errno: command.errno, refusedByHatter: true, label: label() })}\n`);
    return;
  }
  let errno: string | null = null;
  try { writeFileSync(attr, command); } catch (error) { errno = errnoName(error as NodeJS.ErrnoException); }
  process.stdout.write(`${JSON.stringify({ step: index, ok: errno === null, errno, label: label() })}\n`);
});
