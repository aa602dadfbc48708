/**
 * The PCG contract (DESIGN.md §4; lineax and scipy are the models): options, result, statuses.
 */
import type { Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';

/**
 * How a solve ended. Every status comes with a message that says what to change.
 * - converged: ||b - A x|| <= max(atol, rtol ||b||), checked on the true residual of the
 *   returned x; never reported otherwise.
 * - leastSquares (closed forms of singular operators): x is the minimum-norm least-squares
 *   solution, and ||b - A x|| is above the tolerance because b has a part outside the range.
 * - stagnated: no more progress is possible (the true residual is at the dtype's rounding
 *   floor, has not decreased for stagnationWindow iterations, or diverged); x is the best iterate
 *   seen, and the message says which rtol the dtype reaches on this system.
 * - maxIterations: the iteration budget ran out first (the normal end in reference mode).
 * - breakdown: the preconditioner is not positive definite (r^T M r <= 0).
 * - indefinite: p^T A p <= 0, so A is not positive definite; no step was taken.
 * - nonFinite: NaN or Inf in the input or produced by the operator or the preconditioner.
 * - stopped: the callback or the AbortSignal stopped it; x is the last iterate.
 */
export type PcgStatus =
  | 'converged'
  | 'leastSquares'
  | 'stagnated'
  | 'maxIterations'
  | 'breakdown'
  | 'indefinite'
  | 'nonFinite'
  | 'stopped';

/**
 * Named preconditioners, chosen by dispatch once per call:
 * - none: plain CG;
 * - jacobi: the inverse of the exact diagonal (any operator with a diagonal);
 * - kronecker: for a Sum of Kroneckers, P = X (x) Y applied by two factor solves, with the
 *   approximation measured best (bench/src/pcg-iterations.ts); kronecker-nearest: X, Y the
 *   nearest Kronecker product in Frobenius norm (Van Loan); kronecker-sum: X = sum G_i,
 *   Y = sum A_i;
 * - auto: the best rule dispatch knows for the operator (an exact inverse where a closed
 *   form exists, kronecker for Sums of Kroneckers, jacobi where a diagonal exists, else none).
 */
export type PreconditionerName = 'none' | 'jacobi' | 'kronecker' | 'kronecker-nearest' | 'kronecker-sum' | 'auto';

/** A named preconditioner, or any operator approximating A^-1 (symmetric positive definite). */
export type PreconditionerChoice = PreconditionerName | LinearOperator;

/** What the callback sees after each iteration (one record, updated in place: copy what you keep). */
export interface PcgProgress {
  readonly iteration: number;
  /** ||r|| (the largest over the right-hand sides still running, in pcgMany). */
  readonly residualNorm: number;
  /** ||r|| per right-hand side; valid during the callback only (the array is reused). */
  readonly residualNorms: Float64Array;
}

/** The paper's solver (METHODS.md): see PcgOptions.reference. */
export interface ReferenceSettings {
  /** scipy's `tol` (default 1e-5). */
  tol?: number;
}

export interface PcgOptions {
  /** Initial guess (default zero), the block's shape or any shape of its size. Not modified. */
  x0?: Tensor;
  /** Relative tolerance on ||r|| / ||b|| (default 1e-5, scipy's). */
  rtol?: number;
  /** Absolute tolerance on ||r|| (default 0). Stop when ||r|| <= max(atol, rtol ||b||). */
  atol?: number;
  /** Iteration budget (default 10 n, scipy's; reference mode: 100, the paper's). */
  maxIterations?: number;
  /** Default 'none' for pcg, 'auto' for solve. */
  preconditioner?: PreconditionerChoice;
  /** Called after every iteration; return 'stop' to stop (status 'stopped'). */
  callback?: (progress: PcgProgress) => void | 'stop';
  /** Stops the solve at the next iteration once aborted (status 'stopped'). */
  signal?: AbortSignal;
  /**
   * Recompute the true residual b - A x every k iterations (default 50; 0 never): the
   * recursively updated residual drifts from the true one, in float32 above all. Convergence
   * is always confirmed on the true residual.
   */
  recomputeResidualEvery?: number;
  /**
   * Stop with 'stagnated' when the true residual has not fallen 1% below its last mark for
   * this many iterations (default 100; 0 never; it is computed when the window runs out). Whenever it is on, a true residual at the dtype's
   * rounding floor (about u (||b|| + ||A x||)) that still misses the tolerance also stops
   * the solve. Off in reference mode (the paper's solver has no such test).
   */
  stagnationWindow?: number;
  /**
   * Reproduce the paper's solver, scipy.sparse.linalg.cg before SciPy 1.12 as called by the
   * MaTS reference code: no preconditioner, a fixed iteration count (maxIterations, default
   * 100), scipy's legacy stopping rule: stop at once when ||b - A x0|| <= tol (absolute),
   * otherwise when the updated residual ||r|| <= tol ||b|| (tol when b = 0), rechecked on the
   * true residual after the first iteration; no periodic recomputation. rtol, atol and a
   * preconditioner cannot be combined with it.
   */
  reference?: boolean | ReferenceSettings;
}

/** pcgMany: several right-hand sides in lock-step, one x0 per right-hand side. */
export interface PcgManyOptions extends Omit<PcgOptions, 'x0'> {
  x0?: readonly Tensor[];
}

export interface PcgResult {
  /** The solution, in b's shape, a new tensor the caller owns. */
  x: Tensor;
  status: PcgStatus;
  /** What happened and, unless converged, what to change. */
  message: string;
  iterations: number;
  /** ||b - A x|| recomputed from the returned x. */
  residualNorm: number;
  /** ||b - A x0||. */
  initialResidualNorm: number;
  /** ||r|| after each iteration, history[0] the initial one; empty for a closed-form solve. */
  history: number[];
  /** The preconditioner that ran: 'none', 'jacobi', 'kronecker (nearest)', 'operator <kind>', ... */
  preconditioner: string;
  /** Anything the user should know: a damped factor, a pseudo-inverse, a fallback to PCG. */
  note?: string;
}
