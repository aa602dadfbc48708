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
  const n = blockSize(op);
  const m = new Float64Array(n * n);
  const e = backend.zeros(op.shape);
  const col = backend.zeros(op.shape);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    replace(backend, e, unit);
    op.apply(e, col);
    const values = backend.toArray(col);
    for (let i = 0; i < n; i++) m[i * n + j] = values[i];
  }
  backend.dispose(e);
  backend.dispose(col);
  return m;
}

function replace(backend: Backend, t: Tensor, values: Float64Array): void {
  const fresh = backend.fromArray(values, t.shape);
  backend.copy(fresh, t);
  backend.dispose(fresh);
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
