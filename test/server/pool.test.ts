// Pool behaviour with real child processes standing in for workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DEFAULT_POOL } from '../../src/server/config.js';
import { Pool } from '../../src/server/pool.js';

test('a worker that cannot start is retried with a growing delay, never in a tight loop', async () => {
  const spawns: number[] = [];
  const events: string[] = [];
  const pool = new Pool('p//broken', 'broken', { ...DEFAULT_POOL, min: 1, max: 1 }, {}, 1, {
    spawnWorker: () => {
      spawns.push(Date.now());
      return spawn(process.execPath, ['-e', 'process.exit(70)'], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    },
    initMessage: () => ({ type: 'drain', handBack: false }),
    onHandBack: () => {},
    onReject: () => {},
    onLog: () => {},
    onEvent: (text) => { events.push(text); },
  });
  void pool.start(0);
  await new Promise((r) => setTimeout(r, 2500));
  await pool.drain(false, 100);
  // Immediate, then 100, 200, 400, 800 ms ...: at most 6 starts in 2.5 s (a tight loop makes hundreds).
  assert.ok(spawns.length >= 3 && spawns.length <= 6, `${spawns.length} starts`);
  const delays = events.map((e) => /restarting a worker in (\d+) ms/.exec(e)?.[1]).filter((d) => d !== undefined).map(Number);
  assert.deepEqual(delays.slice(0, 3), [100, 200, 400]);
  assert.ok(events.some((e) => /failed to start \(exit 70\)/.test(e)));
  assert.ok(events.some((e) => /restarting a worker in \d+ ms/.test(e)));
});
