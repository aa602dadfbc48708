/**
 * The factorizations in plain TypeScript, for runtimes without the WebAssembly kernels (a
 * browser bundle, MATS_CPU_KERNELS=typescript) and as references: Cholesky row by row
 * (Cholesky-Banachiewicz) and ml-matrix's symmetric eigensolver (Householder
 * tridiagonalisation + implicit QL, from JAMA), which the tests and the bench compare ours with.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { NotPositiveDefiniteError, type SymmetricEigen } from '@mats/core';

/** Lower Cholesky factor, row by row; throws NotPositiveDefiniteError naming the pivot. */
export function portableCholesky(a: ArrayLike<number>, n: number): Float64Array {
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

/** ml-matrix's symmetric eigendecomposition, as SymmetricEigen (values ascending). */
export function portableEigh(a: ArrayLike<number>, n: number): SymmetricEigen {
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
