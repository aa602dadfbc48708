/** A^-1 of a symmetric positive definite A through LAPACK's dpotrf + dpotri (the native addon). */
import { NotPositiveDefiniteError } from '@mats/core';
import type { NativeBlas } from './native-blas.js';

/**
 * A^-1 [n, n] (row-major, exactly symmetric) of the SPD A [n, n], from A's lower triangle.
 * Throws NotPositiveDefiniteError naming the first pivot that is not positive or not finite.
 */
export function nativeSpdInverse(blas: NativeBlas, a: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  out.set(a); // the caller checked a is [n, n]
  const failed = blas.spdInverse(out, n);
  if (failed > 0) throw new NotPositiveDefiniteError(failed - 1, out[(failed - 1) * n + failed - 1], n);
  return out;
}
