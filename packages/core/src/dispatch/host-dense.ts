/**
 * Float64 host arithmetic on the small dense factors (K-FAC factors, Grams): the one-off work
 * behind a closed form or a preconditioner, done once per operator. Whole parameter vectors
 * never come here; they stay on the backend.
 */
import type { HostLinalg } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';

/** C = A B, A [m, k], B [k, n], row-major (i-p-j order: the inner loop runs along rows). */
export function hostMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
  return c;
}

/** M^T, M [rows, cols]. */
export function hostTranspose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

/** (M + M^T) / 2 in place: inverses computed through triangular solves are symmetric only up to rounding. */
export function symmetrize(m: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
  return m;
}

export function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** Sum of weights[i] * mats[i], each [n, n]. */
export function weightedSum(mats: readonly Float64Array[], weights: readonly number[]): Float64Array {
  const out = new Float64Array(mats[0].length);
  mats.forEach((m, i) => {
    const w = weights[i];
    for (let j = 0; j < out.length; j++) out[j] += w * m[j];
  });
  return out;
}

/**
 * The [m, m] matrix of Frobenius inner products <F_i, F_j> of m factors of one size: the
 * backend's gram where it has one (the CPU backend reads each factor once, on every core),
 * else pair by pair.
 */
export function gramOfFactors(linalg: HostLinalg, factors: readonly Float64Array[]): Float64Array {
  if (linalg.gram) return linalg.gram(factors);
  const m = factors.length;
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) out[i * m + j] = out[j * m + i] = frobeniusDot(factors[i], factors[j]);
  return out;
}

/** sum_ij A_ij B_ij: the Frobenius inner product <A, B> = tr(A^T B). */
export function frobeniusDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * A^-1 of a symmetric positive definite A [n, n] by Cholesky: A^-1 = L^-T L^-1, by the
 * backend's spdInverse where it has one (the CPU backend's runs LAPACK dpotri's steps on its
 * kernels), else by two triangular solves against the identity.
 * Throws NotPositiveDefiniteError (naming the pivot) when A is not positive definite.
 */
export function spdInverse(linalg: HostLinalg, a: Float64Array, n: number): Float64Array {
  if (linalg.spdInverse) return linalg.spdInverse(a, n);
  const l = linalg.cholesky(a, n);
  const lInv = linalg.solveTriangular(l, n, identity(n), n, { lower: true });
  return symmetrize(linalg.solveTriangular(l, n, lInv, n, { lower: true, transpose: true }), n);
}

const NULL_CUTOFF_MIN_ORDER = 32;

/** psdCutoff / lambda_max for an [n, n] matrix: max(n, 32) eps. */
export function nullCutoffRatio(n: number, unitRoundoff: number): number {
  return Math.max(n, NULL_CUTOFF_MIN_ORDER) * 2 * unitRoundoff;
}

/**
 * The eigenvalue at or below which a psd matrix's direction counts as null: numpy's
 * matrix_rank rule, n eps lambda_max (eps = 2u, the dtype's machine epsilon), with n at least
 * NULL_CUTOFF_MIN_ORDER: a null direction of a psd matrix formed in floating point (Q diag Q^T,
 * B B^T, a sum of such) comes out with an eigenvalue of either sign a few n u lambda_max in
 * size, which the plain rule keeps for small n. Throws NotPositiveDefiniteError when an
 * eigenvalue lies below -16 times the cutoff: indefinite, not merely singular.
 */
export function psdCutoff(values: Float64Array, unitRoundoff: number): number {
  const n = values.length;
  if (n === 0) return 0;
  const cutoff = nullCutoffRatio(n, unitRoundoff) * Math.max(Math.abs(values[0]), Math.abs(values[n - 1]));
  if (values[0] < -16 * cutoff) throw new NotPositiveDefiniteError(0, values[0], n);
  return cutoff;
}

/**
 * The Moore-Penrose pseudo-inverse of a symmetric positive semi-definite A [n, n], through
 * its eigendecomposition: eigenvalues at most psdCutoff (about n eps lambda_max, eps of the
 * dtype the data is computed in) count as zero, as in numpy's matrix_rank rule. The
 * minimum-norm least-squares solve of a singular system, e.g. a sum of input Grams where some
 * input feature never fires: the reference RegMean code leaves such features at zero, and so
 * does this. Throws NotPositiveDefiniteError when A is indefinite, not merely singular
 * (psdCutoff).
 */
export function psdPseudoInverse(linalg: HostLinalg, a: Float64Array, n: number, unitRoundoff: number): { inverse: Float64Array; dropped: number } {
  const { values, vectors } = linalg.eigh(a, n);
  const cutoff = psdCutoff(values, unitRoundoff);
  // inverse = V diag(1 / lambda, kept) V^T
  const scaled = new Float64Array(n * n);
  let dropped = 0;
  for (let j = 0; j < n; j++) {
    const keep = values[j] > cutoff;
    if (!keep) dropped++;
    const w = keep ? 1 / values[j] : 0;
    for (let i = 0; i < n; i++) scaled[i * n + j] = vectors[i * n + j] * w;
  }
  return { inverse: symmetrize(hostMatmul(scaled, hostTranspose(vectors, n, n), n, n, n), n), dropped };
}

/**
 * A^-1 by Cholesky, or undefined when A is not positive definite to working accuracy: a pivot
 * <= 0, or cond(A) >= max_i A_ii * max_i (A^-1)_ii above 1 / (n u) (u = 2^-53), where the
 * computed inverse need not be positive definite. A numerically singular sum of input Grams
 * (the demo's pixels: eigenvalues ~1e-17 of 1e2) passes the Cholesky with pivots ~1e-7 and its
 * "inverse" made PCG break down (r^T M r < 0); the pivots alone do not show it.
 */
function accurateSpdInverse(linalg: HostLinalg, a: Float64Array, n: number): Float64Array | undefined {
  let inverse: Float64Array;
  try {
    inverse = spdInverse(linalg, a, n);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) return undefined;
    throw e;
  }
  let aMax = 0;
  let inverseMax = 0;
  for (let i = 0; i < n; i++) {
    aMax = Math.max(aMax, a[i * n + i]);
    inverseMax = Math.max(inverseMax, inverse[i * n + i]);
  }
  return aMax * inverseMax * n * 2 ** -53 < 1 ? inverse : undefined;
}

/**
 * The inverse of A + delta I, with delta = 0 when A is positive definite to working accuracy,
 * otherwise the smallest of 1e-10, 1e-8, ..., 1e-2 times mean(diag A) that makes it so. For
 * preconditioners, where an approximate inverse is all that is needed, a singular factor (an
 * input feature that never fires) must not stop the solve. Throws IndefiniteMatrixError when
 * no damping up to 1e-2 mean(diag A) makes it positive definite.
 */
export function dampedSpdInverse(linalg: HostLinalg, a: Float64Array, n: number): { inverse: Float64Array; damping: number } {
  const exact = accurateSpdInverse(linalg, a, n);
  if (exact !== undefined) return { inverse: exact, damping: 0 };
  let trace = 0;
  for (let i = 0; i < n; i++) trace += Math.abs(a[i * n + i]);
  const scale = trace > 0 ? trace / n : 1;
  for (let exponent = -10; exponent <= -2; exponent += 2) {
    const delta = scale * 10 ** exponent;
    const shifted = Float64Array.from(a);
    for (let i = 0; i < n; i++) shifted[i * n + i] += delta;
    const inverse = accurateSpdInverse(linalg, shifted, n);
    if (inverse !== undefined) return { inverse, damping: delta };
  }
  throw new IndefiniteMatrixError(
    `matrix [${n}, ${n}] is not positive semi-definite: even with damping 1e-2 mean(diag) it has a ` +
      `pivot <= 0, so it is indefinite; check the statistics it came from`,
  );
}

/** A matrix that must be positive semi-definite (a preconditioner's factor) is indefinite. */
export class IndefiniteMatrixError extends RangeError {
  override readonly name = 'IndefiniteMatrixError';
}
