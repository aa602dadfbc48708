/**
 * The host factorizations side by side: ours on the WebAssembly kernels (float64 and
 * float32, every core), ml-matrix (the reference our tests compare with, float64) and
 * numpy/LAPACK (dsyevd / dpotrf through OpenBLAS, every core), on R R^T / n + 0.1 I.
 * One section per operation: `--only eigh`, `--only cholesky`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cholesky, eigh } from '@mats/backend-cpu';
import type { Backend, DType } from '@mats/core';
import { randomSpd } from '@mats/core/testing';
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { BenchBackend } from '../backends.js';
import { describeNumpy, numpyAvailable, runNumpyScript } from '../peers/numpy.js';
import { fmt, ratio, type Section, type TargetCheck } from '../report.js';
import { timeIt, type TimingOptions } from '../timing.js';

export type Factorization = 'eigh' | 'cholesky';

export interface FactorizationSectionOptions {
  operation: Factorization;
  sizes: number[];
  /** Sizes the targets are checked at (ours vs numpy, float64). */
  targetSizes: number[];
  timing: TimingOptions;
  /** Other backends, timed through their backend.linalg (float64). */
  others?: BenchBackend[];
  log?: (line: string) => void;
}

const TARGET_RATIO = 3;

function mlMatrixSeconds(operation: Factorization, a: Float64Array, n: number, timing: TimingOptions): number {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  return timeIt(() => (operation === 'eigh' ? new EigenvalueDecomposition(m, { assumeSymmetric: true }) : new CholeskyDecomposition(m)), timing).best;
}

export async function factorizationSection(options: FactorizationSectionOptions): Promise<Section> {
  const log = options.log ?? (() => {});
  const { operation, sizes, timing } = options;
  const notes: string[] = [];
  const numpy = numpyAvailable();
  const numpySeconds = new Map<string, number>();
  const matrices = new Map(sizes.map((n) => [n, randomSpd(n, 7)]));
  if ('skipped' in numpy) {
    notes.push(`numpy skipped: ${numpy.skipped}`);
  } else {
    log(`${operation}: numpy`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mats-linalg-'));
    try {
      for (const [n, a] of matrices) writeFileSync(path.join(dir, `spd-${n}.bin`), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      const out = runNumpyScript<{ results: { n: number; dtype: DType; seconds: number }[] }>('linalg.py', [operation, String(timing.minSeconds ?? 1), dir, ...sizes.map(String)]);
      for (const r of out.results) numpySeconds.set(`${r.n}/${r.dtype}`, r.seconds);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    notes.push(`${describeNumpy(numpy)}: numpy.linalg.${operation} (LAPACK ${operation === 'eigh' ? 'dsyevd/ssyevd' : 'dpotrf/spotrf'}), run by python3 in the same bench run`);
  }
  const others = options.others ?? [];
  const otherBackends = new Map<BenchBackend, Backend>();
  for (const b of others) if (b.dtypes.includes('float64')) otherBackends.set(b, await b.create('float64'));

  const rows: string[][] = [];
  const targets: TargetCheck[] = [];
  for (const n of sizes) {
    const a = matrices.get(n)!;
    const ours: Record<DType, number> = { float64: 0, float32: 0 };
    for (const precision of ['float64', 'float32'] as const) {
      log(`${operation}: ours ${precision} n=${n}`);
      ours[precision] = timeIt(() => (operation === 'eigh' ? eigh(a, n, { precision }) : cholesky(a, n, { precision })), timing).best;
    }
    log(`${operation}: ml-matrix n=${n}`);
    const ml = mlMatrixSeconds(operation, a, n, timing);
    const otherCells = [...otherBackends.values()].map((backend) => {
      log(`${operation}: ${backend.name} n=${n}`);
      return timeIt(() => (operation === 'eigh' ? backend.linalg.eigh(a, n) : backend.linalg.cholesky(a, n)), timing).best;
    });
    const np64 = numpySeconds.get(`${n}/float64`);
    const np32 = numpySeconds.get(`${n}/float32`);
    const ms = (s: number | undefined) => (s === undefined ? '-' : `${fmt(s * 1000)} ms`);
    rows.push([
      String(n),
      ms(ours.float64),
      ms(ours.float32),
      ms(ml),
      ...otherCells.map(ms),
      ms(np64),
      ms(np32),
      np64 === undefined ? '-' : `${fmt(ratio(ours.float64, np64))}x`,
      np32 === undefined ? '-' : `${fmt(ratio(ours.float32, np32))}x`,
      `${fmt(ratio(ml, ours.float64))}x`,
    ]);
    if (options.targetSizes.includes(n)) {
      targets.push({
        issue: 15,
        target: `${operation} n = ${n}, float64: ours / numpy (LAPACK) time`,
        ratio: ratio(ours.float64, np64),
        bound: TARGET_RATIO,
        direction: 'atMost',
        detail: `${operation} table, n = ${n}`,
      });
    }
  }
  notes.push(
    `Matrices R R^T / n + 0.1 I (R uniform in [-1, 1)); best of at least 3 calls and ${timing.minSeconds ?? 1} s after a warm-up, ` +
      'or one call where it takes more than 4 s. Ours: @mats/backend-cpu ' +
      (operation === 'eigh'
        ? 'eigh (Householder tridiagonalisation, divide and conquer, blocked back-transformation)'
        : 'cholesky (right-looking, blocked)') +
      ` on the WebAssembly kernels with every core; the float32 column computes in float32. ml-matrix ${operation === 'eigh' ? 'EigenvalueDecomposition (JAMA tred2 + tql2)' : 'CholeskyDecomposition'}, float64, one thread.`,
  );
  return {
    title: operation === 'eigh' ? 'eigh: symmetric eigendecomposition' : 'cholesky',
    tables: [
      {
        header: ['n', 'ours float64', 'ours float32', 'ml-matrix', ...[...otherBackends.keys()].map((b) => b.label), 'numpy float64', 'numpy float32', 'ours / numpy float64', 'ours / numpy float32', 'ml-matrix / ours'],
        rows,
      },
    ],
    notes,
    targets,
  };
}
