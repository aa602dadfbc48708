/**
 * The inverse of an SPD matrix (src/linalg/spd-inverse.ts: blocked Cholesky, triangular inverse
 * and L^-T L^-1 on the WebAssembly kernels) and the Gram of long vectors (src/linalg/gram.ts)
 * against dense references (ml-matrix's inverse, float64 sums), in float64 and float32, on
 * sizes on both sides of every block boundary; and the TypeScript versions the backend runs
 * without WebAssembly against the same references. Where the native BLAS is built, the float64
 * inverse is LAPACK's here; vitest's 'host-linalg-wasm' project runs this file again with
 * MATS_CPU_KERNELS=wasm-simd-threads, on the WebAssembly kernels (checked below).
 */
import fc from 'fast-check';
import { inverse as mlInverse, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '@mats/core';
import { randomArray, randomSpd, unitRoundoff } from '@mats/core/testing';
import { gram, portableGram, portableSpdInverse, spdInverse } from '../src/index.js';
import { hostBlas } from '../src/native/host-blas.js';

describe('which float64 path this run tests', () => {
  it.runIf(process.env.MATS_CPU_KERNELS === 'wasm-simd-threads')('is the WebAssembly one when MATS_CPU_KERNELS names it', () => {
    expect(hostBlas()).toBeUndefined();
  });
});

type Precision = 'float64' | 'float32';
const PRECISIONS: Precision[] = ['float64', 'float32'];

interface Implementation {
  name: string;
  precision: Precision;
  inverse: (a: Float64Array, n: number) => Float64Array;
  gram: (vectors: Float64Array[]) => Float64Array;
}

const IMPLEMENTATIONS: Implementation[] = [
  ...PRECISIONS.map((precision) => ({
    name: `${precision === 'float64' && hostBlas() ? 'native BLAS' : 'WebAssembly'} ${precision}`,
    precision,
    inverse: (a: Float64Array, n: number) => spdInverse(a, n, { precision }),
    gram: (vectors: Float64Array[]) => gram(vectors, { precision }),
  })),
  { name: 'TypeScript', precision: 'float64', inverse: portableSpdInverse, gram: (v) => portableGram(v, v[0]?.length ?? 0) },
];

function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/**
 * X against ml-matrix's inverse: the forward error of an inverse through Cholesky is bounded
 * by c n u kappa(A) ||A^-1|| (Higham, Accuracy and Stability, §14.2); kappa in the Frobenius
 * norm overestimates the 2-norm one by at most n. And X is exactly symmetric.
 */
function checkInverse(impl: Implementation, a: Float64Array, n: number, what: string): void {
  const x = impl.inverse(a, n);
  expect(x.length).toBe(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (x[i * n + j] !== x[j * n + i]) throw new Error(`${what}: X[${i}, ${j}] != X[${j}, ${i}]`);
  const reference = mlInverse(new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))))).to1DArray();
  const normInverse = frobenius(reference);
  const kappa = frobenius(a) * normInverse;
  let worst = 0;
  for (let i = 0; i < n * n; i++) worst = Math.max(worst, Math.abs(x[i] - reference[i]));
  expect(worst / normInverse, `${what}: max |X - inv(A)| / ||inv(A)||_F (kappa ${kappa.toExponential(2)})`).toBeLessThan(16 * n * unitRoundoff(impl.precision) * kappa);
}

describe('spdInverse', () => {
  for (const impl of IMPLEMENTATIONS) {
    it(`${impl.name}: random SPD matrices, n up to 300, against ml-matrix's inverse (fast-check)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), fc.double({ min: 1e-4, max: 1, noNaN: true }), (n, seed, shift) => {
          checkInverse(impl, randomSpd(n, seed, shift), n, `n=${n} seed=${seed} shift=${shift}`);
        }),
        { numRuns: impl.name === 'TypeScript' ? 8 : 16 },
      );
    });
  }

  for (const impl of IMPLEMENTATIONS.filter((i) => i.name !== 'TypeScript')) {
    it(`${impl.name}: every block boundary of the triangular inverse and of L^-T L^-1 (n = 127 .. 129, 256, 257, 385)`, () => {
      for (const n of [127, 128, 129, 256, 257, 385]) checkInverse(impl, randomSpd(n, n, 0.05), n, `n=${n}`);
    });
  }

  it('reads only the lower triangle', () => {
    const n = 200;
    const a = randomSpd(n, 4);
    const lower = a.map((v, idx) => (idx % n <= Math.floor(idx / n) ? v : Number.NaN));
    const full = spdInverse(a, n);
    const half = spdInverse(lower, n);
    for (let i = 0; i < n * n; i++) expect(half[i]).toBe(full[i]);
  });

  it('names a wrong size (the failing pivot: factorizations.test.ts)', () => {
    expect(() => spdInverse(new Float64Array(5), 2)).toThrow(/\[2, 2\] matrix \(4 values\), got 5/);
  });
});

describe('gram', () => {
  /**
   * G against float64 sums: each entry is a dot product of `length` terms, error at most
   * about length u ||v_i|| ||v_j|| (plus the rounding of the inputs to float32).
   */
  function checkGram(impl: Implementation, vectors: Float64Array[], what: string): void {
    const m = vectors.length;
    const length = vectors[0].length;
    const g = impl.gram(vectors);
    expect(g.length).toBe(m * m);
    const norms = vectors.map(frobenius);
    const u = unitRoundoff(impl.precision);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        expect(g[i * m + j], `${what}: symmetric at [${i}, ${j}]`).toBe(g[j * m + i]);
        let reference = 0;
        for (let k = 0; k < length; k++) reference += vectors[i][k] * vectors[j][k];
        expect(Math.abs(g[i * m + j] - reference), `${what}: G[${i}, ${j}]`).toBeLessThanOrEqual((length + 4) * u * norms[i] * norms[j]);
      }
    }
  }

  for (const impl of IMPLEMENTATIONS) {
    it(`${impl.name}: random vectors, 1 to 12 of them, lengths across chunks and slabs, against float64 sums (fast-check)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 150_000 }), fc.integer(), (m, length, seed) => {
          const vectors = Array.from({ length: m }, (_, i) => randomArray(length, seed + i));
          checkGram(impl, vectors, `m=${m} length=${length} seed=${seed}`);
        }),
        { numRuns: 10 },
      );
    });
  }

  it('the Gram of the vectorised factors of a K-FAC sum (8 models, 256 x 256): each factor read once, several slabs', () => {
    const vectors = Array.from({ length: 8 }, (_, i) => randomSpd(256, i + 1));
    for (const impl of IMPLEMENTATIONS) checkGram(impl, vectors, impl.name);
  });

  it('handles no vectors and names a vector of another length', () => {
    expect(gram([]).length).toBe(0);
    expect(() => gram([new Float64Array(4), new Float64Array(3)])).toThrow(ShapeError);
    expect(() => gram([new Float64Array(4), new Float64Array(3)])).toThrow(/vector 1 has 3 elements, vector 0 has 4/);
  });
});
