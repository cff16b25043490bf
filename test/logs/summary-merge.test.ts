// Summaries of consecutive parts of a log, merged, must equal the summary of the whole read in one go:
// the parallel reader depends on it. Generated logs stress what crosses a boundary: per-second runs of
// one group (floods), change_hat loops, masks, owners, commands and untimed lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventReader, Summarizer } from '../../src/logs/index.js';
import { mergeSummarizerStates, type SummarizerState } from '../../src/logs/summary.js';

const line = (serial: number, second: number, hat: string, name: string, mask: string, comm: string, owner: boolean, timed: boolean): string => {
  const body = `apparmor="DENIED" operation="open" class="file" profile="apache2//${hat}" name="${name}" pid=7 comm="${comm}" requested_mask="${mask}" denied_mask="${mask}" fsuid=33 ouid=${owner ? 33 : 0}`;
  return timed ? `type=AVC msg=audit(${1763776800 + second}.${String(serial % 1000).padStart(3, '0')}:${serial}): ${body}` : `kernel: ${body}`;
};
const changeHat = (serial: number, second: number): string =>
  `type=AVC msg=audit(${1763776800 + second}.000:${serial}): apparmor="DENIED" operation="change_hat" profile="apache2" name="missing" pid=9 comm="apache2" error=-2 info="hat not found"`;

const entry = fc.record({
  kind: fc.constantFrom('open', 'open', 'open', 'hat'),
  step: fc.constantFrom(0, 0, 0, 1, 2),
  hat: fc.constantFrom('a.org', 'b.org'),
  name: fc.constantFrom('/srv/x', '/srv/y', '/etc/z'),
  mask: fc.constantFrom('r', 'w', 'rw', 'k'),
  comm: fc.constantFrom('apache2', 'php', 'sh', 'perl', 'awk', 'sed', 'cat'),
  owner: fc.boolean(),
  timed: fc.constantFrom(true, true, true, false),
});

function generate(entries: readonly fc.RecordValue<{ kind: string; step: number; hat: string; name: string; mask: string; comm: string; owner: boolean; timed: boolean }>[]): string[] {
  let second = 0;
  return entries.map((e, i) => {
    second += e.step;
    return e.kind === 'hat' ? changeHat(i + 1, second) : line(i + 1, second, e.hat, e.name, e.mask, e.comm, e.owner, e.timed);
  });
}

function stateOf(lines: readonly string[], options = { floodPerSecond: 3, changeHatLoop: 4 }): SummarizerState {
  const summarizer = new Summarizer(options);
  const reader = new EventReader({ file: 'audit.log' });
  for (const event of reader.push(lines.map((l) => `${l}\n`).join(''))) summarizer.add(event);
  for (const event of reader.end()) summarizer.add(event);
  return summarizer.state();
}

const resultOf = (state: SummarizerState) => Summarizer.fromState(state, { floodPerSecond: 3, changeHatLoop: 4 }).result();

test('two summaries of consecutive parts merge into the summary of the whole', () => {
  fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 60 }), fc.nat(), (entries, cut) => {
    const lines = generate(entries);
    const at = cut % (lines.length + 1);
    const whole = resultOf(stateOf(lines));
    const merged = resultOf(mergeSummarizerStates(stateOf(lines.slice(0, at)), stateOf(lines.slice(at)), at));
    assert.deepEqual(merged, whole);
  }), { numRuns: 400 });
});

test('merging is associative: three parts folded from the left give the whole too', () => {
  fc.assert(fc.property(fc.array(entry, { minLength: 2, maxLength: 60 }), fc.nat(), fc.nat(), (entries, x, y) => {
    const lines = generate(entries);
    const [i, j] = [x % (lines.length + 1), y % (lines.length + 1)].sort((a, b) => a - b) as [number, number];
    const whole = resultOf(stateOf(lines));
    const left = mergeSummarizerStates(stateOf(lines.slice(0, i)), stateOf(lines.slice(i, j)), i);
    const merged = resultOf(mergeSummarizerStates(left, stateOf(lines.slice(j)), j));
    assert.deepEqual(merged, whole);
  }), { numRuns: 300 });
});

test('a flood split across the boundary is still found, with its full peak', () => {
  const lines = Array.from({ length: 10 }, (_, i) => line(i + 1, 0, 'a.org', '/srv/x', 'r', 'php', true, true));
  const merged = resultOf(mergeSummarizerStates(stateOf(lines.slice(0, 5)), stateOf(lines.slice(5)), 5));
  assert.equal(merged.groups[0]!.peakPerSecond, 10);
  assert.equal(merged.floods.length, 1);
  assert.equal(merged.groups[0]!.lastLine, 10);
});

test('a file summarized by threads in parts gives the sequential summary, counters and first malformed lines', async () => {
  const { cutPoints, summarizeFileInParts } = await import('../../src/logs-node/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'hatter-parallel-'));
  try {
    const lines: string[] = [];
    for (let i = 1; i <= 400; i++) {
      lines.push(line(i, Math.floor(i / 7), i % 3 ? 'a.org' : 'b.org', `/srv/${i % 5}`, i % 2 ? 'r' : 'w', 'php', i % 4 === 0, i % 11 !== 0));
      if (i % 9 === 0) lines.push(`type=SYSCALL msg=audit(${1763776800 + Math.floor(i / 7)}.000:${i}): arch=c000003e syscall=257 success=no exit=-13 exe="/usr/bin/php"`);
      if (i % 50 === 0) lines.push('type=AVC msg=audit(1763776800.000:999999): apparmor="DENIED" operation="open" profile="x" name="/unterminated');
      if (i % 60 === 0) lines.push(changeHat(i, Math.floor(i / 7)));
    }
    const text = lines.map((l) => `${l}\n`).join('');
    const path = join(dir, 'audit.log');
    writeFileSync(path, text);
    const size = Buffer.byteLength(text);
    const sequential = new Summarizer({ floodPerSecond: 3 });
    const reader = new EventReader({ file: path });
    for (const event of [...reader.push(text), ...reader.end()]) sequential.add(event);
    const whole = sequential.result();
    // The cuts the file itself gives (never between an event's AVC and SYSCALL records), and a spread of
    // other line starts (none of which falls between such a pair here) for the merge itself.
    const starts = [...text.matchAll(/\n/g)].map((m) => m.index! + 1).filter((at) => at < size);
    for (const cuts of [[], cutPoints(path, size, 2), cutPoints(path, size, 3), ...starts.filter((_, i) => i % 37 === 0).map((at) => [at])]) {
      const parts = await summarizeFileInParts(path, size, { file: path, filter: {}, floodPerSecond: 3, parts: 2, maxSamples: 10, cuts });
      assert.deepEqual(Summarizer.fromState(parts.state, { floodPerSecond: 3 }).result(), whole, `cuts ${cuts.join(',')}`);
      assert.equal(parts.stats.lines, reader.stats.lines);
      assert.deepEqual(parts.stats.skipped, reader.stats.skipped);
      assert.equal(parts.malformed, 8);
      assert.deepEqual(parts.samples.map((s) => s.line), lineNumbers(lines));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** 1-based line numbers of the malformed (unterminated) lines. */
function lineNumbers(lines: readonly string[]): number[] {
  return lines.flatMap((l, i) => (l.includes('/unterminated') ? [i + 1] : []));
}
