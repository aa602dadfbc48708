/**
 * The extreme eigenvalues of a symmetric matrix, estimated by the Lanczos method (Golub and
 * Van Loan, Matrix Computations, 4th ed., §10.1) with full reorthogonalisation: k products with
 * the matrix build an orthonormal basis Q of the Krylov space and the tridiagonal
 * T = Q^T A Q, whose eigenvalues (Ritz values) approach A's extremes from inside:
 * lambda_min(A) <= theta_min and theta_max <= lambda_max(A). So theta_max / theta_min is a lower
 * bound on A's condition number, exact when k reaches n (or the Krylov space closes).
 *
 * For diagnostics: k = 60 products of an [n, n] matrix cost 60 n^2, where a full
 * eigendecomposition of the 785 x 785 sum of input Grams costs seconds.
 */
import { mulberry32 } from '../testing/random.js';

export interface SpectrumEstimate {
  /** Smallest Ritz value: an upper bound on lambda_min (equal when `exact`). */
  readonly min: number;
  /** Largest Ritz value: a lower bound on lambda_max (equal when `exact`). */
  readonly max: number;
  /** Products with the matrix used. */
  readonly steps: number;
  /** True when the Krylov space is the whole space (or an invariant subspace holding the start vector). */
  readonly exact: boolean;
}

/**
 * Extreme eigenvalue estimates of the symmetric [n, n] map `apply` (out <- A x on host float64
 * arrays of length n) after at most `steps` Lanczos steps from a fixed pseudo-random start
 * vector (seeded: the same answer every run).
 */
export function lanczosExtremes(apply: (x: Float64Array, out: Float64Array) => void, n: number, steps = 60): SpectrumEstimate {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`lanczosExtremes: n must be a positive integer, got ${n}`);
  const k = Math.min(steps, n);
  const random = mulberry32(0x5eed);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = Float64Array.from({ length: n }, () => random() - 0.5);
  scaleTo(q, 1 / norm(q));
  const w = new Float64Array(n);
  let exact = k === n;
  for (let j = 0; j < k; j++) {
    basis.push(q);
    apply(q, w);
    alpha.push(dot(q, w));
    // Full reorthogonalisation (twice is enough, Parlett's "twice is enough"): w <- w - Q Q^T w.
    for (let pass = 0; pass < 2; pass++) for (const v of basis) axpy(-dot(v, w), v, w);
    const b = norm(w);
    if (j + 1 === k) break;
    // The Krylov space closed: an invariant subspace holds the start vector.
    if (b <= 1e-12 * Math.max(Math.abs(alpha[j]), ...beta.map(Math.abs), Number.MIN_VALUE)) {
      exact = true;
      break;
    }
    beta.push(b);
    q = Float64Array.from(w, (v) => v / b);
  }
  const ritz = tridiagonalEigenvalues(alpha, beta);
  return { min: Math.min(...ritz), max: Math.max(...ritz), steps: alpha.length, exact };
}

/** lanczosExtremes of a dense symmetric [n, n] row-major matrix. */
export function denseExtremes(a: ArrayLike<number>, n: number, steps = 60): SpectrumEstimate {
  if (a.length !== n * n) throw new RangeError(`denseExtremes: ${a.length} values for an [${n}, ${n}] matrix`);
  return lanczosExtremes(
    (x, out) => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = i * n;
        for (let j = 0; j < n; j++) s += a[row + j] * x[j];
        out[i] = s;
      }
    },
    n,
    steps,
  );
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix with diagonal d [m] and off-diagonal e [m-1]:
 * the implicit QL method with Wilkinson shifts (tqli, Numerical Recipes §11.4), values only.
 */
export function tridiagonalEigenvalues(diagonal: readonly number[], offDiagonal: readonly number[]): number[] {
  const m = diagonal.length;
  const d = [...diagonal];
  const e = [...offDiagonal, 0];
  for (let l = 0; l < m; l++) {
    for (let iteration = 0; ; iteration++) {
      let mm = l;
      for (; mm < m - 1; mm++) {
        const dd = Math.abs(d[mm]) + Math.abs(d[mm + 1]);
        if (Math.abs(e[mm]) <= Number.EPSILON * dd) break;
      }
      if (mm === l) break;
      if (iteration === 60) throw new Error('tridiagonalEigenvalues: no convergence in 60 QL iterations');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[mm] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = mm - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[mm] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[mm] = 0;
    }
  }
  return d;
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function norm(x: Float64Array): number {
  return Math.sqrt(dot(x, x));
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function scaleTo(x: Float64Array, a: number): void {
  for (let i = 0; i < x.length; i++) x[i] *= a;
}
