/**
 * Z <- Q Z for the Q = H(0) H(1) ... H(n-2) of tridiagonalize.ts: LAPACK's dormtr (side 'L',
 * uplo 'L', no transpose), blocked as dormqr. The reflectors are taken NB at a time, last block
 * first, each block as one I - V T V^T (dlarft, forward, columnwise) applied with three gemms:
 * Y = V^T Z, Y = T Y, Z -= V Y. 2 n^3 flops for n columns of Z, all in gemm.
 */
import type { KernelLinalg } from './kernel-linalg.js';

const NB = 64;

/**
 * a: the reflectors as left in the column-major [n, n] matrix by tridiagonalize; tau their
 * scales; z: the column-major [n, cols] matrix to transform in place (leading dimension n).
 */
export function applyReflectors(la: KernelLinalg, a: number, tau: Float64Array, n: number, z: number, cols: number): void {
  const reflectors = n - 1;
  if (reflectors <= 0 || cols === 0) return;
  const s = la.s;
  const vBuf = la.alloc(n * NB);
  const tBuf = la.alloc(NB * NB);
  const y = la.alloc(NB * cols);
  const ty = la.alloc(NB * cols);
  try {
    const first = Math.floor((reflectors - 1) / NB) * NB;
    for (let b = first; b >= 0; b -= NB) {
      const ib = Math.min(NB, reflectors - b);
      // Reflector b + jj acts on rows b + 1 .. n - 1: V [m, ib] column-major, rows relative to
      // b + 1, column jj = (0 .. 0, 1, A(b + jj + 2 : n, b + jj)).
      const m = n - b - 1;
      const v = la.view();
      const vi = vBuf / s;
      const ai = a / s;
      for (let jj = 0; jj < ib; jj++) {
        const col = vi + jj * m;
        v.fill(0, col, col + jj);
        v[col + jj] = 1;
        const src = ai + (b + jj) * n + b + jj + 2;
        v.copyWithin(col + jj + 1, src, src + (m - jj - 1));
      }
      formT(la, vBuf, m, ib, tau, b, tBuf);
      const zRows = z + (b + 1) * s; // Z(b+1 : n, :), leading dimension n
      la.colGemm(true, false, ib, cols, m, 1, vBuf, m, zRows, n, 0, y, ib);
      la.colGemm(false, false, ib, cols, ib, 1, tBuf, ib, y, ib, 0, ty, ib);
      la.colGemm(false, false, m, cols, ib, -1, vBuf, m, ty, ib, 1, zRows, n);
    }
  } finally {
    la.free(ty);
    la.free(y);
    la.free(tBuf);
    la.free(vBuf);
  }
}

/**
 * The upper triangular T [ib, ib] (column-major) with H(b) ... H(b+ib-1) = I - V T V^T
 * (LAPACK's dlarft, forward, columnwise): T(i, i) = tau_i and
 * T(0:i, i) = -tau_i T(0:i, 0:i) V(:, 0:i)^T v_i.
 */
function formT(la: KernelLinalg, vBuf: number, m: number, ib: number, tau: Float64Array, b: number, tBuf: number): void {
  const s = la.s;
  const ti = tBuf / s;
  la.view().fill(0, ti, ti + ib * ib);
  for (let i = 0; i < ib; i++) {
    const t = tau[b + i];
    // T(0:i, i) <- -tau_i V(:, 0:i)^T v_i, then times T(0:i, 0:i) (upper triangular, in place).
    if (i > 0) la.dotRows(i, m, vBuf, m, vBuf + i * m * s, tBuf + i * ib * s, -t, 0);
    const v = la.view();
    const col = ti + i * ib;
    for (let r = 0; r < i; r++) {
      let sum = 0;
      for (let c = r; c < i; c++) sum += v[ti + c * ib + r] * v[col + c];
      v[col + r] = sum;
    }
    v[col + i] = t;
  }
}
