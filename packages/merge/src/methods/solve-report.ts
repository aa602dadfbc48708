/**
 * What a task-subspace solve tells the log (and --json-log): iterations, status, the initial and
 * final residual norms, the subspace, the rule dispatch used (a closed form or 'pcg'), the
 * preconditioner, and core's note (a pseudo-inverse, a fallback to PCG) when there is one.
 */
import type { SolveResult } from '@mats/core';
import { UserError } from '../errors.js';
import type { TensorReport } from './method.js';
import type { Subspace } from './subspace.js';

/** Statuses whose x is usable: a converged solve, or CG stopped early on purpose. */
const USABLE = new Set(['converged', 'maxIterations']);
/** What the merge keeps when the status is not usable (core returns the best x it has). */
const KEPT: Record<string, string> = { leastSquares: 'the minimum-norm least-squares solution', stagnated: 'the best iterate' };

/**
 * The report of one solve. A solve that produced NaN or Inf throws (the output would hold it);
 * 'indefinite' or 'breakdown' keep the last finite iterate, 'stagnated' the best iterate and
 * 'leastSquares' the least-squares solution, and say so through warn().
 */
export function solveReport(name: string, subspace: Subspace, result: SolveResult, warn: (message: string) => void): TensorReport {
  if (result.status === 'nonFinite') {
    throw new UserError(`tensor ${name} (subspace ${subspace}): the solve produced a non-finite value: ${result.message}`);
  }
  if (!USABLE.has(result.status)) {
    warn(`warning: tensor ${name} (subspace ${subspace}): ${result.status}: ${result.message}; the merge keeps ${KEPT[result.status] ?? 'the last iterate'}`);
  }
  return {
    iterations: result.iterations,
    status: result.status,
    initialResidualNorm: result.initialResidualNorm,
    residualNorm: result.residualNorm,
    details: {
      subspace,
      rule: result.method,
      preconditioner: result.preconditioner,
      ...(result.note !== undefined ? { note: result.note } : {}),
    },
  };
}
