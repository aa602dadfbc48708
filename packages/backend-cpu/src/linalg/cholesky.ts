/**
 * Blocked Cholesky factorization A = L L^T on the WebAssembly kernels, row-major, lower
 * triangle, right-looking (LAPACK's dpotrf): for each block column of nb columns, factor the
 * diagonal block (unblocked, assembly/cholesky.ts), solve the rows below it against L11^T
 * (threads take blocks of rows), and update the trailing matrix A22 -= L21 L21^T through the
 * strided gemm on its lower triangle only (n^3 / 3 flops in all, almost all of them there).
 */
import { NotPositiveDefiniteError } from '@mats/core';
import type { KernelLinalg } from './kernel-linalg.js';

/** Columns per block: the trailing update is a gemm of depth NB. */
const NB = 128;

/**
 * L [n, n] (row-major, zeros above the diagonal) with A = L L^T, computed in the linalg's
 * dtype. Reads the lower triangle of A only. Throws NotPositiveDefiniteError naming the first
 * pivot that is not positive (or not finite).
 */
export function kernelCholesky(la: KernelLinalg, a: ArrayLike<number>, n: number): Float64Array {
  const base = la.alloc(n * n);
  try {
    const at = base / la.s;
    la.view().set(a, at);
    factorInPlace(la, base, n);
    const v = la.view();
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const row = at + i * n;
      for (let j = 0; j <= i; j++) l[i * n + j] = v[row + j];
    }
    return l;
  } finally {
    la.free(base);
  }
}

/**
 * The lower triangle of the [n, n] matrix at byte address base (row stride n) <- L, in place;
 * the entries above the diagonal keep A's. Throws NotPositiveDefiniteError as kernelCholesky.
 */
export function factorInPlace(la: KernelLinalg, base: number, n: number): void {
  const s = la.s;
  const at = base / s;
  for (let k0 = 0; k0 < n; k0 += NB) {
    const kb = Math.min(NB, n - k0);
    const diag = base + (k0 * n + k0) * s;
    const pivot = la.choleskyBlock(diag, n, kb);
    if (pivot >= 0) {
      const value = la.view()[at + (k0 + pivot) * n + k0 + pivot];
      throw new NotPositiveDefiniteError(k0 + pivot, value, n);
    }
    const m = n - k0 - kb;
    if (m === 0) break;
    const below = base + ((k0 + kb) * n + k0) * s;
    la.trsmRows(m, kb, diag, n, below, n);
    const trailing = base + ((k0 + kb) * n + k0 + kb) * s;
    la.gemm(false, true, m, m, kb, -1, below, n, below, n, 1, trailing, n, 'lower');
  }
}
