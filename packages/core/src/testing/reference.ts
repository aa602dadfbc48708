/**
 * Plain float64 reference implementations: the ground truth the conformance suites compare
 * against. Written for obviousness, not speed.
 */
import type { Transpose } from '../backend/backend.js';

export function referenceDot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/**
 * C <- alpha op(A) op(B) + beta C in float64, together with the elementwise magnitude
 * |alpha| |op(A)| |op(B)| + |beta| |C| that rounding-error bounds are scaled by.
 */
export function referenceGemm(
  transA: Transpose,
  transB: Transpose,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  beta: number,
  c: ArrayLike<number>,
): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let sAbs = 0;
      for (let p = 0; p < k; p++) {
        const av = transA === 'N' ? a[i * k + p] : a[p * m + i];
        const bv = transB === 'N' ? b[p * n + j] : b[j * k + p];
        s += av * bv;
        sAbs += Math.abs(av * bv);
      }
      const cv = beta === 0 ? 0 : c[i * n + j];
      value[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * cv);
      magnitude[i * n + j] = Math.abs(alpha) * sAbs + (beta === 0 ? 0 : Math.abs(beta * cv));
    }
  }
  return { value, magnitude };
}

/** Row-major [m, k] x [k, n] product, float64. */
export function referenceMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  return referenceGemm('N', 'N', m, n, k, 1, a, b, 0, new Float64Array(0)).value;
}

export function referenceTranspose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}
