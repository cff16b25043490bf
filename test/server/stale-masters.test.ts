// PHP-FPM masters left by a killed hatter serve (src/server/fastcgi/stale-masters.ts): the sweep stops
// them and removes their run root, and touches nothing else.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPhpFpmRoot, DEFAULT_PHP_FPM_BINARY, startPhpFpm, sweepStalePhpFpm } from '../../src/server/fastcgi/index.js';

const parent = mkdtempSync(join(tmpdir(), 'hatter-stale-test-'));
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone, with its group */ }
  }
  rmSync(parent, { recursive: true, force: true });
});

/** A pid that was a process a moment ago and is none now. */
function deadPid(): number {
  const gone = spawnSync('true');
  assert.ok(gone.pid > 0);
  return gone.pid;
}

/** A process whose command line reads as `title` (as PHP-FPM's master retitles itself), with one child. */
function titled(title: string): ChildProcess {
  // Its own process group, so that the test's end can kill the sleep with it.
  const child = spawn('bash', ['-c', `exec -a "${title}" bash -c 'sleep 60 & wait'`], { stdio: 'ignore', detached: true });
  started.push(child);
  return child;
}

function running(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    // A zombie (killed, not yet reaped by this test) counts as gone.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid && running(p);
    } catch {
      return false;
    }
  });
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return check();
}

test('the sweep stops the masters of a root whose supervisor is gone, and their children, and removes the root; it leaves live roots, foreign directories and other processes alone', async () => {
  const live = createPhpFpmRoot(parent); // this process's: running
  const stale = createPhpFpmRoot(parent);
  writeFileSync(join(stale, 'supervisor'), `${deadPid()} 12345\n`);
  const foreign = join(parent, 'hatter-php-fpm-foreign');
  mkdirSync(foreign); // no owner file: not ours to judge
  const reused = createPhpFpmRoot(parent);
  writeFileSync(join(reused, 'supervisor'), `${process.pid} 1\n`); // the pid lives, but is another process now

  const staleMaster = titled(`php-fpm: master process (${stale}/site/php-fpm.conf)`);
  const liveMaster = titled(`php-fpm: master process (${live}/site/php-fpm.conf)`);
  const elsewhere = titled(`php-fpm: master process (${foreign}/php-fpm.conf)`);
  const lookalike = titled(`php-fpm: pool site (${stale}/site/php-fpm.conf)`);
  const reusedMaster = titled(`php-fpm: master process (${reused}/a/php-fpm.conf)`);
  assert.ok(await until(() => childrenOf(staleMaster.pid!).length === 1 && childrenOf(reusedMaster.pid!).length === 1));
  const staleChild = childrenOf(staleMaster.pid!)[0]!;

  const swept = sweepStalePhpFpm(parent);
  assert.deepEqual(swept.map((s) => s.root).sort(), [reused, stale].sort());
  assert.deepEqual(swept.find((s) => s.root === stale)?.masters, [staleMaster.pid]);
  assert.ok(await until(() => !running(staleMaster.pid) && !running(staleChild) && !running(reusedMaster.pid)), 'the stale masters and their children are killed');
  assert.equal(existsSync(stale), false);
  assert.equal(existsSync(reused), false);
  for (const kept of [liveMaster, elsewhere, lookalike]) assert.ok(running(kept.pid), `pid ${kept.pid} left alone`);
  assert.ok(existsSync(live) && existsSync(foreign));
  assert.deepEqual(sweepStalePhpFpm(parent), [], 'nothing left to sweep');
});

const noFpm = existsSync(DEFAULT_PHP_FPM_BINARY) ? false : `skipped: ${DEFAULT_PHP_FPM_BINARY} not installed (apt-get install php-fpm)`;

test('a real PHP-FPM master whose supervisor was killed is stopped with its children', { skip: noFpm, timeout: 30_000 }, async () => {
  const root = createPhpFpmRoot(parent);
  const master = await startPhpFpm({ siteName: 'site', runDir: join(root, 'site'), workers: 2 });
  try {
    assert.ok(await until(() => childrenOf(master.pid).length === 2));
    const children = childrenOf(master.pid);
    assert.deepEqual(sweepStalePhpFpm(parent), [], 'its supervisor (this process) is running');
    writeFileSync(join(root, 'supervisor'), `${deadPid()} 12345\n`);
    const swept = sweepStalePhpFpm(parent);
    assert.deepEqual(swept.map((s) => s.masters), [[master.pid]]);
    assert.ok(await until(() => !running(master.pid) && children.every((pid) => !running(pid))));
    assert.equal(existsSync(root), false);
  } finally {
    await master.stop();
  }
});
