/**
 * Timing helpers for benchmarks. Each measurement takes the best of several repetitions after
 * a warm-up: on a shared, noisy machine the minimum is the most repeatable estimate of what
 * the code can do.
 */
export interface Timing {
  /** Best wall time of one call, seconds. */
  best: number;
  /** Median wall time of one call, seconds. */
  median: number;
  repetitions: number;
}

export function timeIt(fn: () => void, options: { minSeconds?: number; minRepetitions?: number; warmup?: number } = {}): Timing {
  const { minSeconds = 1, minRepetitions = 3, warmup = 1 } = options;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRepetitions || (performance.now() - start) / 1000 < minSeconds) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)], repetitions: times.length };
}

export function gflops(flops: number, seconds: number): number {
  return flops / seconds / 1e9;
}
