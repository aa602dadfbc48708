import type { Backend, Tensor } from '../backend/backend.js';
import { blockSize, describeOperator, type LinearOperator } from './linear-operator.js';

/**
 * The [n, n] float64 matrix of any operator: its own toDense() when it has one, otherwise
 * apply on each unit vector (n applies: for tests and small sizes only).
 */
export function denseOf(op: LinearOperator, backend: Backend | undefined = op.backend): Float64Array {
  if (op.toDense) return op.toDense();
  if (!backend) {
    throw new TypeError(`${describeOperator(op)} has no toDense() and no backend to apply it on; pass a backend`);
  }
  return matrixOfApply(op, backend);
}

/**
 * The [n, n] matrix of op's apply: column j is apply(e_j), each into a fresh zero tensor (so
 * an apply that adds into out still shows its matrix). Ignores toDense, so the testing kit can
 * compare the two.
 */
export function matrixOfApply(op: LinearOperator, backend: Backend): Float64Array {
  const n = blockSize(op);
  const m = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const e = backend.fromArray(unit, op.shape);
    const column = backend.zeros(op.shape);
    op.apply(e, column);
    const values = backend.toArray(column);
    for (let i = 0; i < n; i++) m[i * n + j] = values[i];
    backend.dispose(e);
    backend.dispose(column);
  }
  return m;
}

/** An operator whose diagonal nobody knows: no diagonal() method and no registered rule. */
export class NoDiagonalError extends TypeError {
  override readonly name = 'NoDiagonalError';
  constructor(op: LinearOperator) {
    super(
      `${describeOperator(op)} has no diagonal(): give it a diagonal() method, or register one with ` +
        `registerOperatorKind('${op.kind}', { diagonal }) and call diagonal(op) from @mats/core`,
    );
  }
}

/** The diagonal from the operator's own method; NoDiagonalError when it has none. */
export function requireDiagonal(op: LinearOperator): Tensor {
  if (op.diagonal) return op.diagonal();
  throw new NoDiagonalError(op);
}
