/**
 * The public face of dispatch. Each call dispatches once, on the operator's structure; the
 * work it sets up (factorizations, preconditioners) is cached beside the operator and reused.
 */
import type { Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { releaseOwned } from '../operators/owned.js';
import { SumOperator } from '../operators/sum.js';
import type { PreconditionerChoice } from '../solver/pcg-types.js';
import type { SolveOptions, SolveResult } from '../solver/solve-types.js';
import { solveByPcg } from './closed-form-solve.js';
import { dispatch, requireOperator } from './registry.js';

/** a + b, keeping structure where the sum has one (Diagonal + Diagonal is a Diagonal, ...). */
export function add(a: LinearOperator, b: LinearOperator): LinearOperator {
  requireOperator('add', 'a', a);
  requireOperator('add', 'b', b);
  return dispatch().add(a, b) as LinearOperator;
}

/**
 * ops[0] + ops[1] + ..., by add. The partial sums add makes on the way (the Diagonal of d1 + d2
 * before d3 is added) are released as soon as the next one no longer needs them: on a GPU
 * backend their storage is not garbage collected.
 */
export function sumOf(ops: readonly LinearOperator[]): LinearOperator {
  if (ops.length === 0) throw new RangeError('sumOf: needs at least one operator');
  ops.forEach((op, i) => requireOperator('sumOf', `ops[${i}]`, op));
  return ops.reduce((acc, op) => {
    const next = add(acc, op);
    const keptAsPart = next instanceof SumOperator && next.parts.includes(acc);
    if (next !== acc && !keptAsPart && !ops.includes(acc)) releaseOwned(acc);
    return next;
  });
}

/** alpha op, keeping structure (a scaled Kronecker is a Kronecker, a scaled Sum a Sum). */
export function scale(op: LinearOperator, alpha: number): LinearOperator {
  requireOperator('scale', 'op', op);
  if (typeof alpha !== 'number') throw new TypeError(`scale: alpha must be a number, got ${typeof alpha}`);
  return dispatch().scale(op, alpha) as LinearOperator;
}

/** The exact diagonal of op as a new tensor of its block shape (the caller disposes it). */
export function diagonal(op: LinearOperator): Tensor {
  requireOperator('diagonal', 'op', op);
  return dispatch().diagonal(op) as Tensor;
}

/**
 * Solves op x = b: by a closed form where the structure has one (Diagonal, Kronecker, Gram,
 * Dense, sums of Diagonals or Grams, a sum of two Kroneckers, a registered rule), by PCG with
 * the 'auto' preconditioner otherwise. Reference mode and method 'pcg' always run PCG.
 */
export function solve(op: LinearOperator, b: Tensor, options: SolveOptions = {}): SolveResult {
  requireOperator('solve', 'op', op);
  const method = options.method ?? 'auto';
  if (method !== 'auto' && method !== 'pcg') throw new RangeError(`solve: options.method must be 'auto' or 'pcg', got ${String(method)}`);
  if (options.reference || method === 'pcg') return solveByPcg(op, b, options, dispatch().resolvePreconditioner);
  return dispatch().solve(op, b, options) as SolveResult;
}

/**
 * The operator PCG would apply as M ~ op^-1 for this choice ('auto' by default), or null for
 * none. Cached beside op: call it freely.
 */
export function preconditioner(op: LinearOperator, choice: PreconditionerChoice = 'auto'): LinearOperator | null {
  requireOperator('preconditioner', 'op', op);
  return dispatch().resolvePreconditioner('preconditioner', op, choice).operator;
}
