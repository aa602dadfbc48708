/**
 * gemm GFLOP/s at several n, float64 and float32: every CPU kernel variant available here,
 * ml-matrix (float64), tfjs-backend-wasm (float32) and numpy, side by side in one run.
 */
import { availableKernelVariants, createCpuBackend, type CpuKernelVariant } from '@mats/backend-cpu';
import type { Backend, DType } from '@mats/core';
import { randomArray } from '@mats/core/testing';
import type { BenchBackend } from '../backends.js';
import { mlMatrixMatmulSeconds } from '../peers/ml-matrix.js';
import { describeNumpy, numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { loadTfjsWasm } from '../peers/tfjs-wasm.js';
import { fmt, ratio, type Section } from '../report.js';
import { gflops, timeIt, type TimingOptions } from '../timing.js';

export interface GemmSectionOptions {
  sizes: number[];
  timing: TimingOptions;
  /** Other backends (--backend), a column each. */
  others?: BenchBackend[];
  log?: (line: string) => void;
}

/** Best seconds of C <- A B (n x n) on a backend. */
export function backendGemmSeconds(backend: Backend, n: number, timing: TimingOptions): number {
  const a = backend.fromArray(randomArray(n * n, 1), [n, n]);
  const b = backend.fromArray(randomArray(n * n, 2), [n, n]);
  const c = backend.zeros([n, n]);
  const t = timeIt(() => backend.gemm('N', 'N', 1, a, b, 0, c), timing);
  for (const x of [a, b, c]) backend.dispose(x);
  return t.best;
}

function cpuGemmSeconds(variant: CpuKernelVariant, dtype: DType, n: number, timing: TimingOptions): { seconds: number; label: string } {
  const backend = createCpuBackend(dtype, { kernels: variant });
  const label = variant === 'wasm-simd-threads' ? `cpu ${variant} (${backend.threads} threads)` : `cpu ${variant}`;
  return { seconds: backendGemmSeconds(backend, n, timing), label };
}

export async function gemmSection(options: GemmSectionOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const variants = availableKernelVariants();
  const notes: string[] = [];
  const tfjs = await loadTfjsWasm();
  if ('skipped' in tfjs) notes.push(`tfjs-backend-wasm skipped: ${tfjs.skipped}`);
  else notes.push(`tfjs: ${tfjs.description}`);
  const numpy = numpyAvailable();
  let numpyResults: { n: number; dtype: DType; gflops: number }[] = [];
  if ('skipped' in numpy) {
    notes.push(`numpy skipped: ${numpy.skipped}`);
  } else {
    log('gemm: numpy');
    const out = runNumpyScript<{ results: typeof numpyResults }>('gemm.py', [String(options.timing.minSeconds ?? 1), ...options.sizes.map(String)]);
    numpyResults = out.results;
    notes.push(`${describeNumpy(numpy)}, run by python3 in the same bench run`);
  }

  const variantLabels: string[] = [];
  const rows: string[][] = [];
  const f32VsTfjsAt1024: number[] = [];
  const f64VsMl: number[] = [];
  let f64AtLargest: { n: number; ratio: number | undefined } | undefined;
  let f32AtTarget: number | undefined;
  for (const n of options.sizes) {
    for (const dtype of ['float64', 'float32'] as const) {
      const flops = 2 * n ** 3;
      const ours = variants.map((v) => {
        log(`gemm: cpu ${v} ${dtype} n=${n}`);
        const r = cpuGemmSeconds(v, dtype, n, options.timing);
        if (variantLabels.length < variants.length) variantLabels.push(r.label);
        return gflops(flops, r.seconds);
      });
      const best = Math.max(...ours);
      const others: (number | undefined)[] = [];
      for (const other of options.others ?? []) {
        if (!other.dtypes.includes(dtype)) {
          others.push(undefined);
          continue;
        }
        log(`gemm: ${other.label} ${dtype} n=${n}`);
        others.push(gflops(flops, backendGemmSeconds(await other.create(dtype), n, options.timing)));
      }
      let ml: number | undefined;
      if (dtype === 'float64') {
        log(`gemm: ml-matrix n=${n}`);
        ml = gflops(flops, mlMatrixMatmulSeconds(n, options.timing));
      }
      let tf: number | undefined;
      if (dtype === 'float32' && !('skipped' in tfjs)) {
        log(`gemm: tfjs-wasm n=${n}`);
        tf = gflops(flops, tfjs.matmulSeconds(n, options.timing));
      }
      const np = numpyResults.find((r) => r.n === n && r.dtype === dtype)?.gflops;
      const vsMl = ratio(best, ml);
      const vsTf = ratio(best, tf);
      if (dtype === 'float64' && vsMl !== undefined) {
        f64VsMl.push(vsMl);
        f64AtLargest = { n, ratio: vsMl };
      }
      if (dtype === 'float32' && n === 1024) f32AtTarget = vsTf;
      if (dtype === 'float32' && vsTf !== undefined && n === 1024) f32VsTfjsAt1024.push(vsTf);
      rows.push([
        String(n),
        dtype,
        ...ours.map((g) => fmt(g)),
        ...others.map((g) => fmt(g)),
        fmt(ml),
        fmt(tf),
        fmt(np),
        vsMl === undefined ? '-' : `${fmt(vsMl)}x`,
        vsTf === undefined ? '-' : `${fmt(vsTf)}x`,
        np === undefined ? '-' : `${fmt(ratio(best, np))}x`,
      ]);
    }
  }
  notes.push(
    'GFLOP/s = 2 n^3 / best time of C <- A B (n x n, row-major); best of at least 3 runs and at least 1 s after a warm-up, ' +
      'except where one run takes longer than 4 s (then that one run). Ratios use the fastest cpu variant of the row.',
  );
  const minMl = f64VsMl.length > 0 ? Math.min(...f64VsMl) : undefined;
  return {
    title: 'gemm GFLOP/s',
    tables: [
      {
        header: ['n', 'dtype', ...variantLabels, ...(options.others ?? []).map((b) => b.label), 'ml-matrix', 'tfjs-wasm', 'numpy', 'best cpu / ml-matrix', 'best cpu / tfjs-wasm', 'best cpu / numpy'],
        rows,
      },
    ],
    notes,
    targets: [
      {
        issue: 8,
        target: 'float32 gemm n = 1024 vs tfjs-backend-wasm',
        ratio: f32AtTarget,
        bound: 0.75,
        direction: 'atLeast',
        detail: 'gemm table, float32 row at n = 1024',
      },
      {
        issue: 8,
        target: 'float64 gemm vs ml-matrix (smallest ratio over all n)',
        ratio: minMl,
        bound: 5,
        direction: 'atLeast',
        detail: f64AtLargest ? `gemm table, float64 rows (at n = ${f64AtLargest.n}: ${fmt(f64AtLargest.ratio)}x)` : 'gemm table',
      },
    ],
  };
}
