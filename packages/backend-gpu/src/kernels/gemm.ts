/**
 * gemm as gpu.js kernel source: one thread per element of C [m, n], laid out as a 2-D output
 * [n, m] so that this.thread.y is the row and this.thread.x the column, both GLSL integers.
 * (Deriving row and column from a flat index would need a division, which gpu.js translates
 * into float arithmetic, exact only below 2^24.) Operands are read by flat row-major index.
 */
import type { Transpose } from '@mats/core';

/** Flat index of op(A)[i, p]: A is [m, k] ('N') or [k, m] ('T'). */
function aIndex(trans: Transpose): string {
  return trans === 'N' ? 'this.thread.y * this.constants.k + p' : 'p * this.constants.m + this.thread.y';
}

/** Flat index of op(B)[p, j]: B is [k, n] ('N') or [n, k] ('T'). */
function bIndex(trans: Transpose): string {
  return trans === 'N' ? 'p * this.constants.n + this.thread.x' : 'this.thread.x * this.constants.k + p';
}

/**
 * C <- alpha op(A) op(B) (+ beta C when readC). Accumulates the k products in float32 in
 * order, the error the conformance bound (k + 3) u allows.
 */
export function gemmSource(transA: Transpose, transB: Transpose, readC: boolean): string {
  const params = readC ? 'alpha, a, b, beta, c' : 'alpha, a, b';
  const tail = readC ? ' + beta * c[this.thread.y * this.constants.n + this.thread.x]' : '';
  return `function (${params}) {
  let sum = 0.0;
  for (let p = 0; p < this.constants.k; p++) {
    sum += a[${aIndex(transA)}] * b[${bIndex(transB)}];
  }
  return alpha * sum${tail};
}`;
}
