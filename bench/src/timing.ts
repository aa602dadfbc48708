/**
 * Timing helpers for benchmarks. Each measurement takes the best of several repetitions after
 * a warm-up: on a shared, noisy machine the minimum is the most repeatable estimate of what
 * the code can do. A call slower than `slowSeconds` is run once only (after no warm-up), so
 * that the slowest peers (ml-matrix at n = 2048) do not take minutes.
 */
export interface Timing {
  /** Best wall time of one call, seconds. */
  best: number;
  /** Median wall time of one call, seconds. */
  median: number;
  repetitions: number;
}

export interface TimingOptions {
  /** Keep repeating until this much time has passed (default 1 s)... */
  minSeconds?: number;
  /** ...and at least this many repetitions (default 3). */
  minRepetitions?: number;
  /** Untimed calls first (default 1). */
  warmup?: number;
  /** A first call slower than this is the only one (default 4 s). */
  slowSeconds?: number;
}

export function timeIt(fn: () => void, options: TimingOptions = {}): Timing {
  const { minSeconds = 1, minRepetitions = 3, warmup = 1, slowSeconds = 4 } = options;
  const times: number[] = [];
  const once = () => {
    const t0 = performance.now();
    fn();
    return (performance.now() - t0) / 1000;
  };
  for (let i = 0; i < warmup; i++) {
    const t = once();
    if (t > slowSeconds) return { best: t, median: t, repetitions: 1 };
  }
  const start = performance.now();
  while (times.length < minRepetitions || (performance.now() - start) / 1000 < minSeconds) {
    times.push(once());
    if (times[0] > slowSeconds) break;
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)], repetitions: times.length };
}

export function gflops(flops: number, seconds: number): number {
  return flops / seconds / 1e9;
}
