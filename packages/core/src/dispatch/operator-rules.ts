import type { Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';

/** The dispatch rules a user can register for an operator kind of their own (registerOperatorKind). */
export interface OperatorRules<T extends LinearOperator = LinearOperator> {
  /** The exact diagonal as a new tensor of the block shape. */
  diagonal?: (op: T) => Tensor;
  /** The exact solution of op x = b, as a new tensor of b's shape. */
  solve?: (op: T, b: Tensor) => Tensor;
  /** An operator approximating op^-1 (symmetric positive definite), or null for none. */
  preconditioner?: (op: T) => LinearOperator | null;
}
