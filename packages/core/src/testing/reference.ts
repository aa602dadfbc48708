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

/** y = M x for a row-major [n, n] matrix. */
export function referenceMatVec(m: ArrayLike<number>, x: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += m[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

/**
 * The matrix of W -> G W A on an [rows, cols] block flattened row-major (DESIGN.md §3):
 * entry [(r, c), (r2, c2)] = G[r, r2] A[c2, c].
 */
export function referenceKronecker(g: ArrayLike<number>, a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const m = new Float64Array(n * n);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let r2 = 0; r2 < rows; r2++)
        for (let c2 = 0; c2 < cols; c2++) m[(r * cols + c) * n + r2 * cols + c2] = g[r * rows + r2] * a[c2 * cols + c];
  return m;
}

/** Solves A x = b for a symmetric positive definite A [n, n] by Cholesky, in float64. */
export function referenceSpdSolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let p = 0; p < j; p++) d -= l[j * n + p] ** 2;
    if (!(d > 0)) throw new Error(`referenceSpdSolve: matrix is not positive definite (pivot ${j} = ${d})`);
    l[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
      l[i * n + j] = s / l[j * n + j];
    }
  }
  const y = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) y[i] -= l[i * n + p] * y[p];
    y[i] /= l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) y[i] -= l[p * n + i] * y[p];
    y[i] /= l[i * n + i];
  }
  return y;
}

/**
 * Eigenvalues (ascending) and unit eigenvectors (columns of a row-major [n, n] matrix) of a
 * symmetric matrix, by the cyclic Jacobi method (Golub & Van Loan §8.5): slow, simple, accurate.
 */
export function referenceSymmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[x * n + x] - m[y * n + y]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = m[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}
