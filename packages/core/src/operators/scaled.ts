import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { denseOf, requireDiagonal } from './dense-of.js';
import { checkApplyOperands, tagsOf, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';

/** x -> alpha A x. psd when A is psd and alpha >= 0. */
export class ScaledOperator implements LinearOperator {
  readonly kind = 'scaled';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly backend: Backend | undefined;
  readonly tags: OperatorTags;

  constructor(
    readonly alpha: number,
    readonly inner: LinearOperator,
  ) {
    if (!Number.isFinite(alpha)) throw new RangeError(`ScaledOperator: alpha must be finite, got ${alpha}`);
    this.dtype = inner.dtype;
    this.shape = inner.shape;
    this.backend = inner.backend;
    const t = tagsOf(inner);
    this.tags = Object.freeze({ symmetric: t.symmetric, psd: t.psd && alpha >= 0 });
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    this.inner.apply(x, out);
    x.backend.scal(this.alpha, out);
  }

  diagonal(): Tensor {
    return scaledDiagonal(this, requireDiagonal);
  }

  toDense(): Float64Array {
    const m = denseOf(this.inner);
    for (let i = 0; i < m.length; i++) m[i] *= this.alpha;
    return m;
  }

  dispose(): void {
    releaseOwned(this);
  }
}

/** alpha diag(A), with diag(A) from diagonalOf (a method, or dispatch's rules). */
export function scaledDiagonal(op: ScaledOperator, diagonalOf: (op: LinearOperator) => Tensor): Tensor {
  const d = diagonalOf(op.inner);
  d.backend.scal(op.alpha, d);
  return d;
}
