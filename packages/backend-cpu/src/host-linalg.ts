/**
 * Host factorizations (core's HostLinalg) in float64, on the WebAssembly kernels where they
 * run (src/linalg/: blocked Cholesky, and the symmetric eigensolver in LAPACK dsyevd's steps,
 * both on every core), in plain TypeScript elsewhere (src/linalg/portable.ts). An optional
 * precision 'float32' computes in float32 (twice the SIMD width; about 1e-6 relative accuracy)
 * for callers whose data is float32 anyway. The triangular solves are blocked so that their
 * bulk runs through gemm. The inverse of an SPD matrix (a K-FAC factor's, for a preconditioner)
 * runs in LAPACK dpotri's steps in the kernel memory (src/linalg/spd-inverse.ts), the Gram of
 * long vectors (the Frobenius inner products of factors) reads each vector once
 * (src/linalg/gram.ts).
 */
import { ShapeError, type HostLinalg, type SymmetricEigen } from '@mats/core';
import { hostGemm } from './host-gemm.js';
import { hostBlas } from './native/host-blas.js';
import { nativeSpdInverse } from './native/native-spd-inverse.js';
import { kernelCholesky } from './linalg/cholesky.js';
import { kernelEigh } from './linalg/eigh.js';
import { kernelGram } from './linalg/gram.js';
import { kernelLinalg } from './linalg/instance.js';
import { portableCholesky, portableEigh, portableGram, portableSpdInverse } from './linalg/portable.js';
import { kernelSpdInverse } from './linalg/spd-inverse.js';

function checkSquare(what: string, a: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`${what}: the order must be an integer >= 0, got ${n}`);
  if (a.length !== n * n) throw new ShapeError(`${what}: expected an [${n}, ${n}] matrix (${n * n} values), got ${a.length}`);
}

export interface FactorizationOptions {
  /** The precision the factorization computes in (default 'float64'); results are float64 arrays. */
  precision?: 'float64' | 'float32';
}

/**
 * The lower Cholesky factor L [n, n] (row-major, zeros above the diagonal) of the symmetric
 * positive definite A = L L^T; reads A's lower triangle. Throws NotPositiveDefiniteError
 * naming the first pivot that is not positive.
 */
export function cholesky(a: ArrayLike<number>, n: number, options: FactorizationOptions = {}): Float64Array {
  checkSquare('cholesky', a, n);
  const la = kernelLinalg(options.precision ?? 'float64');
  return la ? kernelCholesky(la, a, n) : portableCholesky(a, n);
}

/**
 * Eigenvalues (ascending) and unit eigenvectors (column j of the row-major [n, n] `vectors`)
 * of the symmetric A [n, n]; reads A's upper triangle on the WebAssembly path (the whole matrix
 * on the portable one, which assumes symmetry).
 */
export function eigh(a: ArrayLike<number>, n: number, options: FactorizationOptions = {}): SymmetricEigen {
  checkSquare('eigh', a, n);
  const la = kernelLinalg(options.precision ?? 'float64');
  return la ? kernelEigh(la, a, n) : portableEigh(a, n);
}

/**
 * A^-1 [n, n] (row-major, exactly symmetric) of the symmetric positive definite A [n, n];
 * reads A's lower triangle. Throws NotPositiveDefiniteError naming the first pivot that is not
 * positive. With the native BLAS (the 'blas' variant), LAPACK's dpotrf + dpotri in float64; on
 * the WebAssembly kernels: Cholesky, triangular inverse and L^-T L^-1 (n^3 flops, all but
 * O(n^2 nb) through gemm); elsewhere the same steps unblocked in TypeScript.
 */
export function spdInverse(a: ArrayLike<number>, n: number, options: FactorizationOptions = {}): Float64Array {
  checkSquare('spdInverse', a, n);
  const precision = options.precision ?? 'float64';
  const blas = precision === 'float64' ? hostBlas() : undefined;
  if (blas) return nativeSpdInverse(blas, a, n);
  const la = kernelLinalg(precision);
  return la ? kernelSpdInverse(la, a, n) : portableSpdInverse(a, n);
}

/**
 * The Gram G [m, m], G[i, j] = <v_i, v_j> = sum_k v_i[k] v_j[k], of m vectors of one length
 * (e.g. the vectorised K-FAC factors, whose Frobenius inner products the nearest Kronecker
 * approximation needs). Exactly symmetric; throws ShapeError naming the first vector whose
 * length differs.
 */
export function gram(vectors: readonly ArrayLike<number>[], options: FactorizationOptions = {}): Float64Array {
  const m = vectors.length;
  const length = m > 0 ? vectors[0].length : 0;
  vectors.forEach((v, i) => {
    if (v.length !== length) throw new ShapeError(`gram: vector ${i} has ${v.length} elements, vector 0 has ${length}`);
  });
  const la = kernelLinalg(options.precision ?? 'float64');
  return la ? kernelGram(la, vectors, length) : portableGram(vectors, length);
}

/** Rows of T per block of the blocked triangular solve. */
const TRIANGULAR_BLOCK = 64;

export function solveTriangular(
  t: Float64Array,
  n: number,
  b: Float64Array,
  k: number,
  options: { lower: boolean; transpose?: boolean },
): Float64Array {
  checkSquare('solveTriangular', t, n);
  if (b.length !== n * k) throw new ShapeError(`solveTriangular: right-hand side must be [${n}, ${k}], got ${b.length} values`);
  const x = Float64Array.from(b);
  // op(T), row-major: T, or its transpose (O(n^2) once); solving with T^T of a lower T is
  // solving with an upper matrix.
  const op = options.transpose ? transposeSquare(t, n) : t;
  const lower = options.transpose ? !options.lower : options.lower;
  // Blocked by rows of op(T) (LAPACK's trsm): each block of X first takes the product of the
  // solved blocks through gemm, then solves with its diagonal block by substitution. Almost all
  // of the n^2 k flops go through gemm.
  const block = n > TRIANGULAR_BLOCK && k >= 8 ? TRIANGULAR_BLOCK : n;
  if (lower) {
    for (let i0 = 0; i0 < n; i0 += block) {
      const i1 = Math.min(n, i0 + block);
      if (i0 > 0) hostGemm(i1 - i0, k, i0, -1, copyBlock(op, n, i0, i1, 0, i0), x.subarray(0, i0 * k), 1, x.subarray(i0 * k, i1 * k));
      substitute(op, n, x, k, i0, i1, true);
    }
  } else {
    for (let i1 = n; i1 > 0; i1 -= block) {
      const i0 = Math.max(0, i1 - block);
      if (i1 < n) hostGemm(i1 - i0, k, n - i1, -1, copyBlock(op, n, i0, i1, i1, n), x.subarray(i1 * k, n * k), 1, x.subarray(i0 * k, i1 * k));
      substitute(op, n, x, k, i0, i1, false);
    }
  }
  return x;
}

/** Solves rows [i0, i1) of X with the diagonal block op[i0:i1, i0:i1], row-oriented. */
function substitute(op: Float64Array, n: number, x: Float64Array, k: number, i0: number, i1: number, lower: boolean): void {
  for (let step = i0; step < i1; step++) {
    const i = lower ? step : i1 - 1 - (step - i0);
    const row = i * k;
    const [j0, j1] = lower ? [i0, i] : [i + 1, i1];
    // x_i -= T(i, j) x_j over whole rows of X, contiguous in memory.
    for (let j = j0; j < j1; j++) {
      const coef = op[i * n + j];
      if (coef === 0) continue;
      const other = j * k;
      for (let c = 0; c < k; c++) x[row + c] -= coef * x[other + c];
    }
    const d = op[i * n + i];
    for (let c = 0; c < k; c++) x[row + c] /= d;
  }
}

/** The [r1 - r0, c1 - c0] block of a row-major [n, n] matrix, as a contiguous copy. */
function copyBlock(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let i = r0; i < r1; i++) out.set(a.subarray(i * n + c0, i * n + c1), (i - r0) * w);
  return out;
}

function transposeSquare(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = a[i * n + j];
  return out;
}

export const hostLinalg: HostLinalg = { cholesky, eigh, solveTriangular, spdInverse, gram };
