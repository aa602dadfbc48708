/** The messages behind each PCG status: what happened, then what to change. */
import type { DType } from '../backend/backend.js';
import type { PcgStatus } from './pcg-types.js';
import { reachableRtol, type Stagnation } from './stagnation.js';

export interface StatusContext {
  iterations: number;
  residualNorm: number;
  threshold: number;
  bNorm: number;
  dtype: DType;
  reference: boolean;
  /** Status-specific detail: the offending value and where it arose. */
  detail: string;
  /** stagnated: why. */
  stagnation?: Stagnation | null;
  /** stagnated: the smallest true residual seen (that of the returned x). */
  bestNorm?: number;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));

export function statusMessage(status: PcgStatus, c: StatusContext): string {
  const relative = c.bNorm > 0 ? c.residualNorm / c.bNorm : c.residualNorm;
  switch (status) {
    case 'converged':
      return (
        `converged in ${c.iterations} iteration${c.iterations === 1 ? '' : 's'}: ` +
        `||r|| = ${fmt(c.residualNorm)} <= ${fmt(c.threshold)}${c.detail ? ` (${c.detail})` : ''}`
      );
    case 'maxIterations':
      if (c.reference) {
        return (
          `ran the fixed ${c.iterations} iterations of reference mode (the paper's solver); ` +
          `||r|| / ||b|| = ${fmt(relative)}`
        );
      }
      return (
        `stopped after ${c.iterations} iterations (maxIterations) with ||r|| = ${fmt(c.residualNorm)} ` +
        `(||r|| / ||b|| = ${fmt(relative)}), above ${fmt(c.threshold)}: raise maxIterations, loosen rtol/atol, ` +
        `or use a preconditioner ('auto', 'kronecker', 'jacobi')` +
        (c.dtype === 'float32' && relative < 1e-4
          ? '; float32 rarely gets ||r|| / ||b|| much below 1e-5: use float64 for tighter tolerances'
          : '')
      );
    case 'stagnated':
      return stagnatedMessage(c, relative);
    case 'leastSquares':
      return (
        `least-squares solution${c.detail ? ` (${c.detail})` : ''}: ||r|| = ${fmt(c.residualNorm)} (||r|| / ||b|| = ${fmt(relative)}) ` +
        `is above the tolerance ${fmt(c.threshold)} because b has a part outside the operator's range, which no solution can ` +
        `reduce: x is the minimum-norm least-squares solution (the pseudo-inverse's); add damping if every direction should be constrained`
      );
    case 'breakdown':
      return (
        `breakdown: ${c.detail}; the preconditioner must be symmetric positive definite ` +
        `(an approximation of A^-1): check it, or run without one`
      );
    case 'indefinite':
      return (
        `the operator is not positive definite: ${c.detail}. A sum of task subspaces should be ` +
        `positive semi-definite: check the statistics for negative or corrupted entries, add damping ` +
        `(a multiple of the identity), or choose another subspace`
      );
    case 'nonFinite':
      // In the loop, b and x0 were finite: the operator, the preconditioner or an overflow made it.
      return /iteration \d/.test(c.detail)
        ? `NaN or Inf ${c.detail}, from finite b and x0: the operator or the preconditioner produced it, or a value overflowed ` +
            `(float32 above all): check the operator's apply and factors`
        : `NaN or Inf ${c.detail}: check the inputs for NaN/Inf, or the factors for overflow (in float32 above all)`;
    case 'stopped':
      return `stopped ${c.detail} after ${c.iterations} iterations with ||r|| = ${fmt(c.residualNorm)}`;
  }
}

function stagnatedMessage(c: StatusContext, relative: number): string {
  const why = c.stagnation;
  if (!why) return `stagnated after ${c.iterations} iterations with ||r|| / ||b|| = ${fmt(relative)}`;
  const reach = reachableRtol(c.bestNorm ?? c.residualNorm, c.bNorm, why.kind === 'floor' ? why.floor : 0);
  const asked = `the tolerance asks for ||r|| <= ${fmt(c.threshold)} (||r|| / ||b|| <= ${fmt(c.threshold / c.bNorm)})`;
  const advice =
    `${c.dtype} reaches rtol ${reach.toExponential(0)} on this system: ask for rtol >= ${reach.toExponential(0)}` +
    (c.dtype === 'float32' ? ', or compute in float64' : ', or precondition or damp the system');
  const head = `stagnated at iteration ${why.iteration}`;
  const result = `x is the best iterate seen, ||r|| = ${fmt(c.residualNorm)} (||r|| / ||b|| = ${fmt(relative)})`;
  switch (why.kind) {
    case 'floor':
      return (
        `${head}: the residual is at ${c.dtype}'s rounding floor (u (||b|| + ||A x||) = ${fmt(why.floor)}), below which no ` +
        `iteration can go; ${asked}. ${result}. ${advice}`
      );
    case 'window':
      return (
        `${head}: the true residual has not decreased for ${why.window} iterations; ${asked}. ${result}. ${advice}; ` +
        `if the solve is slow rather than stuck, raise stagnationWindow (a singular operator with b partly outside its ` +
        `range also ends here: no x meets the tolerance, and solve's closed forms return the least-squares solution)`
      );
    case 'diverged':
      return (
        `${head}: the recursive residual grew beyond what CG allows on a positive definite system (the iteration lost its way, ` +
        `typically at the rounding floor); ${asked}. ${result}. ${advice}`
      );
  }
}
