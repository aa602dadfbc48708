/**
 * Householder reduction of a symmetric matrix to tridiagonal form, A = Q T Q^T, blocked as
 * LAPACK's dsytrd with uplo = 'L' (Dongarra, Hammarling and Sorensen, "Block reduction of
 * matrices to condensed forms for eigenvalue computations", 1989).
 *
 * Everything is in LAPACK's column-major terms on the kernel memory (A at address `a`, order
 * n, leading dimension n): column c is contiguous there, which is row c of a row-major array,
 * so a symmetric input needs no transpose, and the column-major lower triangle used here is
 * the row-major upper one.
 *
 * Each panel of NB columns (dlatrd) generates NB reflectors H(i) = I - tau_i v_i v_i^T with
 * one symmetric matrix-vector product each (the memory-bound half of the n^3 * 4/3 flops,
 * threaded), accumulating W so that the trailing matrix is then updated once, by the rank-2k
 * update A22 -= V W^T + W V^T (the gemm half, lower triangle only). On return column i of A
 * holds v_i below the subdiagonal (v_i[i + 1] = 1 is implicit), tau[i] its scale, d the
 * diagonal and e the subdiagonal of T.
 */
import type { KernelLinalg } from './kernel-linalg.js';

/** Reflectors per panel: the depth of the rank-2k update is 2 NB. */
export const TRIDIAGONAL_NB = 32;

export interface Tridiagonal {
  /** [n] diagonal of T. */
  d: Float64Array;
  /** [n - 1] subdiagonal of T. */
  e: Float64Array;
  /** [n - 1] scales of the reflectors. */
  tau: Float64Array;
}

export function tridiagonalize(la: KernelLinalg, a: number, n: number): Tridiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  const tau = new Float64Array(Math.max(0, n - 1));
  const s = la.s;
  const nb = TRIDIAGONAL_NB;
  const w = la.alloc(n * nb);
  const x = la.alloc(n * 3 * nb);
  const tmp = la.alloc(2 * nb);
  const symvWork = la.alloc(la.symvWorkElements(n));
  try {
    let k = 0;
    // Blocked panels while the trailing matrix is large enough to pay for the update.
    for (; n - k > 2 * nb; k += nb) {
      const order = n - k;
      const sub = a + (k * n + k) * s;
      panel(la, sub, n, order, nb, d, e, tau, k, w, tmp, symvWork);
      // A22 -= V W^T + W V^T over rows/columns nb..order of the panel's submatrix, as one gemm
      // of depth 2 nb: [V W] [W V]^T with X = [V | W | V] (m rows each, leading dimension m).
      const m = order - nb;
      const v = la.view();
      const xi = x / s;
      for (let c = 0; c < nb; c++) {
        const vCol = (sub + (c * n + nb) * s) / s;
        const wCol = (w + (c * order + nb) * s) / s;
        v.copyWithin(xi + c * m, vCol, vCol + m);
        v.copyWithin(xi + (nb + c) * m, wCol, wCol + m);
        v.copyWithin(xi + (2 * nb + c) * m, vCol, vCol + m);
      }
      la.colGemm(false, true, m, m, 2 * nb, -1, x, m, x + nb * m * s, m, 1, sub + (nb * n + nb) * s, n, 'lower');
    }
    // The rest unblocked: one panel over every remaining column, no trailing update after it.
    panel(la, a + (k * n + k) * s, n, n - k, n - k, d, e, tau, k, w, tmp, symvWork);
  } finally {
    la.free(symvWork);
    la.free(tmp);
    la.free(x);
    la.free(w);
  }
  return { d, e, tau };
}

/**
 * LAPACK's dlatrd (uplo = 'L') on the order-N submatrix at `sub` (leading dimension lda):
 * reduces its first nb columns, writing W [N, nb] (leading dimension N) for the caller's
 * rank-2k update; d, e and tau are written at offset k.
 */
function panel(
  la: KernelLinalg,
  sub: number,
  lda: number,
  order: number,
  nb: number,
  d: Float64Array,
  e: Float64Array,
  tau: Float64Array,
  k: number,
  w: number,
  tmp: number,
  symvWork: number,
): void {
  const s = la.s;
  const ai = sub / s;
  const wi = w / s;
  const ti = tmp / s;
  const N = order;
  for (let i = 0; i < nb; i++) {
    const col = sub + (i * lda + i) * s; // A(i:N, i)
    if (i > 0) {
      // A(i:N, i) -= A(i:N, 0:i) W(i, 0:i)^T + W(i:N, 0:i) A(i, 0:i)^T
      const v = la.view();
      for (let j = 0; j < i; j++) {
        v[ti + j] = v[wi + j * N + i]; // W(i, j)
        v[ti + nb + j] = v[ai + j * lda + i]; // A(i, j)
      }
      la.axpyRows(i, N - i, sub + i * s, lda, tmp, col, -1);
      la.axpyRows(i, N - i, w + i * s, N, tmp + nb * s, col, -1);
    }
    d[k + i] = la.view()[ai + i * lda + i];
    if (i >= N - 1) continue;
    // The reflector H(i) that annihilates A(i+2:N, i).
    const m = N - i - 1; // length of v = A(i+1:N, i)
    const vAddr = col + s;
    const { beta, scale } = householder(la, vAddr, m);
    e[k + i] = beta;
    tau[k + i] = scale;
    la.view()[vAddr / s] = 1;
    // W(i+1:N, i) = tau (A(i+1:N, i+1:N) v - V W^T v - W V^T v), then the correction
    // - tau/2 (w . v) v that makes the rank-2 update exact (dlatrd).
    const wCol = w + (i * N + i + 1) * s; // W(i+1:N, i)
    const wTop = w + i * N * s; // W(0:i, i)
    la.symv(m, col + (lda + 1) * s, lda, vAddr, wCol, symvWork);
    if (i > 0) {
      la.dotRows(i, m, w + (i + 1) * s, N, vAddr, wTop, 1, 0); // W(i+1:N, 0:i)^T v
      la.axpyRows(i, m, sub + (i + 1) * s, lda, wTop, wCol, -1); // -= A(i+1:N, 0:i) (...)
      la.dotRows(i, m, sub + (i + 1) * s, lda, vAddr, wTop, 1, 0); // A(i+1:N, 0:i)^T v
      la.axpyRows(i, m, w + (i + 1) * s, N, wTop, wCol, -1); // -= W(i+1:N, 0:i) (...)
    }
    la.scal(m, scale, wCol);
    const alpha = -0.5 * scale * la.dot(m, wCol, vAddr);
    la.axpy(m, alpha, vAddr, wCol);
  }
}

/**
 * LAPACK's dlarfg on the vector x = [alpha; rest] of length m at `x`: the reflector
 * H = I - tau v v^T with H x = [beta; 0], v[0] = 1. Leaves v[1:] in place of rest and returns
 * beta and tau (tau = 0, H = I, when rest is already zero). The input is scaled to a norm of
 * order one (eigh.ts), so the norm needs no guard against over- and underflow.
 */
function householder(la: KernelLinalg, x: number, m: number): { beta: number; scale: number } {
  const s = la.s;
  const alpha = la.view()[x / s];
  if (m <= 1) return { beta: alpha, scale: 0 };
  const restNorm2 = la.dot(m - 1, x + s, x + s);
  if (restNorm2 === 0) return { beta: alpha, scale: 0 };
  const norm = Math.sqrt(alpha * alpha + restNorm2);
  const beta = alpha >= 0 ? -norm : norm;
  la.scal(m - 1, 1 / (alpha - beta), x + s);
  return { beta, scale: (beta - alpha) / beta };
}
