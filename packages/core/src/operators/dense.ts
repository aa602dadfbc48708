import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { formatShape, shapeSize } from '../backend/shape.js';
import { ShapeError } from '../backend/errors.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { hostDiagonal, labelled, readSymmetricMatrix, type HostSquare } from './host-matrix.js';
import { releaseOwned } from './owned.js';
import { ViewCache } from './scratch.js';

export interface DenseOperatorOptions {
  /** The block shape (default [n]); its size must be n. */
  shape?: Shape;
  /** Declares the matrix positive semi-definite (not verified: that costs a factorization). */
  psd?: boolean;
  label?: string;
  /** Largest |M[i,j] - M[j,i]| accepted, relative to max |M| (default 64 unit roundoffs). */
  symmetryTolerance?: number;
}

/**
 * x -> M x with a dense symmetric [n, n] matrix: the full Fisher block of a small parameter
 * (C_i = F_i), and the exact-inverse preconditioner in tests.
 */
export class DenseOperator implements LinearOperator {
  readonly kind = 'dense';
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  readonly host: HostSquare;
  private readonly columnView: ViewCache;

  /** matrix: [n, n] symmetric (the caller keeps ownership). */
  constructor(
    readonly matrix: Tensor,
    options: DenseOperatorOptions = {},
  ) {
    this.backend = matrix.backend;
    this.dtype = matrix.dtype;
    this.host = readSymmetricMatrix(labelled(options.label, 'DenseOperator matrix'), matrix, options.symmetryTolerance);
    const n = this.host.n;
    const shape = options.shape ?? [n];
    if (shapeSize(shape) !== n) {
      throw new ShapeError(
        labelled(options.label, `DenseOperator: block shape ${formatShape(shape)} has ${shapeSize(shape)} elements, the matrix is [${n}, ${n}]`),
      );
    }
    this.shape = Object.freeze([...shape]);
    this.tags = Object.freeze({ symmetric: true, psd: options.psd ?? false });
    this.columnView = new ViewCache([n, 1]);
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    // gemm reads 2-D operands: view the block as an [n, 1] column (views cached per tensor).
    this.backend.gemm('N', 'N', 1, this.matrix, this.columnView.of(x), 0, this.columnView.of(out));
  }

  diagonal(): Tensor {
    return this.backend.fromArray(hostDiagonal(this.host), this.shape);
  }

  toDense(): Float64Array {
    return Float64Array.from(this.host.data);
  }

  dispose(): void {
    releaseOwned(this);
  }
}
