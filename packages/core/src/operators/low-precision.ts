/**
 * An operator that applies A with float32 products while its vectors stay in A's float64:
 * the inner operator of mixed-precision refinement (dispatch/mixed-precision.ts). Only where the
 * backend offers it: a Sum of Kroneckers whose backend prepares a float32 K-FAC sum (about
 * twice the speed of float64 products on 128-bit SIMD). Its results carry float32 rounding
 * (relative error ~1e-7 per product): never a drop-in replacement for A.
 */
import type { Backend, DType, PreparedOperator, Shape, Tensor } from '../backend/backend.js';
import { checkApplyOperands, tagsOf, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { preparedKroneckerSum } from './prepared-kronecker-sum.js';
import { SumOperator } from './sum.js';

export class LowPrecisionOperator implements LinearOperator {
  readonly kind = 'low-precision';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  readonly backend: Backend | undefined;

  constructor(
    /** The exact operator this approximates. */
    readonly exact: LinearOperator,
    private readonly prepared: PreparedOperator,
  ) {
    this.dtype = exact.dtype;
    this.shape = exact.shape;
    this.tags = tagsOf(exact);
    this.backend = exact.backend;
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    this.prepared.apply(x, out);
  }
}

/**
 * A with float32 products, or null where the backend cannot (no float32 K-FAC sum, or A is
 * float32 already, or not a Sum of Kroneckers). Cached beside A (released with it).
 */
export function lowPrecisionOperator(A: LinearOperator): LowPrecisionOperator | null {
  if (A.dtype !== 'float64' || !(A instanceof SumOperator)) return null;
  const prepared = preparedKroneckerSum(A, 'float32');
  return prepared === null ? null : new LowPrecisionOperator(A, prepared);
}
