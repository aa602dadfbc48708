/**
 * The factorizations in plain TypeScript, for runtimes without the WebAssembly kernels (a
 * browser bundle, MATS_CPU_KERNELS=typescript) and as references: Cholesky row by row
 * (Cholesky-Banachiewicz) and ml-matrix's symmetric eigensolver (Householder
 * tridiagonalisation + implicit QL, from JAMA), which the tests and the bench compare ours with;
 * the inverse of an SPD matrix (dpotri's steps, unblocked) and the Gram of vectors, pair by pair.
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

/**
 * A^-1 of a symmetric positive definite A (reads its lower triangle), exactly symmetric, in
 * LAPACK dpotri's steps without blocking: L = chol(A), X = L^-1 row by row (X[i, j] =
 * -sum_{k=j}^{i-1} L[i, k] X[k, j] / L[i, i]), A^-1 = X^T X on the lower triangle.
 */
export function portableSpdInverse(a: ArrayLike<number>, n: number): Float64Array {
  const x = portableCholesky(a, n);
  for (let i = 0; i < n; i++) {
    const d = 1 / x[i * n + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s += x[i * n + k] * x[k * n + j];
      x[i * n + j] = -d * s;
    }
    x[i * n + i] = d;
  }
  // (X^T X)[i, j] = sum_{k >= i} X[k, i] X[k, j] for j <= i: rank-one updates by rows of X.
  const inverse = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i <= k; i++) {
      const xki = x[k * n + i];
      if (xki === 0) continue;
      for (let j = 0; j <= i; j++) inverse[i * n + j] += xki * x[k * n + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) inverse[j * n + i] = inverse[i * n + j];
  return inverse;
}

/** The Gram G[i, j] = <v_i, v_j> of vectors of one length, pair by pair; exactly symmetric. */
export function portableGram(vectors: readonly ArrayLike<number>[], length: number): Float64Array {
  const m = vectors.length;
  const g = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < length; k++) sum += vectors[i][k] * vectors[j][k];
      g[i * m + j] = g[j * m + i] = sum;
    }
  }
  return g;
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
