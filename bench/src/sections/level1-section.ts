/**
 * Level-1 throughput: dot and axpy on long vectors, in GB/s of memory traffic (dot reads two
 * vectors, axpy reads two and writes one): the CPU backend as it runs by default (tensors of
 * this size live in the kernel memory; WebAssembly SIMD on every core), its portable
 * TypeScript kernels on one thread, other backends (--backend), and numpy.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import type { Backend, DType } from '@mats/core';
import { randomArray } from '@mats/core/testing';
import type { BenchBackend } from '../backends.js';
import { describeNumpy, numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section } from '../report.js';
import { timeIt, type TimingOptions } from '../timing.js';

export interface Level1SectionOptions {
  sizes: number[];
  timing: TimingOptions;
  others?: BenchBackend[];
  log?: (line: string) => void;
}

function level1Seconds(backend: Backend, n: number, timing: TimingOptions): { dot: number; axpy: number } {
  const x = backend.fromArray(randomArray(n, 1), [n]);
  const y = backend.fromArray(randomArray(n, 2), [n]);
  const dot = timeIt(() => backend.dot(x, y), timing).best;
  const axpy = timeIt(() => backend.axpy(0.5, x, y), timing).best;
  backend.dispose(x);
  backend.dispose(y);
  return { dot, axpy };
}

export async function level1Section(options: Level1SectionOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const notes: string[] = [];
  const numpy = numpyAvailable();
  const numpySeconds = new Map<string, number>();
  if ('skipped' in numpy) notes.push(`numpy skipped: ${numpy.skipped}`);
  else {
    log('level1: numpy');
    const out = runNumpyScript<{ results: { n: number; dtype: DType; op: string; seconds: number }[] }>('level1.py', [String(options.timing.minSeconds ?? 1), ...options.sizes.map(String)]);
    for (const r of out.results) numpySeconds.set(`${r.n}/${r.dtype}/${r.op}`, r.seconds);
    notes.push(`${describeNumpy(numpy)}: np.dot(x, y), and axpy as y += 0.5 * x`);
  }
  const others = options.others ?? [];
  const rows: string[][] = [];
  for (const n of options.sizes) {
    for (const dtype of ['float64', 'float32'] as const) {
      const bytes = n * (dtype === 'float64' ? 8 : 4);
      const rate = (op: 'dot' | 'axpy', s: number | undefined) => (s === undefined ? '-' : fmt(((op === 'dot' ? 2 : 3) * bytes) / s / 1e9));
      log(`level1: ours ${dtype} n=${n}`);
      const auto = createCpuBackend(dtype);
      await auto.warmUp();
      const ours = level1Seconds(auto, n, options.timing);
      const one = level1Seconds(createCpuBackend(dtype, { kernels: 'typescript' }), n, options.timing);
      const otherCells: ({ dot: number; axpy: number } | undefined)[] = [];
      for (const other of others) otherCells.push(other.dtypes.includes(dtype) ? level1Seconds(await other.create(dtype), n, options.timing) : undefined);
      for (const op of ['dot', 'axpy'] as const) {
        const np = numpySeconds.get(`${n}/${dtype}/${op}`);
        rows.push([
          String(n),
          dtype,
          op,
          rate(op, ours[op]),
          rate(op, one[op]),
          ...otherCells.map((c) => rate(op, c?.[op])),
          rate(op, np),
          np === undefined ? '-' : `${fmt(ratio(np, ours[op]))}x`,
        ]);
      }
    }
  }
  notes.push(
    'GB/s of memory traffic (dot: 2 n elements read; axpy: 2 read, 1 written) at the best of at least 3 calls. "ours" is the default CPU backend: ' +
      'tensors of at least 16384 elements live in the WebAssembly memory and run the SIMD kernels, on every core from 131072 elements; ' +
      '"typescript" its portable kernels on one thread. "vs numpy" = numpy time / ours.',
  );
  return {
    title: 'level-1: dot and axpy',
    tables: [{ header: ['n', 'dtype', 'op', 'ours GB/s', 'typescript GB/s', ...others.map((b) => `${b.label} GB/s`), 'numpy GB/s', 'vs numpy'], rows }],
    notes,
    targets: [],
  };
}
