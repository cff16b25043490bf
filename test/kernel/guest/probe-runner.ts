// Runs INSIDE the kernel VM under profile `kp` (aa-exec). For each hat: change into it with hatter's
// command bytes, perform that hat's probes with synchronous calls on the main thread (the thread the
// hat confines), remember each outcome, return to the parent, and only then write the results (a write
// inside the hat would itself be mediated).
// Usage: node probe-runner.js PROBES.json RESULTS.json PEERS.json
import { chownSync, closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, constants as fsConstants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { constants, getPriority, setPriority } from 'node:os';
import { changeHatCommand } from '../../../src/confine/change-hat.js';
import type { Probe } from '../probes.js';

const [probesFile, resultsFile, peersFile] = process.argv.slice(2) as [string, string, string];
const { probes, hats } = JSON.parse(readFileSync(probesFile, 'utf8')) as { probes: Probe[]; hats: string[] };
/** pid of a process sitting in each hat (started by the guest script), for signal probes. */
const peers = JSON.parse(readFileSync(peersFile, 'utf8')) as Record<string, number>;
const token = 0x5eed5eed12345678n;
const attr = '/proc/thread-self/attr/current';

function errnoName(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { status?: number };
  const number = typeof e.errno === 'number' ? Math.abs(e.errno) : undefined;
  return Object.entries(constants.errno).find(([, v]) => v === number)?.[0] ?? e.code ?? 'UNKNOWN';
}

function perform(probe: Probe): void {
  switch (probe.op) {
    case 'read': closeSync(openSync(probe.path, fsConstants.O_RDONLY)); return;
    case 'write': closeSync(openSync(probe.path, fsConstants.O_WRONLY)); return;
    case 'append': closeSync(openSync(probe.path, fsConstants.O_WRONLY | fsConstants.O_APPEND)); return;
    case 'create': closeSync(openSync(probe.path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644)); return;
    case 'stat': statSync(probe.path); return;
    case 'unlink': unlinkSync(probe.path); return;
    case 'mkdir': mkdirSync(probe.path); return;
    case 'rename': renameSync(probe.path, probe.path2!); return;
    case 'link': linkSync(probe.path, probe.path2!); return;
    case 'exec': execFileSync(probe.path, [], { stdio: 'ignore' }); return;
    case 'chown': chownSync(probe.path, 1000, 1000); return;
    case 'read-protected': closeSync(openSync(probe.path, fsConstants.O_RDONLY)); return;
    case 'nice': setPriority(getPriority() - 1); return;
    case 'signal': process.kill(peers[probe.peerHat!]!, `SIG${probe.signal!.toUpperCase()}` as NodeJS.Signals); return;
  }
}

const results: { id: number; ok: boolean; errno?: string; label?: string }[] = [];
for (const hat of hats) {
  const enter = changeHatCommand(token, hat);
  const leave = changeHatCommand(token, null);
  if (!Buffer.isBuffer(enter) || !Buffer.isBuffer(leave)) throw new Error('hatter refused the change_hat command');
  writeFileSync(attr, enter);
  const label = readFileSync(attr, 'utf8').replace(/\0/g, '').trim();
  const batch: typeof results = [];
  for (const probe of probes) {
    if (probe.hat !== hat) continue;
    try { perform(probe); batch.push({ id: probe.id, ok: true, label }); } catch (error) {
      const status = (error as { status?: number | null }).status;
      // execFileSync: a spawn failure has an errno; a program that ran and failed has a status.
      batch.push({ id: probe.id, ok: false, errno: typeof status === 'number' ? `EXIT${status}` : errnoName(error), label });
    }
  }
  writeFileSync(attr, leave);
  results.push(...batch);
}
writeFileSync(resultsFile, JSON.stringify(results));
