/**
 * The WebAssembly factorizations (src/linalg/) against dense references: the symmetric
 * eigensolver against ml-matrix's (JAMA's tred2 + tql2) and the defining identities, Cholesky
 * against ml-matrix's and L L^T = A, in float64 and float32, on random matrices of every size
 * class the blocking distinguishes (below and above a divide-and-conquer leaf, one and several
 * panels of the tridiagonalisation and of Cholesky) and on the matrices that exercise deflation.
 */
import fc from 'fast-check';
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError } from '@mats/core';
import { mulberry32, randomArray, randomSpd, unitRoundoff } from '@mats/core/testing';
import { cholesky, eigh, portableCholesky, portableSpdInverse, spdInverse } from '../src/index.js';

type Precision = 'float64' | 'float32';
const PRECISIONS: Precision[] = ['float64', 'float32'];

function symmetric(n: number, seed: number): Float64Array {
  const r = randomArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (r[i * n + j] + r[j * n + i]);
  return a;
}

function mlMatrix(a: ArrayLike<number>, n: number): Matrix {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  return m;
}

/** max |A v_j - lambda_j v_j|, max |V^T V - I|, and a norm bound of A (max row sum). */
function eigenErrors(a: ArrayLike<number>, n: number, values: Float64Array, vectors: Float64Array): { residual: number; orthogonality: number; norm: number } {
  let residual = 0;
  let orthogonality = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let p = 0; p < n; p++) row += Math.abs(a[i * n + p]);
    norm = Math.max(norm, row);
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p] * vectors[p * n + j];
      residual = Math.max(residual, Math.abs(s - values[j] * vectors[i * n + j]));
    }
    for (let k = j; k < n; k++) {
      let o = 0;
      for (let p = 0; p < n; p++) o += vectors[p * n + j] * vectors[p * n + k];
      orthogonality = Math.max(orthogonality, Math.abs(o - (j === k ? 1 : 0)));
    }
  }
  return { residual, orthogonality, norm };
}

/**
 * Checks one eigendecomposition against ml-matrix (or the given exact eigenvalues) and the
 * identities, with tolerances c n u ||A||.
 */
function checkEigh(a: Float64Array, n: number, precision: Precision, what: string, exact?: Float64Array): void {
  const { values, vectors } = eigh(a, n, { precision });
  expect(values.length).toBe(n);
  for (let j = 1; j < n; j++) expect(values[j], `${what}: ascending`).toBeGreaterThanOrEqual(values[j - 1]);
  const u = unitRoundoff(precision);
  const { residual, orthogonality, norm } = eigenErrors(a, n, values, vectors);
  const scale = Math.max(norm, Number.MIN_VALUE);
  expect(residual / scale, `${what}: residual`).toBeLessThan(64 * Math.max(n, 4) * u);
  expect(orthogonality, `${what}: orthogonality`).toBeLessThan(64 * Math.max(n, 4) * u);
  // Eigenvalues are perfectly conditioned (Weyl): |lambda - lambda_ref| <= ||E||.
  const reference = exact ?? new EigenvalueDecomposition(mlMatrix(a, n), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
  for (let j = 0; j < n; j++) {
    expect(Math.abs(values[j] - reference[j]) / scale, `${what}: eigenvalue ${j}`).toBeLessThan(64 * Math.max(n, 4) * u);
  }
}

describe('eigh on the WebAssembly kernels', () => {
  for (const precision of PRECISIONS) {
    it(`${precision}: random symmetric matrices, n up to 160, against ml-matrix (fast-check)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 160 }), fc.integer(), (n, seed) => checkEigh(symmetric(n, seed), n, precision, `n=${n} seed=${seed}`)),
        { numRuns: 25 },
      );
    });

    it(`${precision}: several panels and merges (n = 257, 400)`, () => {
      for (const n of [257, 400]) checkEigh(symmetric(n, n), n, precision, `n=${n}`);
    });

    it(`${precision}: matrices that deflate (identity, low rank, clusters, a graded spectrum, Wilkinson, zero)`, () => {
      const n = 150;
      const cases: [string, Float64Array][] = [];
      const identity = new Float64Array(n * n);
      for (let i = 0; i < n; i++) identity[i * n + i] = 1;
      cases.push(['identity', identity]);
      const r = randomArray(n * 5, 1);
      const lowRank = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < 5; p++) lowRank[i * n + j] += r[i * 5 + p] * r[j * 5 + p];
      cases.push(['rank 5', lowRank]);
      const noise = symmetric(n, 2);
      cases.push(['three clusters', noise.map((x, idx) => (Math.floor(idx / n) === idx % n ? Math.floor(idx / n) % 3 : 0) + 1e-12 * x)]);
      const q = randomArray(n * n, 3);
      const graded = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) graded[i * n + j] += q[i * n + p] * q[j * n + p] * 10 ** ((-12 * p) / n);
      cases.push(['graded 1 .. 1e-12', graded]);
      const wilkinson = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        wilkinson[i * n + i] = Math.abs(i - (n - 1) / 2);
        if (i + 1 < n) wilkinson[i * n + i + 1] = wilkinson[(i + 1) * n + i] = 1;
      }
      cases.push(['Wilkinson', wilkinson]);
      cases.push(['all ones', new Float64Array(n * n).fill(1)]);
      cases.push(['zero', new Float64Array(n * n)]);
      for (const [what, a] of cases) checkEigh(a, n, precision, what);
      // Extreme scales: ml-matrix loses the small eigenvalues to underflow there, so the
      // reference is the unscaled spectrum, scaled.
      const spectrum = eigh(lowRank, n).values;
      for (const factor of [1e-300, 1e300]) {
        checkEigh(lowRank.map((x) => x * factor), n, precision, `rank 5 times ${factor}`, spectrum.map((x) => x * factor));
      }
    });
  }

  it('reads only the upper triangle of the row-major matrix', () => {
    const n = 90;
    const a = symmetric(n, 9);
    const upper = a.map((x, idx) => (idx % n >= Math.floor(idx / n) ? x : Number.NaN));
    const full = eigh(a, n);
    const half = eigh(upper, n);
    for (let j = 0; j < n; j++) expect(Math.abs(half.values[j] - full.values[j])).toBeLessThan(1e-12);
  });

  it('names a non-finite entry and a wrong size', () => {
    const a = symmetric(4, 1);
    a[5] = Number.POSITIVE_INFINITY;
    expect(() => eigh(a, 4)).toThrow(/non-finite/);
    expect(() => eigh(new Float64Array(5), 2)).toThrow(/\[2, 2\] matrix \(4 values\), got 5/);
  });
});

describe('cholesky on the WebAssembly kernels', () => {
  for (const precision of PRECISIONS) {
    it(`${precision}: L L^T = A and L matches ml-matrix, n up to 300 (fast-check)`, () => {
      const u = unitRoundoff(precision);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 300 }), fc.integer(), (n, seed) => {
          const a = randomSpd(n, seed);
          const l = cholesky(a, n, { precision });
          const reference = new CholeskyDecomposition(mlMatrix(a, n)).lowerTriangularMatrix;
          let scale = 0;
          for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]));
          let worstL = 0;
          let worstProduct = 0;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const lij = l[i * n + j];
              if (j > i) {
                if (lij !== 0) throw new Error(`L[${i}, ${j}] = ${lij} above the diagonal (n=${n})`);
                continue;
              }
              worstL = Math.max(worstL, Math.abs(lij - reference.get(i, j)));
              let s = 0;
              for (let p = 0; p <= j; p++) s += l[i * n + p] * l[j * n + p];
              worstProduct = Math.max(worstProduct, Math.abs(s - a[i * n + j]));
            }
          }
          // L is well conditioned here (A = R R^T / n + 0.1 I): entrywise agreement.
          expect(worstL, `max |L - L_ml-matrix|, n=${n}`).toBeLessThan(4096 * n * u * Math.sqrt(scale));
          expect(worstProduct, `max |L L^T - A|, n=${n}`).toBeLessThan(16 * n * u * scale);
        }),
        { numRuns: 12 },
      );
    });
  }

  it('names the same failing pivot as the row-by-row factorization, in every block (and so does spdInverse)', () => {
    const next = mulberry32(11);
    for (const n of [3, 130, 300]) {
      for (let trial = 0; trial < 3; trial++) {
        const a = randomSpd(n, trial + n);
        // Make the leading (p+1) x (p+1) block indefinite: a negative diagonal entry at p.
        const p = Math.floor(next() * n);
        a[p * n + p] = -1;
        let expected: NotPositiveDefiniteError | undefined;
        try {
          portableCholesky(a, n);
        } catch (e) {
          expected = e as NotPositiveDefiniteError;
        }
        // spdInverse factors first: the same pivot (test/spd-inverse-gram.test.ts checks its values).
        for (const factorization of [cholesky, spdInverse, portableSpdInverse]) {
          let actual: unknown;
          try {
            factorization(a, n);
          } catch (e) {
            actual = e;
          }
          expect(actual, factorization.name).toBeInstanceOf(NotPositiveDefiniteError);
          expect((actual as NotPositiveDefiniteError).pivotIndex).toBe(expected!.pivotIndex);
          expect((actual as NotPositiveDefiniteError).size).toBe(n);
        }
      }
    }
  });

  it('rejects a non-finite pivot', () => {
    const a = randomSpd(140, 1);
    a[135 * 140 + 135] = Number.NaN;
    expect(() => cholesky(a, 140)).toThrow(NotPositiveDefiniteError);
  });
});
