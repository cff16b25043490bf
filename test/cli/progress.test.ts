// The progress line's drawing rules, with a clock the test controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/io.js';
import { Progress, readingProgress } from '../../src/cli/progress.js';

function terminal(isTTY: boolean): { io: CliIo; written: string[] } {
  const written: string[] = [];
  const io: CliIo = {
    stdout: { write: () => true },
    stderr: { write: (chunk) => { written.push(String(chunk)); return true; } },
    stdin: Readable.from([]), cwd: '/', env: {}, stdoutIsTTY: false, stderrIsTTY: isTTY,
  };
  return { io, written };
}

test('redraws at most every 250 ms, erases once, and keeps warnings off the progress line', () => {
  const { io, written } = terminal(true);
  let now = 1000;
  let formatted = 0;
  const progress = new Progress(io, true, () => now);
  const text = (s: string) => () => { formatted++; return s; };
  progress.show(text('a'));
  now += 100;
  progress.show(text('b')); // too soon: not drawn, not even formatted
  now += 200;
  progress.show(text('c'));
  assert.deepEqual(written, ['\r\x1b[Ka', '\r\x1b[Kc']);
  assert.equal(formatted, 2);
  progress.warn('warning\n');
  assert.deepEqual(written.slice(2), ['\r\x1b[K', 'warning\n']);
  progress.clear(); // nothing drawn since the warning: nothing to erase
  assert.equal(written.length, 4);
  now += 300;
  progress.show(text('d'));
  progress.clear();
  assert.deepEqual(written.slice(4), ['\r\x1b[Kd', '\r\x1b[K']);
});

test('silent when stderr is not a terminal or progress is not wanted', () => {
  for (const [tty, wanted] of [[false, true], [true, false]] as const) {
    const { io, written } = terminal(tty);
    const progress = new Progress(io, wanted, () => 0);
    progress.show(() => 'x');
    progress.warn('w\n');
    progress.clear();
    assert.deepEqual(written, ['w\n']);
  }
});

test('the reading line: percent of a known size (never over 100), else megabytes', () => {
  assert.equal(readingProgress('audit.log', 50 * 2 ** 20, 200 * 2 ** 20, 1234567), 'reading audit.log: 25% of 200 MiB, 1,234,567 lines');
  assert.equal(readingProgress('audit.log', 300, 200, 1), 'reading audit.log: 100% of 1 MiB, 1 line');
  assert.equal(readingProgress('stdin', 3 * 2 ** 20, 0, 10), 'reading stdin: 3 MiB, 10 lines');
});
