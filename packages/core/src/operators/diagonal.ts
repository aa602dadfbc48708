import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { labelled, readFinite } from './host-matrix.js';
import { releaseOwned } from './owned.js';

export interface DiagonalOperatorOptions {
  /** Names the operator in error messages, e.g. "encoder.0.weight task 3". */
  label?: string;
}

/**
 * x -> d .* x, with d of the block's own shape: the diagonal Fisher (C_i = diag(F_i)), the
 * subspace of Fisher merging. psd exactly when every entry is >= 0.
 */
export class DiagonalOperator implements LinearOperator {
  readonly kind = 'diagonal';
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  /** The diagonal on the host, float64, same order as the block. */
  readonly hostValues: Float64Array;

  /** d: the diagonal, with the block's shape (the caller keeps ownership of d). */
  constructor(
    readonly values: Tensor,
    options: DiagonalOperatorOptions = {},
  ) {
    this.backend = values.backend;
    this.dtype = values.dtype;
    this.shape = Object.freeze([...values.shape]);
    this.hostValues = readFinite(labelled(options.label, 'DiagonalOperator diagonal'), values);
    this.tags = Object.freeze({ symmetric: true, psd: this.hostValues.every((v) => v >= 0) });
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    this.backend.mul(this.values, x, out);
  }

  diagonal(): Tensor {
    const d = this.backend.zeros(this.shape);
    this.backend.copy(this.values, d);
    return d;
  }

  toDense(): Float64Array {
    const n = this.hostValues.length;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + i] = this.hostValues[i];
    return m;
  }

  dispose(): void {
    releaseOwned(this);
  }
}
