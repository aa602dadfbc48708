/**
 * From a PreconditionerChoice (a name or an operator) to the operator PCG applies. The
 * dispatched rules it needs (the diagonal for Jacobi, the 'auto' rule) are handed in by the
 * registry, so this file imports no dispatch instance and the module graph has no cycle.
 */
import type { Tensor } from '../backend/backend.js';
import { ShapeError } from '../backend/errors.js';
import { formatShape, sameShape } from '../backend/shape.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import { describeOperator, isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { SumOperator } from '../operators/sum.js';
import type { PreconditionerChoice } from '../solver/pcg-types.js';
import { DEFAULT_KRONECKER_APPROXIMATION, NO_PRECONDITIONER, jacobi, kronecker, type Preconditioner } from './preconditioners.js';

/** The dispatched rules a named preconditioner may need. */
export interface PreconditionerRules {
  diagonal(op: LinearOperator): Tensor;
  /** The 'auto' choice. */
  auto(op: LinearOperator): Preconditioner;
}

/** resolvePreconditioner with the rules bound: what the solve rules and pcg receive. */
export type ResolvePreconditioner = (caller: string, A: LinearOperator, choice: PreconditionerChoice) => Preconditioner;

export function resolvePreconditioner(caller: string, A: LinearOperator, choice: PreconditionerChoice, rules: PreconditionerRules): Preconditioner {
  if (typeof choice !== 'string') {
    if (!isLinearOperator(choice)) {
      throw new TypeError(`${caller}: options.preconditioner must be a name (none, jacobi, kronecker, auto, ...) or an operator`);
    }
    if (!sameShape(choice.shape, A.shape) || choice.dtype !== A.dtype) {
      throw new ShapeError(
        `${caller}: the preconditioner ${describeOperator(choice)} (${choice.dtype}) does not fit ` +
          `${describeOperator(A)} (${A.dtype}): it must act on the block shape ${formatShape(A.shape)}`,
      );
    }
    return { operator: choice, description: `operator ${choice.kind}` };
  }
  switch (choice) {
    case 'none':
      return NO_PRECONDITIONER;
    case 'jacobi':
      return jacobi(A, rules.diagonal);
    case 'kronecker':
    case 'kronecker-nearest':
    case 'kronecker-sum': {
      const parts = kroneckerParts(A);
      if (!parts) {
        const kinds = A instanceof SumOperator ? `a sum of [${A.parts.map((p) => p.kind).join(', ')}]` : describeOperator(A);
        throw new TypeError(
          `${caller}: preconditioner '${choice}' needs a Kronecker operator or a Sum of Kroneckers, got ${kinds}; ` +
            `use 'jacobi' or 'auto'`,
        );
      }
      const variant = choice === 'kronecker' ? DEFAULT_KRONECKER_APPROXIMATION : choice === 'kronecker-sum' ? 'sum' : 'nearest';
      return kronecker(A, parts, variant, rules.diagonal);
    }
    case 'auto':
      return rules.auto(A);
    default:
      throw new RangeError(
        `${caller}: unknown preconditioner '${String(choice)}'; use none, jacobi, kronecker, kronecker-nearest, kronecker-sum, auto or an operator`,
      );
  }
}

/** The Kronecker parts of A, when A is a Kronecker or a Sum of Kroneckers. */
function kroneckerParts(A: LinearOperator): KroneckerOperator[] | null {
  if (A instanceof KroneckerOperator) return [A];
  if (A instanceof SumOperator && A.parts.every((p) => p instanceof KroneckerOperator)) return A.parts as KroneckerOperator[];
  return null;
}
