/**
 * A^-1 of a symmetric positive definite A on the WebAssembly kernels, in LAPACK's dpotri
 * steps, all in the kernel memory and almost all flops through the strided gemm on every core:
 *   1. A = L L^T, the blocked Cholesky (cholesky.ts), n^3 / 3 flops;
 *   2. L <- L^-1, the blocked triangular inverse (dtrtri, lower), n^3 / 3 flops;
 *   3. A^-1 = L^-T L^-1 on the lower triangle (dlauum), n^3 / 3 flops.
 * The two triangular solves against the identity it replaces cost n^3 flops more and ran their
 * diagonal blocks in TypeScript. Flops counted as multiply and add.
 */
import { factorInPlace } from './cholesky.js';
import type { KernelLinalg } from './kernel-linalg.js';

/** Rows per block of the triangular inverse and of the product L^-T L^-1 (a gemm depth). */
const NB = 128;

/**
 * A^-1 [n, n] (row-major, exactly symmetric) of the symmetric positive definite A [n, n],
 * computed in the linalg's dtype. Reads the lower triangle of A only. Throws
 * NotPositiveDefiniteError naming the first pivot that is not positive (or not finite).
 */
export function kernelSpdInverse(la: KernelLinalg, a: ArrayLike<number>, n: number): Float64Array {
  const base = la.alloc(n * n);
  let product = 0;
  try {
    const at = base / la.s;
    la.view().set(a, at);
    factorInPlace(la, base, n);
    // The blocked steps below multiply whole blocks of rows: the triangle above the diagonal
    // (still A's entries) must read as zeros.
    const v = la.view();
    for (let i = 0; i < n - 1; i++) v.fill(0, at + i * n + i + 1, at + (i + 1) * n);
    invertLowerInPlace(la, base, n);
    product = la.alloc(n * n);
    lowerGramInto(la, base, n, product);
    return symmetricFromLower(la.view(), product / la.s, n);
  } finally {
    if (product) la.free(product);
    la.free(base);
  }
}

/**
 * The lower triangular L [n, n] at base (row stride n, zeros above the diagonal) <- L^-1, in
 * place (dtrtri, lower): block columns from the last, so that when block column j0 is done,
 * the trailing L22^-1 is already in place:
 *   X11 = L11^-1 (unblocked),   X21 = -L22^-1 L21 X11.
 * L21 X11 goes through a scratch T; L22^-1 T by block rows, each over the columns up to its
 * diagonal (L22^-1 is triangular: half the flops of one full gemm).
 */
export function invertLowerInPlace(la: KernelLinalg, base: number, n: number): void {
  const s = la.s;
  const at = (i: number, j: number) => base + (i * n + j) * s;
  const last = Math.floor((n - 1) / NB) * NB;
  const scratch = n > NB ? la.alloc((n - NB) * NB) : 0;
  try {
    for (let j0 = last; j0 >= 0; j0 -= NB) {
      const jb = Math.min(NB, n - j0);
      la.triangularInverseBlock(at(j0, j0), n, jb);
      const m = n - j0 - jb;
      if (m === 0) continue;
      // T [m, jb] = L21 X11, then L21 <- -L22^-1 T, block row by block row.
      la.gemm(false, false, m, jb, jb, 1, at(j0 + jb, j0), n, at(j0, j0), n, 0, scratch, jb);
      for (let r0 = 0; r0 < m; r0 += NB) {
        const r1 = Math.min(m, r0 + NB);
        la.gemm(false, false, r1 - r0, jb, r1, -1, at(j0 + jb + r0, j0 + jb), n, scratch, jb, 0, at(j0 + jb + r0, j0), n);
      }
    }
  } finally {
    if (scratch) la.free(scratch);
  }
}

/**
 * The lower triangle of X^T X [n, n] into out (row stride n), for the lower triangular X [n,
 * n] at base (zeros above the diagonal) (dlauum): block row R = [r0, r1) of X is nonzero only
 * in columns < r1, so it adds X[R, 0:r1]^T X[R, 0:r1] to the leading [r1, r1] block. Blocks
 * run from the last, whose product covers all of out and so initialises it (beta 0).
 */
export function lowerGramInto(la: KernelLinalg, base: number, n: number, out: number): void {
  const s = la.s;
  const last = Math.floor((n - 1) / NB) * NB;
  for (let r0 = last; r0 >= 0; r0 -= NB) {
    const r1 = Math.min(n, r0 + NB);
    const row = base + r0 * n * s;
    la.gemm(true, false, r1, r1, r1 - r0, 1, row, n, row, n, r0 === last ? 0 : 1, out, n, 'lower');
  }
}

/** Tiles of the mirror below: a tile's rows and columns stay in cache while it is transposed. */
const MIRROR_TILE = 64;

/** The symmetric [n, n] matrix whose lower triangle is the one at element offset `at` of v (row stride n). */
function symmetricFromLower(v: Float64Array | Float32Array, at: number, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out.set(v.subarray(at + i * n, at + i * n + i + 1), i * n);
  for (let i0 = 0; i0 < n; i0 += MIRROR_TILE) {
    const i1 = Math.min(n, i0 + MIRROR_TILE);
    for (let j0 = 0; j0 <= i0; j0 += MIRROR_TILE) {
      for (let i = i0; i < i1; i++) {
        const j1 = Math.min(i, j0 + MIRROR_TILE);
        for (let j = j0; j < j1; j++) out[j * n + i] = out[i * n + j];
      }
    }
  }
  return out;
}
