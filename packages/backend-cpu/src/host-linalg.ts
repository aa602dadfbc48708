/**
 * Host factorizations in float64. The symmetric eigensolver is ml-matrix's (Householder
 * tridiagonalisation + implicit QL, from JAMA); Cholesky and the triangular solves are a few
 * loops of our own, because ml-matrix's Cholesky only says "not positive definite" without
 * naming the pivot, and copying into its array-of-rows Matrix costs more than the solve.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { NotPositiveDefiniteError, ShapeError, type HostLinalg, type SymmetricEigen } from '@mats/core';

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
  // Element (i, j) of op(T) sits at t[i * rs + j * cs]; solving with T^T of a lower T is
  // solving with an upper matrix.
  const rs = options.transpose ? 1 : n;
  const cs = options.transpose ? n : 1;
  const lower = options.transpose ? !options.lower : options.lower;
  for (let step = 0; step < n; step++) {
    const i = lower ? step : n - 1 - step;
    const row = i * k;
    const [j0, j1] = lower ? [0, i] : [i + 1, n];
    // Row-oriented: x_i -= T(i, j) x_j over whole rows of X, contiguous in memory.
    for (let j = j0; j < j1; j++) {
      const coef = t[i * rs + j * cs];
      if (coef === 0) continue;
      const other = j * k;
      for (let c = 0; c < k; c++) x[row + c] -= coef * x[other + c];
    }
    const d = t[i * rs + i * cs];
    for (let c = 0; c < k; c++) x[row + c] /= d;
  }
  return x;
}

export const hostLinalg: HostLinalg = { cholesky, eigh, solveTriangular };
