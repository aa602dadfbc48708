/**
 * pcg and pcgMany, the public entry points of the solver: dispatch resolves a named
 * preconditioner ('auto', 'jacobi', 'kronecker', ...) once, and hands the operator to the
 * loop, which knows nothing of dispatch.
 */
import type { Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { runSolve } from '../solver/pcg-setup.js';
import type { PcgManyOptions, PcgOptions, PcgResult, PreconditionerChoice } from '../solver/pcg-types.js';
import type { ResolvedPreconditioner } from '../solver/resolved-preconditioner.js';
import { dispatch } from './registry.js';

/** The resolver runSolve calls once: names through dispatch, operators checked against A. */
const resolverFor =
  (caller: string, A: LinearOperator) =>
  (choice: PreconditionerChoice): ResolvedPreconditioner =>
    dispatch().resolvePreconditioner(caller, A, choice);

/**
 * Solves A x = b by preconditioned conjugate gradients. A must be symmetric positive definite
 * (a sum of task subspaces is); b has A's block shape or any shape of its size.
 */
export function pcg(A: LinearOperator, b: Tensor, options: PcgOptions = {}): PcgResult {
  return runSolve('pcg', A, [b], options.x0 === undefined ? [] : [options.x0], options, 'none', resolverFor('pcg', A))[0];
}

/**
 * Solves A x_j = b_j for several right-hand sides in lock-step: one iteration advances every
 * column still running, and each column stops on its own (its own status, iterations and
 * history). One preconditioner and one set of options serve them all.
 */
export function pcgMany(A: LinearOperator, bs: readonly Tensor[], options: PcgManyOptions = {}): PcgResult[] {
  return runSolve('pcgMany', A, bs, options.x0 ?? [], options, 'none', resolverFor('pcgMany', A));
}
