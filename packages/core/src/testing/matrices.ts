/**
 * Small float64 helpers the suites compare with: norms, the matrix apply computes (from unit
 * vectors, never toDense, so the two can be checked against each other), and the entry where
 * two matrices differ most, for messages that point at an index.
 */

export const norm = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

export const distance = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

export { matrixOfApply } from '../operators/dense-of.js';

/** The entry (i, j) where a and b differ most (NaN counts as the largest difference). */
export function worstEntry(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { i: number; j: number; a: number; b: number } {
  let worst = -1;
  let at = 0;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k] - b[k]);
    const size = Number.isNaN(d) ? Infinity : d;
    if (size > worst) [worst, at] = [size, k];
  }
  return { i: Math.floor(at / n), j: at % n, a: a[at], b: b[at] };
}

/** The transpose of a row-major [n, n] matrix. */
export function transposed(m: ArrayLike<number>, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  return t;
}

/** (M + M^T) / 2: the part of M a quadratic form x^T M x sees. */
export function symmetricPart(m: ArrayLike<number>, n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
  return s;
}
