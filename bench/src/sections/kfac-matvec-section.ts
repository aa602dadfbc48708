/**
 * K-FAC sum matvec throughput: Y = sum_i G_i X A_i for 8 models with [n, n] factors, the
 * operator a MaTS K-FAC merge applies once per CG iteration: ours fused (prepareKroneckerSum,
 * every core), ours as 2 M gemms in every kernel variant, other backends (--backend), numpy
 * (two matmuls per model, every core), and the gemm of the same backend measured in this run,
 * so that the fused matvec's GFLOP/s can be read against the gemm cap.
 */
import { availableKernelVariants, createCpuBackend } from '@mats/backend-cpu';
import type { Backend } from '@mats/core';
import type { BenchBackend } from '../backends.js';
import { kfacProblem, writeKfacProblem, type KfacProblem } from '../kfac-problem.js';
import { KfacSumMatvec } from '../kfac-sum-matvec.js';
import { describeNumpy, numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section, type TargetCheck } from '../report.js';
import { gflops, timeIt, type TimingOptions } from '../timing.js';
import { backendGemmSeconds } from './gemm-section.js';

export interface KfacMatvecOptions {
  models: number;
  sizes: number[];
  /** Sizes the issue-15 target (fused vs numpy) is checked at. */
  targetSizes: number[];
  timing: TimingOptions;
  /** The plain variants are skipped above this n (the typescript one takes seconds per apply). */
  typescriptMaxN: number;
  others?: BenchBackend[];
  log?: (line: string) => void;
}

const TARGET = 0.8;

function matvecSeconds(backend: Backend, problem: KfacProblem, timing: TimingOptions, fused: boolean): { seconds: number; fused: boolean } {
  const n = problem.n;
  const op = new KfacSumMatvec(backend, problem, { fused });
  const x = backend.fromArray(problem.w[0], [n, n]);
  const y = backend.zeros([n, n]);
  const t = timeIt(() => op.apply(x, y), timing);
  const wasFused = op.fused;
  op.dispose();
  backend.dispose(x);
  backend.dispose(y);
  return { seconds: t.best, fused: wasFused };
}

export async function kfacMatvecSection(options: KfacMatvecOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const numpy = numpyAvailable();
  const notes: string[] = [];
  if ('skipped' in numpy) notes.push(`numpy skipped: ${numpy.skipped}`);
  else notes.push(`${describeNumpy(numpy)}: y = sum_i g_i @ x @ a_i`);
  const variants = availableKernelVariants();
  const others = options.others ?? [];
  const rows: string[][] = [];
  const targets: TargetCheck[] = [];
  for (const n of options.sizes) {
    log(`kfac matvec: problem n=${n}`);
    const problem = kfacProblem(options.models, n);
    let numpySeconds: Record<string, number> = {};
    if (!('skipped' in numpy)) {
      log(`kfac matvec: numpy n=${n}`);
      const files = writeKfacProblem(problem);
      try {
        const out = runNumpyScript<{ results: { dtype: string; seconds: number }[] }>('kfac.py', [files.dir, 'matvec', String(options.timing.minSeconds ?? 1)]);
        numpySeconds = Object.fromEntries(out.results.map((r) => [r.dtype, r.seconds]));
      } finally {
        files.remove();
      }
    }
    const flops = KfacSumMatvec.flops(options.models, n);
    const cell = (s: number | undefined) => (s === undefined ? 'skipped' : `${fmt(s * 1000)} ms (${fmt(gflops(flops, s))})`);
    for (const dtype of ['float64', 'float32'] as const) {
      log(`kfac matvec: ours fused ${dtype} n=${n}`);
      const auto = createCpuBackend(dtype);
      await auto.warmUp();
      const fused = matvecSeconds(auto, problem, options.timing, true);
      log(`kfac matvec: gemm ${dtype} n=${n}`);
      const gemmGflops = gflops(2 * n ** 3, backendGemmSeconds(auto, n, options.timing));
      // The WebAssembly kernels' fused matvec, what 'auto' runs without the native BLAS.
      let wasmFused: number | undefined;
      if (auto.mode !== 'wasm-simd-threads' && variants.includes('wasm-simd-threads')) {
        log(`kfac matvec: wasm-simd-threads fused ${dtype} n=${n}`);
        wasmFused = matvecSeconds(createCpuBackend(dtype, { kernels: 'wasm-simd-threads' }), problem, options.timing, true).seconds;
      }
      const plain = variants.map((variant) => {
        if (variant === 'typescript' && n > options.typescriptMaxN) return undefined;
        log(`kfac matvec: cpu ${variant} gemms ${dtype} n=${n}`);
        return matvecSeconds(createCpuBackend(dtype, { kernels: variant }), problem, options.timing, false).seconds;
      });
      const otherCells: (number | undefined)[] = [];
      for (const other of others) {
        if (!other.dtypes.includes(dtype)) {
          otherCells.push(undefined);
          continue;
        }
        log(`kfac matvec: ${other.label} ${dtype} n=${n}`);
        otherCells.push(matvecSeconds(await other.create(dtype), problem, options.timing, true).seconds);
      }
      const np = numpySeconds[dtype];
      const speed = ratio(np, fused.seconds);
      rows.push([
        String(n),
        dtype,
        `${cell(fused.seconds)}${fused.fused ? '' : ' (not prepared)'}`,
        wasmFused === undefined ? '-' : cell(wasmFused),
        ...plain.map(cell),
        ...otherCells.map(cell),
        np === undefined ? '-' : cell(np),
        speed === undefined ? '-' : `${fmt(speed)}x`,
        fmt(gemmGflops),
        `${fmt((100 * gflops(flops, fused.seconds)) / gemmGflops)} %`,
      ]);
      if (options.targetSizes.includes(n)) {
        targets.push({
          issue: 15,
          target: `K-FAC sum matvec n = ${n}, ${dtype}: speed vs numpy (numpy time / ours)`,
          ratio: speed,
          bound: TARGET,
          direction: 'atLeast',
          detail: `K-FAC sum matvec table, ${dtype} row at n = ${n}`,
        });
      }
    }
  }
  notes.push(
    `One apply = ${options.models} x 2 gemms of [n, n] (4 n^3 flops per model); best of at least 3 applies and ${options.timing.minSeconds ?? 1} s; GFLOP/s in parentheses. ` +
      '"ours" is backend.prepareKroneckerSum on the default (auto) CPU backend: on the \'blas\' variant 2 M native gemms per apply ' +
      '(T = G_i X, Y += T A_i) reading the factors in place; on the WebAssembly kernels ("wasm-simd-threads fused") factors packed once, ' +
      'per block of rows G_i X then (G_i X) A_i in cache, on every core; the other cpu columns run the same sum as 2 M backend.gemm calls. ' +
      '"speed vs numpy" = numpy time / ours (above 1: we are faster); "gemm GFLOP/s" is C <- A B at this n on the same backend in this run, ' +
      'and the last column our matvec\'s GFLOP/s as a share of it.',
  );
  if (options.sizes.some((n) => n > options.typescriptMaxN)) notes.push(`The typescript variant is skipped above n = ${options.typescriptMaxN} (one apply takes several seconds).`);
  return {
    title: `K-FAC sum matvec, ${options.models} models: sum_i G_i X A_i`,
    tables: [
      {
        header: ['n', 'dtype', 'ours (auto, prepared)', 'wasm-simd-threads fused', ...variants.map((v) => `cpu ${v} (gemms)`), ...others.map((b) => b.label), 'numpy', 'speed vs numpy', 'gemm GFLOP/s', 'ours / gemm'],
        rows,
      },
    ],
    notes,
    targets,
  };
}
