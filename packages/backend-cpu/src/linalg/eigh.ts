/**
 * The symmetric eigendecomposition A = V diag(values) V^T on the WebAssembly kernels, in the
 * steps of LAPACK's dsyevd: Householder tridiagonalisation (tridiagonalize.ts), divide and
 * conquer on the tridiagonal matrix (divide-conquer.ts), and the reflectors applied to its
 * eigenvectors (back-transform.ts). About 4.7 n^3 flops without deflation, most in gemm on
 * every core; the rest is one symmetric matrix-vector product per column, memory-bound.
 */
import type { SymmetricEigen } from '@mats/core';
import { applyReflectors } from './back-transform.js';
import { tridiagonalEigen } from './divide-conquer.js';
import type { KernelLinalg } from './kernel-linalg.js';
import { tridiagonalize } from './tridiagonalize.js';

/**
 * Eigenvalues (ascending) and unit eigenvectors (column j of the row-major `vectors` for
 * values[j]) of the symmetric A [n, n], computed in the linalg's dtype; only the upper
 * triangle of the row-major A is read (the lower of its column-major reading).
 */
export function kernelEigh(la: KernelLinalg, a: ArrayLike<number>, n: number): SymmetricEigen {
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  // Scale to a largest entry near 1 by a power of two (exact): no over- or underflow below.
  let largest = 0;
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) largest = Math.max(largest, Math.abs(a[i * n + j]));
  if (largest === 0 || !Number.isFinite(largest)) {
    if (!Number.isFinite(largest)) throw new RangeError(`eigh: the [${n}, ${n}] matrix has a non-finite entry`);
    const vectors = new Float64Array(n * n);
    for (let i = 0; i < n; i++) vectors[i * n + i] = 1;
    return { values: new Float64Array(n), vectors };
  }
  const scale = 2 ** -Math.round(Math.log2(largest));
  const s = la.s;
  const matrix = la.alloc(n * n);
  const z = la.alloc(n * n);
  try {
    const v = la.view();
    const mi = matrix / s;
    for (let i = 0; i < n * n; i++) v[mi + i] = a[i] * scale;
    const { d, e, tau } = tridiagonalize(la, matrix, n);
    const values = tridiagonalEigen(la, d, e, n, z);
    applyReflectors(la, matrix, tau, n, z, n);
    for (let i = 0; i < n; i++) values[i] /= scale;
    // Z is column-major: vectors[i * n + j] = Z(i, j).
    const out = la.view();
    const zi = z / s;
    const vectors = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const col = zi + j * n;
      for (let i = 0; i < n; i++) vectors[i * n + j] = out[col + i];
    }
    return { values, vectors };
  } finally {
    la.free(z);
    la.free(matrix);
  }
}
