/** From a PreconditionerChoice (a name or an operator) to the operator PCG applies. */
import { ShapeError } from '../backend/errors.js';
import { formatShape, sameShape } from '../backend/shape.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import { describeOperator, isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { SumOperator } from '../operators/sum.js';
import type { PreconditionerChoice } from '../solver/pcg-types.js';
import { DEFAULT_KRONECKER_APPROXIMATION, NO_PRECONDITIONER, jacobi, kronecker, type Preconditioner } from './preconditioners.js';
import { lowRankKronecker } from './low-rank-kronecker.js';
import { dispatch } from './registry.js';

export function resolvePreconditioner(caller: string, A: LinearOperator, choice: PreconditionerChoice): Preconditioner {
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
      return jacobi(A, (op) => dispatch().diagonal(op));
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
      return kronecker(A, parts, variant);
    }
    case 'kronecker-lowrank': {
      const parts = kroneckerParts(A);
      if (!parts) throw new TypeError(`${caller}: preconditioner 'kronecker-lowrank' needs a Kronecker operator or a Sum of Kroneckers, got ${describeOperator(A)}; use 'jacobi' or 'auto'`);
      return lowRankKronecker(A, parts, { exactBelow: 0 });
    }
    case 'auto':
      return dispatch().preconditioner(A);
    default:
      throw new RangeError(
        `${caller}: unknown preconditioner '${String(choice)}'; use none, jacobi, kronecker, kronecker-nearest, kronecker-sum, kronecker-lowrank, auto or an operator`,
      );
  }
}

/** The Kronecker parts of A, when A is a Kronecker or a Sum of Kroneckers. */
function kroneckerParts(A: LinearOperator): KroneckerOperator[] | null {
  if (A instanceof KroneckerOperator) return [A];
  if (A instanceof SumOperator && A.parts.every((p) => p instanceof KroneckerOperator)) return A.parts as KroneckerOperator[];
  return null;
}
