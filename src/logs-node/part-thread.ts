// One thread of the parallel summary (parallel.ts): read one byte range of a file (it starts and ends
// at line boundaries), keep the events the filter accepts, and post back the summarizer's state, the
// read counters and the first malformed lines.
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { EventReader, isMalformed, newReadStats, Summarizer, SummarySink, type SkippedLine } from '../logs/index.js';
import type { PartMessage, PartResult, PartTask } from './part-protocol.js';

async function run(task: PartTask): Promise<PartResult> {
  const stats = newReadStats();
  const samples: SkippedLine[] = [];
  let malformed = 0;
  const summarizer = new Summarizer({ floodPerSecond: task.floodPerSecond });
  const sink = new SummarySink(summarizer, task.filter);
  const reader = new EventReader({
    file: task.file,
    stats,
    sink,
    onSkip: (skipped) => {
      if (!isMalformed(skipped)) return;
      if (malformed++ < task.maxSamples) samples.push(skipped);
    },
  });
  if (task.end > task.start) {
    let lines = 0;
    for await (const chunk of createReadStream(task.path, { start: task.start, end: task.end - 1, highWaterMark: 1 << 20 })) {
      reader.push(chunk as Buffer);
      if (task.progress) {
        const message: PartMessage = { progress: { bytes: (chunk as Buffer).length, lines: stats.lines - lines } };
        post(message);
        lines = stats.lines;
      }
    }
  }
  reader.end();
  return { state: summarizer.state(), stats, samples, malformed, denied: sink.denied };
}

const post = (message: PartMessage): void => parentPort!.postMessage(message);
run(workerData as PartTask).then(
  (result) => post({ ok: true, result }),
  (error: unknown) => post({ ok: false, message: (error as NodeJS.ErrnoException).code ?? String(error) }),
);
