import type { Tensor, Transpose } from './backend.js';
import { ShapeError } from './errors.js';
import { formatShape } from './shape.js';

/** The dimensions of C <- alpha op(A) op(B) + beta C, after checking that they fit. */
export interface GemmDims {
  m: number;
  n: number;
  k: number;
}

export function gemmDims(transA: Transpose, transB: Transpose, a: Tensor, b: Tensor, c: Tensor): GemmDims {
  for (const [label, t] of [['A', a], ['B', b], ['C', c]] as const) {
    if (t.shape.length !== 2) throw new ShapeError(`gemm: ${label} must be 2-D, got ${formatShape(t.shape)}`);
  }
  const [m, ka] = transA === 'N' ? [a.shape[0], a.shape[1]] : [a.shape[1], a.shape[0]];
  const [kb, n] = transB === 'N' ? [b.shape[0], b.shape[1]] : [b.shape[1], b.shape[0]];
  if (ka !== kb) {
    throw new ShapeError(
      `gemm: inner dimensions differ, op(A) is [${m}, ${ka}] (A ${formatShape(a.shape)}, trans ${transA}) ` +
        `and op(B) is [${kb}, ${n}] (B ${formatShape(b.shape)}, trans ${transB})`,
    );
  }
  if (c.shape[0] !== m || c.shape[1] !== n) {
    throw new ShapeError(`gemm: C is ${formatShape(c.shape)}, expected [${m}, ${n}]`);
  }
  return { m, n, k: ka };
}
