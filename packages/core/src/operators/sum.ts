import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { denseOf, requireDiagonal } from './dense-of.js';
import { checkApplyOperands, checkSameBlock, sharedBackend, tagsOf, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';
import { preparedKroneckerSum } from './prepared-kronecker-sum.js';
import { ScratchSpace } from './scratch.js';

/**
 * x -> sum_i A_i x: the left-hand side of the merge system (sum_i C_i) theta = sum_i C_i theta_i.
 * Symmetric (psd) when every part is. Build sums with add() to keep closed forms in reach
 * (add merges Diagonals and Grams and flattens nested sums).
 */
export class SumOperator implements LinearOperator {
  readonly kind = 'sum';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly backend: Backend | undefined;
  readonly tags: OperatorTags;
  readonly parts: readonly LinearOperator[];
  private readonly scratch = new ScratchSpace();

  constructor(parts: readonly LinearOperator[]) {
    if (parts.length === 0) throw new RangeError('SumOperator: needs at least one part');
    checkSameBlock('SumOperator', parts);
    this.parts = Object.freeze([...parts]);
    this.dtype = parts[0].dtype;
    this.shape = parts[0].shape;
    this.backend = sharedBackend('SumOperator', parts);
    const tags = parts.map(tagsOf);
    this.tags = Object.freeze({ symmetric: tags.every((t) => t.symmetric), psd: tags.every((t) => t.psd) });
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    // A K-FAC system: the backend's fused matvec, when it has one.
    const prepared = preparedKroneckerSum(this);
    if (prepared !== null) {
      prepared.apply(x, out);
      return;
    }
    const backend = x.backend;
    this.parts[0].apply(x, out);
    if (this.parts.length === 1) return;
    const term = this.scratch.get(backend, 0, this.shape);
    for (let i = 1; i < this.parts.length; i++) {
      this.parts[i].apply(x, term);
      backend.axpy(1, term, out);
    }
  }

  diagonal(): Tensor {
    return sumDiagonal(this, requireDiagonal);
  }

  toDense(): Float64Array {
    const m = denseOf(this.parts[0], this.backend);
    for (let i = 1; i < this.parts.length; i++) {
      const p = denseOf(this.parts[i], this.backend);
      for (let j = 0; j < m.length; j++) m[j] += p[j];
    }
    return m;
  }

  dispose(): void {
    this.scratch.release();
    releaseOwned(this);
  }
}

/** sum_i diag(A_i), with each diag(A_i) from diagonalOf (a method, or dispatch's rules). */
export function sumDiagonal(op: SumOperator, diagonalOf: (op: LinearOperator) => Tensor): Tensor {
  const d = diagonalOf(op.parts[0]);
  for (let i = 1; i < op.parts.length; i++) {
    const t = diagonalOf(op.parts[i]);
    d.backend.add(d, t, d);
    t.backend.dispose(t);
  }
  return d;
}
