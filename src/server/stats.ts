// Latency histograms that merge by adding: buckets 10% wide on a log scale from 10 µs to about 20 min.
export const HISTOGRAM_BUCKETS = 200;
const BASE = Math.log(1.1);
const MIN_US = 10;

export function newHistogram(): number[] {
  return new Array<number>(HISTOGRAM_BUCKETS).fill(0);
}

export function bucketOf(microseconds: number): number {
  if (microseconds <= MIN_US) return 0;
  return Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log(microseconds / MIN_US) / BASE) + 1);
}

export function record(histogram: number[], microseconds: number): void {
  histogram[bucketOf(microseconds)]!++;
}

export function mergeInto(target: number[], source: readonly number[]): void {
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) target[i]! += source[i] ?? 0;
}

/** Upper edge of the bucket holding quantile q (0..1), in milliseconds; null without samples. */
export function quantileMs(histogram: readonly number[], q: number): number | null {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= rank) return Math.round(MIN_US * Math.pow(1.1, i) / 10) / 100;
  }
  return null;
}
