/**
 * Host factorizations in float64. The symmetric eigensolver is ml-matrix's (Householder
 * tridiagonalisation + implicit QL, from JAMA); Cholesky and the triangular solves are our
 * own, because ml-matrix's Cholesky only says "not positive definite" without naming the
 * pivot, and copying into its array-of-rows Matrix costs more than the solve. The triangular
 * solves are blocked so that their bulk runs through gemm (an inverse of a 512 x 512 K-FAC
 * factor is two such solves with 512 right-hand sides).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { NotPositiveDefiniteError, ShapeError, type HostLinalg, type SymmetricEigen } from '@mats/core';
import { hostGemm } from './host-gemm.js';

function checkSquare(what: string, a: Float64Array, n: number): void {
  if (a.length !== n * n) throw new ShapeError(`${what}: expected an [${n}, ${n}] matrix (${n * n} values), got ${a.length}`);
}

export function cholesky(a: Float64Array, n: number): Float64Array {
  checkSquare('cholesky', a, n);
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= l[j * n + p] * l[j * n + p];
    if (!(d > 0) || !Number.isFinite(d)) throw new NotPositiveDefiniteError(j, d, n);
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

export function eigh(a: Float64Array, n: number): SymmetricEigen {
  checkSquare('eigh', a, n);
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const e = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const raw = e.realEigenvalues;
  const v = e.eigenvectorMatrix;
  // JAMA's tql2 sorts ascending already; sort anyway so the contract does not rest on that.
  const order = raw.map((_, i) => i).sort((x, y) => raw[x] - raw[y]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = raw[src];
    for (let i = 0; i < n; i++) vectors[i * n + dst] = v.get(i, src);
  });
  return { values, vectors };
}

/** Rows of T per block of the blocked triangular solve. */
const TRIANGULAR_BLOCK = 64;

export function solveTriangular(
  t: Float64Array,
  n: number,
  b: Float64Array,
  k: number,
  options: { lower: boolean; transpose?: boolean },
): Float64Array {
  checkSquare('solveTriangular', t, n);
  if (b.length !== n * k) throw new ShapeError(`solveTriangular: right-hand side must be [${n}, ${k}], got ${b.length} values`);
  const x = Float64Array.from(b);
  // op(T), row-major: T, or its transpose (O(n^2) once); solving with T^T of a lower T is
  // solving with an upper matrix.
  const op = options.transpose ? transposeSquare(t, n) : t;
  const lower = options.transpose ? !options.lower : options.lower;
  // Blocked by rows of op(T) (LAPACK's trsm): each block of X first takes the product of the
  // solved blocks through gemm, then solves with its diagonal block by substitution. Almost all
  // of the n^2 k flops go through gemm.
  const block = n > TRIANGULAR_BLOCK && k >= 8 ? TRIANGULAR_BLOCK : n;
  if (lower) {
    for (let i0 = 0; i0 < n; i0 += block) {
      const i1 = Math.min(n, i0 + block);
      if (i0 > 0) hostGemm(i1 - i0, k, i0, -1, copyBlock(op, n, i0, i1, 0, i0), x.subarray(0, i0 * k), 1, x.subarray(i0 * k, i1 * k));
      substitute(op, n, x, k, i0, i1, true);
    }
  } else {
    for (let i1 = n; i1 > 0; i1 -= block) {
      const i0 = Math.max(0, i1 - block);
      if (i1 < n) hostGemm(i1 - i0, k, n - i1, -1, copyBlock(op, n, i0, i1, i1, n), x.subarray(i1 * k, n * k), 1, x.subarray(i0 * k, i1 * k));
      substitute(op, n, x, k, i0, i1, false);
    }
  }
  return x;
}

/** Solves rows [i0, i1) of X with the diagonal block op[i0:i1, i0:i1], row-oriented. */
function substitute(op: Float64Array, n: number, x: Float64Array, k: number, i0: number, i1: number, lower: boolean): void {
  for (let step = i0; step < i1; step++) {
    const i = lower ? step : i1 - 1 - (step - i0);
    const row = i * k;
    const [j0, j1] = lower ? [i0, i] : [i + 1, i1];
    // x_i -= T(i, j) x_j over whole rows of X, contiguous in memory.
    for (let j = j0; j < j1; j++) {
      const coef = op[i * n + j];
      if (coef === 0) continue;
      const other = j * k;
      for (let c = 0; c < k; c++) x[row + c] -= coef * x[other + c];
    }
    const d = op[i * n + i];
    for (let c = 0; c < k; c++) x[row + c] /= d;
  }
}

/** The [r1 - r0, c1 - c0] block of a row-major [n, n] matrix, as a contiguous copy. */
function copyBlock(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(a.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return out;
}

function transposeSquare(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j];
  return out;
}

export const hostLinalg: HostLinalg = { cholesky, eigh, solveTriangular };
