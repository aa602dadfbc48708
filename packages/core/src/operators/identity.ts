import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { shapeSize } from '../backend/shape.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';

const TAGS: OperatorTags = Object.freeze({ symmetric: true, psd: true });

/** x -> x on a block of the given shape: C_i = I, the subspace of plain averaging. */
export class IdentityOperator implements LinearOperator {
  readonly kind = 'identity';
  readonly tags = TAGS;
  readonly dtype: DType;
  readonly shape: Shape;

  constructor(
    readonly backend: Backend,
    shape: Shape,
  ) {
    shapeSize(shape);
    this.shape = Object.freeze([...shape]);
    this.dtype = backend.dtype;
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    this.backend.copy(x, out);
  }

  diagonal(): Tensor {
    const d = this.backend.zeros(this.shape);
    this.backend.fill(d, 1);
    return d;
  }

  toDense(): Float64Array {
    const n = shapeSize(this.shape);
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + i] = 1;
    return m;
  }

  dispose(): void {
    releaseOwned(this);
  }
}
