/**
 * When PCG can make no more progress, and what tolerance it could have met.
 *
 * - The rounding floor. The true residual fl(b - A x) of the best representable x is about
 *   u (||b|| + ||A x||), u the unit roundoff of the storage dtype (Higham, Accuracy and
 *   Stability of Numerical Algorithms, 2nd ed., §7.1 and §17; Greenbaum 1997 for CG's
 *   attainable accuracy): no iteration gets below it, and past it the recursive residual
 *   only drifts. Measured on float32 systems (diagonal, Kronecker sums, dense): the true
 *   residual settles at 0.3-1 times that estimate, so FLOOR_FACTOR = 8 leaves room for
 *   longer dot products while losing at most a factor of 8 of an accuracy the dtype cannot
 *   deliver anyway.
 * - No progress: the true residual has not fallen 1% below its last mark for `window`
 *   iterations (an ill-conditioned system whose floor lies above the estimate, cancellation
 *   in A x; a singular system with b outside the range). Marks come from true residuals only:
 *   the recursive one can drift below the true one for ever.
 * - Divergence: in exact arithmetic ||r_k|| <= sqrt(kappa(A)) min_{j<k} ||r_j|| for CG on an
 *   SPD system (||r|| <= sqrt(lambda_max) ||e||_A and the A-norm error never grows), so a
 *   residual 1e8 times the best true one seen means the recurrences have lost their way
 *   (kappa > 1e16 is beyond any dtype here), typically at the floor, heading for overflow.
 */
import type { DType } from '../backend/backend.js';
import { unitRoundoff } from '../testing/tolerance.js';

/** Why a solve stagnated, for its message. */
export interface Stagnation {
  kind: 'floor' | 'window' | 'diverged';
  iteration: number;
  /** u (||b|| + ||A x||) at the last true residual. */
  floor: number;
  window?: number;
}

export const FLOOR_FACTOR = 8;
/** A residual must fall below (1 - margin) times the last mark to count as progress. */
export const PROGRESS_MARGIN = 0.01;
export const DEFAULT_STAGNATION_WINDOW = 100;
export const DIVERGENCE_FACTOR = 1e8;
/** Iterations between two floor checks triggered by the recursive residual (each costs an apply). */
export const FLOOR_CHECK_SPACING = 10;

/** u (||b|| + ||A x||): the size of the rounding error in a computed residual b - A x. */
export function roundingFloor(bNorm: number, axNorm: number, dtype: DType): number {
  return unitRoundoff(dtype) * (bNorm + axNorm);
}

export function atRoundingFloor(rNorm: number, bNorm: number, axNorm: number, dtype: DType): boolean {
  return rNorm <= FLOOR_FACTOR * roundingFloor(bNorm, axNorm, dtype);
}

export function improves(rNorm: number, mark: number): boolean {
  return rNorm < (1 - PROGRESS_MARGIN) * mark;
}

export function diverged(rNorm: number, bestTrueNorm: number): boolean {
  return rNorm > DIVERGENCE_FACTOR * bestTrueNorm;
}

/**
 * The tolerance this solve showed it can meet, rounded up to one significant digit: the
 * relative residual of the best iterate (never below the floor's).
 */
export function reachableRtol(bestNorm: number, bNorm: number, floor: number): number {
  const relative = Math.max(bestNorm, floor) / bNorm;
  if (!(relative > 0) || !Number.isFinite(relative)) return relative;
  const exponent = Math.floor(Math.log10(relative));
  const mantissa = Math.ceil(relative / 10 ** exponent - 1e-9);
  return mantissa >= 10 ? 10 ** (exponent + 1) : mantissa * 10 ** exponent;
}
