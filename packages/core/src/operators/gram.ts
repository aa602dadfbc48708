import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { ShapeError } from '../backend/errors.js';
import type { FactorOptions } from './factor-options.js';
import { hostDiagonal, labelled, readSymmetricMatrix, type HostSquare } from './host-matrix.js';
import { kroneckerMatrix } from './kronecker-matrix.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';

/**
 * The RegMean operator (DESIGN.md §3): W -> W A on an [out, in] block, i.e.
 * (I_out (x) A) vec_row(W), with A [in, in] the input Gram.
 */
export class GramOperator implements LinearOperator {
  readonly kind = 'gram';
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  readonly hostA: HostSquare;

  /** a: [in, in] symmetric and finite (the caller keeps ownership); rows: the block's out. */
  constructor(
    readonly a: Tensor,
    rows: number,
    options: FactorOptions = {},
  ) {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new ShapeError(labelled(options.label, `GramOperator: rows must be an integer >= 0, got ${rows}`));
    }
    this.backend = a.backend;
    this.dtype = a.dtype;
    this.hostA = readSymmetricMatrix(labelled(options.label, 'GramOperator factor A'), a, options.symmetryTolerance);
    this.shape = Object.freeze([rows, this.hostA.n]);
    this.tags = Object.freeze({ symmetric: true, psd: options.psd ?? false });
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    this.backend.gemm('N', 'N', 1, x, this.a, 0, out);
  }

  /** diag(I (x) A)[r, c] = A[c, c]: diag(A) repeated on every row. */
  diagonal(): Tensor {
    const [rows, cols] = this.shape;
    const da = hostDiagonal(this.hostA);
    const d = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) d.set(da, r * cols);
    return this.backend.fromArray(d, this.shape);
  }

  toDense(): Float64Array {
    return kroneckerMatrix(null, this.hostA.data, this.shape[0], this.shape[1]);
  }

  dispose(): void {
    releaseOwned(this);
  }
}
