/**
 * gemm throughput of one backend at one size, for Node and for the browser page alike (no
 * Node or test-kit imports). A GPU backend queues work, so each timed call runs `reps` gemms
 * and then reads back one element that depends on the last one (a sync); that readback is
 * timed alone and subtracted.
 */
import type { Backend } from '@mats/core';
import { gflops, timeIt } from './timing.js';

export interface GemmThroughput {
  n: number;
  gflops: number;
  msPerGemm: number;
}

/** Deterministic data in [-1, 1] without a random generator (the page has no test kit). */
function wave(count: number, phase: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => Math.sin(1.7 * i + phase));
}

export function measureGemm(backend: Backend, n: number): GemmThroughput {
  const a = backend.fromArray(wave(n * n, 1), [n, n]);
  const b = backend.fromArray(wave(n * n, 2), [n, n]);
  const c = backend.zeros([n, n]);
  const flat = backend.reshape(c, [n * n]);
  const probe = backend.zeros([1]);
  const sync = () => {
    backend.copyRange(flat, n * n - 1, probe, 0, 1);
    backend.toArray(probe);
  };
  const run = (reps: number) => () => {
    for (let i = 0; i < reps; i++) backend.gemm('N', 'N', 1, a, b, 0, c);
    sync();
  };
  // The warm-up compiles the kernels; reps makes one timed call last ~0.2 s or more.
  const once = timeIt(run(1), { minSeconds: 0, minRepetitions: 1, warmup: 1 }).best;
  const reps = Math.max(1, Math.min(50, Math.round(0.2 / once)));
  const total = timeIt(run(reps), { minSeconds: 1, minRepetitions: 3, warmup: 0 }).best;
  const syncOnly = timeIt(sync, { minSeconds: 0.2, minRepetitions: 3, warmup: 1 }).best;
  const seconds = Math.max(total - syncOnly, 1e-9) / reps;
  for (const t of [a, b, c, probe]) backend.dispose(t);
  return { n, gflops: gflops(2 * n ** 3, seconds), msPerGemm: seconds * 1e3 };
}
