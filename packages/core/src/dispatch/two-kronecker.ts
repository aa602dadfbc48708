/**
 * The exact solve of a Sum of two Kroneckers, G1 W A1 + G2 W A2 = B, by simultaneous
 * diagonalisation (ours: the reference work has no closed form for two tasks).
 *
 * For the G pair take R = G1 + G2 = L L^T and the eigendecomposition
 * L^-1 G1 L^-T = U diag(c) U^T; then S = L^-T U satisfies S^T R S = I and makes both
 * S^T G1 S and S^T G2 S diagonal (Golub & Van Loan, Matrix Computations, 4th ed., §8.7.1).
 * Likewise T for the A pair. With W = S Y T^T the system becomes
 *
 *     (S^T G1 S) Y (T^T A1 T) + (S^T G2 S) Y (T^T A2 T) = S^T B T,
 *     Y_ij = (S^T B T)_ij / (g1_i a1_j + g2_i a2_j),
 *
 * with g_k = diag(S^T G_k S), a_k = diag(T^T A_k T).
 *
 * Why R = G1 + G2 and not G1 alone: it treats the two tasks alike, and it is positive definite
 * as soon as G1 and G2 have no common null vector, which (for psd factors) the operator needs
 * anyway; so a singular G1 (a task whose gradients never reach some output direction) needs no
 * special case. The diagonal entries are computed as quadratic forms s_i^T G_k s_i rather than
 * as c and 1 - c, which would cancel where one task dominates. A mode with a zero denominator
 * is one the operator cannot see (both tasks blind to it); it gets 0, the pseudo-inverse.
 * When R itself is singular there is no closed form and solve falls back to PCG.
 */
import type { Backend, DType, HostLinalg, Shape, Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import type { HostSquare } from '../operators/host-matrix.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from '../operators/linear-operator.js';
import { adoptTensors, releaseOwned } from '../operators/owned.js';
import { ScratchSpace } from '../operators/scratch.js';
import type { ExactInverse } from './exact-inverses.js';
import { hostMatmul, hostTranspose } from './host-dense.js';

/** S with S^T (M1 + M2) S = I and the diagonals d_k = diag(S^T M_k S). */
interface PairDiagonalisation {
  /** [n, n] row-major; column i is s_i. */
  s: Float64Array;
  d1: Float64Array;
  d2: Float64Array;
}

export function diagonalisePair(linalg: HostLinalg, m1: HostSquare, m2: HostSquare): PairDiagonalisation {
  const n = m1.n;
  const r = new Float64Array(n * n);
  for (let i = 0; i < r.length; i++) r[i] = m1.data[i] + m2.data[i];
  const l = linalg.cholesky(r, n);
  // C = L^-1 M1 L^-T: two triangular solves, C = (L^-1 (L^-1 M1)^T), M1 symmetric.
  const left = linalg.solveTriangular(l, n, m1.data, n, { lower: true });
  const c = linalg.solveTriangular(l, n, hostTranspose(left, n, n), n, { lower: true });
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) c[i * n + j] = c[j * n + i] = 0.5 * (c[i * n + j] + c[j * n + i]);
  const { vectors } = linalg.eigh(c, n);
  const s = linalg.solveTriangular(l, n, vectors, n, { lower: true, transpose: true });
  return { s, d1: quadraticForms(m1, s), d2: quadraticForms(m2, s) };
}

/** diag(S^T M S): s_i^T M s_i for every column s_i of S. */
function quadraticForms(m: HostSquare, s: Float64Array): Float64Array {
  const n = m.n;
  const ms = hostMatmul(m.data, s, n, n, n);
  const d = new Float64Array(n);
  for (let p = 0; p < n; p++) for (let i = 0; i < n; i++) d[i] += s[p * n + i] * ms[p * n + i];
  return d;
}

/** The exact inverse of K1 + K2 as an operator (throws NotPositiveDefiniteError when G1 + G2 or A1 + A2 is singular). */
export function twoKroneckerInverse(k1: KroneckerOperator, k2: KroneckerOperator): ExactInverse {
  const backend = k1.backend;
  const left = diagonalisePair(backend.linalg, k1.hostG, k2.hostG);
  const right = diagonalisePair(backend.linalg, k1.hostA, k2.hostA);
  const [rows, cols] = k1.shape;
  const denominators = new Float64Array(rows * cols);
  let largest = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = left.d1[i] * right.d1[j] + left.d2[i] * right.d2[j];
      denominators[i * cols + j] = v;
      largest = Math.max(largest, Math.abs(v));
    }
  }
  if (!(largest > 0)) throw new NotPositiveDefiniteError(0, largest, rows * cols);
  // Below this a denominator is rounding noise: the mode is invisible to both tasks.
  const floor = largest * (rows + cols) * 2 ** -52;
  let dropped = 0;
  const inverse = new Float64Array(rows * cols);
  for (let i = 0; i < inverse.length; i++) {
    if (Math.abs(denominators[i]) > floor) inverse[i] = 1 / denominators[i];
    else dropped++;
  }
  const operator = new TwoKroneckerInverse(
    backend,
    backend.fromArray(left.s, [rows, rows]),
    backend.fromArray(right.s, [cols, cols]),
    backend.fromArray(inverse, [rows, cols]),
    k1.tags.psd && k2.tags.psd,
  );
  return {
    operator,
    note: dropped > 0 ? `${dropped} mode${dropped === 1 ? '' : 's'} invisible to both tasks set to 0 (pseudo-inverse)` : undefined,
  };
}

/** B -> S ((S^T B T) .* inverseDenominators) T^T: the exact inverse of a Sum of two Kroneckers. */
export class TwoKroneckerInverse implements LinearOperator {
  readonly kind = 'two-kronecker-inverse';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  private readonly scratch = new ScratchSpace();

  constructor(
    readonly backend: Backend,
    /** [out, out] */ readonly s: Tensor,
    /** [in, in] */ readonly t: Tensor,
    /** [out, in] */ readonly inverseDenominators: Tensor,
    psd: boolean,
  ) {
    this.dtype = backend.dtype;
    this.shape = Object.freeze([s.shape[0], t.shape[0]]);
    this.tags = Object.freeze({ symmetric: true, psd });
    adoptTensors(this, s, t, inverseDenominators);
  }

  apply(b: Tensor, out: Tensor): void {
    checkApplyOperands(this, b, out);
    const be = this.backend;
    const work = this.scratch.get(be, 0, this.shape);
    be.gemm('T', 'N', 1, this.s, b, 0, work); // S^T B
    be.gemm('N', 'N', 1, work, this.t, 0, out); // S^T B T
    be.mul(out, this.inverseDenominators, out); // Y
    be.gemm('N', 'N', 1, this.s, out, 0, work); // S Y
    be.gemm('N', 'T', 1, work, this.t, 0, out); // S Y T^T
  }

  dispose(): void {
    this.scratch.release();
    releaseOwned(this);
  }
}
