import type { DType } from './backend.js';

/** Two tensors of different dtypes met in one operation. */
export class DTypeMismatchError extends TypeError {
  override readonly name = 'DTypeMismatchError';
  constructor(
    readonly operation: string,
    readonly expected: DType,
    readonly actual: DType,
  ) {
    super(
      `${operation}: dtype mismatch, ${expected} and ${actual} tensors cannot be mixed; ` +
        `convert one side first (toArray, then fromArray on a ${expected} backend)`,
    );
  }
}

/** A tensor was handed to a backend instance that does not own it. */
export class ForeignTensorError extends TypeError {
  override readonly name = 'ForeignTensorError';
  constructor(operation: string, owner: string, receiver: string) {
    super(
      `${operation}: tensor belongs to backend ${owner}, not to ${receiver}; ` +
        `copy it across with toArray and fromArray`,
    );
  }
}

/** Shapes that do not fit the operation. */
export class ShapeError extends RangeError {
  override readonly name = 'ShapeError';
}

/** A tensor was used after dispose(). */
export class DisposedTensorError extends Error {
  override readonly name = 'DisposedTensorError';
  constructor(operation: string) {
    super(`${operation}: tensor was disposed and can no longer be used`);
  }
}

/** Cholesky met a pivot <= 0 (or not finite): the matrix is not positive definite. */
export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
  constructor(
    readonly pivotIndex: number,
    readonly pivotValue: number,
    readonly size: number,
  ) {
    super(
      `matrix [${size}, ${size}] is not positive definite: pivot ${pivotIndex} is ${pivotValue}; ` +
        `add damping (a multiple of the identity) or check the statistics it came from`,
    );
  }
}
