/**
 * The exact solve of a Sum of two Kroneckers, K = G1 (x) A1 + G2 (x) A2, i.e.
 * G1 W A1 + G2 W A2 = B, by simultaneous diagonalisation (ours: the reference work has no
 * closed form for two tasks); for a singular K, its pseudo-inverse: x = pinv(K) b, the
 * minimum-norm least-squares solution.
 *
 * 1. Ranges. With R = G1 + G2 (psd), a vector R cannot see (R v = 0) neither G1 nor G2 can
 *    (v^T G_k v <= v^T R v = 0): null(R) = null(G1) ∩ null(G2) and range(G_k) ⊆ range(R).
 *    U (orthonormal, [m, r]) spans range(R) from its eigendecomposition (eigenvalues at most
 *    psdCutoff count as zero, numpy's matrix_rank rule); when R is safely positive definite,
 *    a Cholesky factor serves instead (U lambda^-1/2 below becomes L^-T: S'^T R' S' = I either
 *    way, which is all step 2 needs). Likewise V ([n, s]) for A1 + A2. Then
 *    K = (U (x) V) K' (U (x) V)^T with K' = G1' (x) A1' + G2' (x) A2', G_k' = U^T G_k U, and
 *    pinv(K) = (U (x) V) pinv(K') (U (x) V)^T (U, V have orthonormal columns).
 * 2. Diagonalisation. R' = U^T R U = diag(lambda) is positive definite; with
 *    C = lambda^-1/2 G1' lambda^-1/2 = Q diag(c) Q^T, S' = lambda^-1/2 Q satisfies
 *    S'^T R' S' = I and makes S'^T G_k' S' diagonal, g1 + g2 = 1 (Golub & Van Loan, Matrix
 *    Computations, 4th ed., §8.7.1). Likewise T' for the A pair. With S = U S' ([m, r]) and
 *    T = V T' ([n, s]), K' = X D X^T, X = S'^-T (x) T'^-T, D = diag(g1_i a1_j + g2_i a2_j).
 *    The diagonal entries are quadratic forms s^T G_k s (no cancellation where one task
 *    dominates).
 * 3. Null modes. D_ij = g1_i a1_j + g2_i a2_j (all four in [0, 1], g1 + g2 = a1 + a2 = 1) is 0
 *    exactly when g1_i = 0 and a2_j = 0, or g2_i = 0 and a1_j = 0. The S-columns with g1 = 0
 *    span null(G1') (a congruence keeps the rank), so
 *        null(K') = E1 + E2,  E1 = null(G1') (x) null(A2'),  E2 = null(G2') (x) null(A1'),
 *    W with G1 W = 0 and W A2 = 0 (task 1 blind on the left, task 2 on the right) and vice
 *    versa. X is not orthogonal, so zeroing these modes in the X basis alone (what this file
 *    did before) solves the system but leaves part of null(K') in x: not minimum-norm.
 * 4. The pseudo-inverse. Let P be the orthogonal projector onto null(K') = E1 + E2 and
 *    Y = X^-T D^+ X^-1 (D^+ inverts the nonzero entries). Then
 *        pinv(K') = (I - P) Y (I - P).
 *    Proof: b_R = (I - P) b is the projection of b on range(K') (K' symmetric, so
 *    range ⊥ null). X^-1 b_R lies in range(D) (range(K') = X range(D)), so
 *    K' Y b_R = X D D^+ X^-1 b_R = b_R: Y b_R is a least-squares solution. The least-squares
 *    solutions are Y b_R + null(K'), and the one orthogonal to null(K') is the minimum-norm
 *    one: (I - P) Y b_R. It is the same linear map of b as pinv(K'), for every b.
 * 5. The projector. With orthonormal bases E1 = U1 (x) V2, E2 = U2 (x) V1 (from the S and T
 *    columns above), the coefficients of P w solve [[I, C], [C^T, I]] [y1; y2] = [E1^T w; E2^T w]
 *    with C = E1^T E2 = (U1^T U2) (x) (V2^T V1) = Cg (x) Ca. Rotating U2 and V1 so that
 *    Cg^T Cg = diag(gamma) and Ca^T Ca = diag(alpha) (their eigenvectors), the Schur complement
 *    I - C^T C is diagonal: y2 = (c2 - C^T c1) ./ (1 - gamma alpha^T), y1 = c1 - C y2. gamma_i < 1
 *    (null(G1') ∩ null(G2') = 0 inside range(R)), so the 2 x 2 blocks are invertible.
 * Every step is a product of small factors applied by gemm: the inverse stays an operator of
 * the same cost as K (plus the projector's gemms on the null blocks, when there are any).
 */
import type { Backend, DType, HostLinalg, Shape, Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import type { HostSquare } from '../operators/host-matrix.js';
import { IdentityOperator } from '../operators/identity.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from '../operators/linear-operator.js';
import { adoptTensors, releaseOwned } from '../operators/owned.js';
import { ScaledOperator } from '../operators/scaled.js';
import { ScratchSpace } from '../operators/scratch.js';
import { unitRoundoff } from '../testing/tolerance.js';
import type { ExactInverse } from './exact-inverses.js';
import { frobeniusDot, hostMatmul, hostTranspose, identity, nullCutoffRatio, psdCutoff, symmetrize } from './host-dense.js';

/** A generalised eigenvalue within this of 0 (or 1) counts as a task's blind direction, at most. */
const MAX_BLIND_TOLERANCE = 1e-2;
/** How far (a factor) above the null cutoff R's smallest eigenvalue must be for the Cholesky path. */
const CHOLESKY_MARGIN = 1e3;

/** A row-major host matrix [rows, cols]. */
interface HostMatrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** The diagonalisation of one factor pair (M1, M2), on the range of M1 + M2. */
export interface PairDiagonalisation {
  /** [n, r]: column i is s_i; S^T (M1 + M2) S = I, r = rank(M1 + M2). */
  s: HostMatrix;
  /** d_k = diag(S^T M_k S), d1 + d2 = 1. */
  d1: Float64Array;
  d2: Float64Array;
  /** Columns of S that M1 does not see (d1 = 0: only M2 does), and those M2 does not see. */
  onlySecond: number[];
  onlyFirst: number[];
}

/**
 * Y [n, r] with Y^T R Y = I and range(Y) = range(R), R psd; kappa = kappa(R) on its range (an
 * upper bound on the Cholesky path). Cholesky (R = L L^T, Y = L^-T) when R is safely positive
 * definite, as it is whenever the tasks share no blind direction; otherwise the
 * eigendecomposition R = U lambda U^T, Y = U lambda^-1/2 over the eigenvalues above psdCutoff.
 */
function rangeBasis(linalg: HostLinalg, r: Float64Array, n: number, u: number): { y: Float64Array; rank: number; kappa: number } {
  try {
    const l = linalg.cholesky(r, n);
    const y = linalg.solveTriangular(l, n, identity(n), n, { lower: true, transpose: true });
    // kappa(R) <= ||R||_F ||R^-1||_2 <= ||R||_F ||Y||_F^2 (R^-1 = Y Y^T).
    const kappa = Math.sqrt(frobeniusDot(r, r)) * frobeniusDot(y, y);
    // Trusted only when lambda_min >= lambda_max / kappa is far above the null cutoff: a
    // singular R may still pass Cholesky by rounding.
    if (kappa * CHOLESKY_MARGIN * nullCutoffRatio(n, u) < 1) return { y, rank: n, kappa };
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
  }
  const { values, vectors } = linalg.eigh(r, n);
  const cutoff = psdCutoff(values, u);
  const kept = [...values.keys()].filter((j) => values[j] > cutoff);
  const rank = kept.length;
  const y = new Float64Array(n * rank);
  for (let i = 0; i < n; i++) for (let k = 0; k < rank; k++) y[i * rank + k] = vectors[i * n + kept[k]] / Math.sqrt(values[kept[k]]);
  return { y, rank, kappa: rank > 0 ? values[kept[rank - 1]] / values[kept[0]] : 1 };
}

/** Throws NotPositiveDefiniteError when M1 + M2 is indefinite (psdCutoff). */
export function diagonalisePair(linalg: HostLinalg, m1: HostSquare, m2: HostSquare, u: number): PairDiagonalisation {
  const n = m1.n;
  const sum = new Float64Array(n * n);
  for (let i = 0; i < sum.length; i++) sum[i] = m1.data[i] + m2.data[i];
  const { y, rank: r, kappa } = rangeBasis(linalg, symmetrize(sum, n), n, u);
  // C = Y^T M1 Y = Q diag(c) Q^T; S = Y Q.
  const c = symmetrize(hostMatmul(hostTranspose(y, n, r), hostMatmul(m1.data, y, n, n, r), r, n, r), r);
  const s = { data: hostMatmul(y, linalg.eigh(c, r).vectors, n, r, r), rows: n, cols: r };
  const d1 = quadraticForms(m1, s);
  const d2 = quadraticForms(m2, s);
  // A computed quadratic form of a null vector is about n u ||M|| ||s||^2 <= n u kappa(R').
  const tolerance = Math.min(MAX_BLIND_TOLERANCE, 8 * Math.max(n, 2) * u * kappa);
  return {
    s,
    d1,
    d2,
    onlySecond: [...d1.keys()].filter((i) => d1[i] <= tolerance * (d1[i] + d2[i])),
    onlyFirst: [...d2.keys()].filter((i) => d2[i] <= tolerance * (d1[i] + d2[i])),
  };
}

/** diag(S^T M S): s_i^T M s_i for every column s_i of S [n, r]. */
function quadraticForms(m: HostSquare, s: HostMatrix): Float64Array {
  const { rows: n, cols: r } = s;
  const ms = hostMatmul(m.data, s.data, n, n, r);
  const d = new Float64Array(r);
  for (let p = 0; p < n; p++) for (let i = 0; i < r; i++) d[i] += s.data[p * r + i] * ms[p * r + i];
  return d;
}

/** An orthonormal basis [n, k] of the span of the given columns of S (independent: S has full column rank). */
function orthonormalColumns(linalg: HostLinalg, s: HostMatrix, columns: readonly number[]): HostMatrix {
  const { rows: n, cols: r } = s;
  const k = columns.length;
  if (k === 0) return { data: new Float64Array(0), rows: n, cols: 0 };
  const sub = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) sub[i * k + j] = s.data[i * r + columns[j]];
  // sub = Q (Z sigma^1/2)^T with sub^T sub = Z sigma Z^T: Q = sub Z sigma^-1/2.
  const { values, vectors } = linalg.eigh(symmetrize(hostMatmul(hostTranspose(sub, n, k), sub, k, n, k), k), k);
  const scaled = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) scaled[i * k + j] = vectors[i * k + j] / Math.sqrt(values[j]);
  return { data: hostMatmul(sub, scaled, n, k, k), rows: n, cols: k };
}

/** The pseudo-inverse of K1 + K2 as an operator (throws NotPositiveDefiniteError for an indefinite factor pair). */
export function twoKroneckerInverse(k1: KroneckerOperator, k2: KroneckerOperator): ExactInverse {
  const backend = k1.backend;
  const { linalg } = backend;
  const u = unitRoundoff(backend.dtype);
  const left = diagonalisePair(linalg, k1.hostG, k2.hostG, u);
  const right = diagonalisePair(linalg, k1.hostA, k2.hostA, u);
  const [rows, cols] = k1.shape;
  const [r, s] = [left.s.cols, right.s.cols];
  if (r === 0 || s === 0) {
    // K = 0: neither task sees anything; its pseudo-inverse is 0.
    const operator = new ScaledOperator(0, new IdentityOperator(backend, k1.shape));
    return { operator, pseudo: true, note: `singular (all ${rows * cols} modes invisible to both tasks): pseudo-inverse, x = 0` };
  }
  // D_ij = 0 on (only G2 sees i) x (only A1 sees j), i.e. E1, and (only G1) x (only A2), E2.
  const blindLeft = new Uint8Array(r);
  left.onlySecond.forEach((i) => (blindLeft[i] = 1));
  left.onlyFirst.forEach((i) => (blindLeft[i] = 2));
  const blindRight = new Uint8Array(s);
  right.onlyFirst.forEach((j) => (blindRight[j] = 1));
  right.onlySecond.forEach((j) => (blindRight[j] = 2));
  const inverse = new Float64Array(r * s);
  let nullModes = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < s; j++) {
      if (blindLeft[i] !== 0 && blindLeft[i] === blindRight[j]) {
        nullModes++;
        continue;
      }
      inverse[i * s + j] = 1 / (left.d1[i] * right.d1[j] + left.d2[i] * right.d2[j]);
    }
  }
  const projector =
    nullModes > 0
      ? NullSpaceProjector.create(
          backend,
          [orthonormalColumns(linalg, left.s, left.onlySecond), orthonormalColumns(linalg, right.s, right.onlyFirst)],
          [orthonormalColumns(linalg, left.s, left.onlyFirst), orthonormalColumns(linalg, right.s, right.onlySecond)],
        )
      : null;
  const invisible = rows * cols - r * s + nullModes;
  const operator = new TwoKroneckerInverse(
    backend,
    backend.fromArray(left.s.data, [rows, r]),
    backend.fromArray(right.s.data, [cols, s]),
    backend.fromArray(inverse, [r, s]),
    k1.tags.psd && k2.tags.psd,
    projector,
  );
  if (invisible === 0) return { operator };
  return {
    operator,
    pseudo: true,
    note: `singular (${invisible} of ${rows * cols} modes invisible to both tasks): pseudo-inverse, the minimum-norm least-squares solution`,
  };
}

/** One null block E = U (x) V: orthonormal [rows, a] and [cols, b] factors on the backend. */
interface NullBlock {
  readonly u: Tensor;
  readonly v: Tensor;
}

/**
 * w <- (I - P) w, P the orthogonal projector onto E1 + E2 (point 5 above). E2 may be absent
 * (one of its factors empty); E1 is the non-empty one.
 */
class NullSpaceProjector {
  private readonly scratch = new ScratchSpace();

  private constructor(
    private readonly backend: Backend,
    private readonly e1: NullBlock,
    /** E2 with its coupling to E1: Cg = U1^T U2 [a, c], Ca = V2^T V1 [b, d], F = 1 ./ (1 - gamma alpha^T) [c, d]. */
    private readonly e2: (NullBlock & { cg: Tensor; ca: Tensor; f: Tensor }) | null,
    readonly tensors: Tensor[],
  ) {}

  static create(backend: Backend, first: [HostMatrix, HostMatrix], second: [HostMatrix, HostMatrix]): NullSpaceProjector {
    const blocks = [first, second].filter(([u, v]) => u.cols > 0 && v.cols > 0);
    const upload = (m: HostMatrix) => backend.fromArray(m.data, [m.rows, m.cols]);
    const [[u1, v2], rest] = [blocks[0], blocks[1]];
    const tensors: Tensor[] = [];
    const keep = (t: Tensor) => (tensors.push(t), t);
    const e1 = { u: keep(upload(u1)), v: keep(upload(v2)) };
    if (!rest) return new NullSpaceProjector(backend, e1, null, tensors);
    const { linalg } = backend;
    let [u2, v1] = rest;
    // Rotate U2 and V1 to the eigenvectors of Cg^T Cg and Ca^T Ca, which makes I - C^T C diagonal.
    const rotate = (a: HostMatrix, b: HostMatrix): { b: HostMatrix; coupling: HostMatrix; cosines: Float64Array } => {
      const coupling = hostMatmul(hostTranspose(a.data, a.rows, a.cols), b.data, a.cols, a.rows, b.cols); // [a, c]
      const k = b.cols;
      const { values, vectors } = linalg.eigh(symmetrize(hostMatmul(hostTranspose(coupling, a.cols, k), coupling, k, a.cols, k), k), k);
      return {
        b: { data: hostMatmul(b.data, vectors, b.rows, k, k), rows: b.rows, cols: k },
        coupling: { data: hostMatmul(coupling, vectors, a.cols, k, k), rows: a.cols, cols: k },
        cosines: values,
      };
    };
    const g = rotate(u1, u2);
    const a = rotate(v2, v1);
    [u2, v1] = [g.b, a.b];
    const f = new Float64Array(u2.cols * v1.cols);
    for (let i = 0; i < u2.cols; i++) for (let j = 0; j < v1.cols; j++) f[i * v1.cols + j] = 1 / (1 - g.cosines[i] * a.cosines[j]);
    const e2 = {
      u: keep(upload(u2)),
      v: keep(upload(v1)),
      cg: keep(upload(g.coupling)),
      ca: keep(upload(a.coupling)),
      f: keep(backend.fromArray(f, [u2.cols, v1.cols])),
    };
    return new NullSpaceProjector(backend, e1, e2, tensors);
  }

  /** w <- w - P w, w [rows, cols]. */
  remove(w: Tensor): void {
    const be = this.backend;
    const { e1, e2 } = this;
    const [rows, cols] = w.shape;
    const work = (slot: number, shape: Shape) => this.scratch.get(be, slot, shape);
    const coefficients = (block: NullBlock, slot: number) => {
      const [a, b] = [block.u.shape[1], block.v.shape[1]];
      const left = work(slot, [a, cols]);
      be.gemm('T', 'N', 1, block.u, w, 0, left); // U^T W
      const c = work(slot + 1, [a, b]);
      be.gemm('N', 'N', 1, left, block.v, 0, c); // U^T W V
      return c;
    };
    const y1 = coefficients(e1, 0);
    const y2 = e2 ? coefficients(e2, 2) : null;
    if (e2 && y2) {
      const [a, b, c, d] = [e1.u.shape[1], e1.v.shape[1], e2.u.shape[1], e2.v.shape[1]];
      const t = work(4, [c, b]);
      be.gemm('T', 'N', 1, e2.cg, y1, 0, t); // Cg^T c1
      be.gemm('N', 'N', -1, t, e2.ca, 1, y2); // c2 - Cg^T c1 Ca
      be.mul(y2, e2.f, y2); // y2
      const t2 = work(5, [a, d]);
      be.gemm('N', 'N', 1, e2.cg, y2, 0, t2); // Cg y2
      be.gemm('N', 'T', -1, t2, e2.ca, 1, y1); // y1 = c1 - Cg y2 Ca^T
    }
    const subtract = (block: NullBlock, y: Tensor, slot: number) => {
      const uy = work(slot, [rows, block.v.shape[1]]);
      be.gemm('N', 'N', 1, block.u, y, 0, uy);
      be.gemm('N', 'T', -1, uy, block.v, 1, w); // W -= U y V^T
    };
    subtract(e1, y1, 6);
    if (e2 && y2) subtract(e2, y2, 7);
  }

  release(): void {
    this.scratch.release();
  }
}

/**
 * B -> (I - P) S ((S^T (I - P) B T) .* inverseDenominators) T^T (I - P): the pseudo-inverse of
 * a Sum of two Kroneckers (the exact inverse when it is nonsingular: S, T square, no P).
 */
export class TwoKroneckerInverse implements LinearOperator {
  readonly kind = 'two-kronecker-inverse';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  private readonly scratch = new ScratchSpace();

  constructor(
    readonly backend: Backend,
    /** [out, r] */ readonly s: Tensor,
    /** [in, s] */ readonly t: Tensor,
    /** [r, s] */ readonly inverseDenominators: Tensor,
    psd: boolean,
    /** The projector onto the null modes of the diagonalised system, when there are any. */
    private readonly projector: NullSpaceProjector | null = null,
  ) {
    this.dtype = backend.dtype;
    this.shape = Object.freeze([s.shape[0], t.shape[0]]);
    this.tags = Object.freeze({ symmetric: true, psd });
    adoptTensors(this, s, t, inverseDenominators, ...(projector?.tensors ?? []));
  }

  apply(b: Tensor, out: Tensor): void {
    checkApplyOperands(this, b, out);
    const be = this.backend;
    const [r, s] = this.inverseDenominators.shape;
    let source = b;
    if (this.projector) {
      source = this.scratch.get(be, 0, this.shape);
      be.copy(b, source);
      this.projector.remove(source); // (I - P) B
    }
    const left = this.scratch.get(be, 1, [r, this.shape[1]]);
    be.gemm('T', 'N', 1, this.s, source, 0, left); // S^T B
    const y = this.scratch.get(be, 2, [r, s]);
    be.gemm('N', 'N', 1, left, this.t, 0, y); // S^T B T
    be.mul(y, this.inverseDenominators, y); // Y
    const sy = this.scratch.get(be, 3, [this.shape[0], s]);
    be.gemm('N', 'N', 1, this.s, y, 0, sy); // S Y
    be.gemm('N', 'T', 1, sy, this.t, 0, out); // S Y T^T
    if (this.projector) this.projector.remove(out);
  }

  dispose(): void {
    this.scratch.release();
    this.projector?.release();
    releaseOwned(this);
  }
}
