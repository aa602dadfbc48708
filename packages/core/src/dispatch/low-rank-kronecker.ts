/**
 * A preconditioner for Sums of Kroneckers with very large factors (the MLP of an 8B model has
 * 14336-wide ones), where factorizing the nearest Kronecker product X (x) Y exactly costs
 * minutes and its explicit inverses gigabytes (n^3 flops and n^2 doubles per factor): the
 * inverse of each factor of order >= LARGE_FACTOR_ORDER is replaced by a low-rank-plus-diagonal
 * approximation built with n^2 k flops; smaller factors keep their exact (damped) inverse.
 *
 * With D = diag(X), X = D^1/2 (I + E) D^1/2. The top k eigenpairs E ~ V diag(lambda) V^T come
 * from a randomized subspace iteration (Halko, Martinsson and Tropp, "Finding structure with
 * randomness", SIAM Review 53, 2011: range finder with q power steps, Rayleigh-Ritz), then
 *     X^-1 ~ D^-1/2 (I - V diag(lambda / (1 + lambda)) V^T) D^-1/2,
 * exact on span(V) and Jacobi on the rest. Applied to a block W [out, in] as
 * S o (W1 - Ux (Vx^T W1)) ... with S = d_x^-1/2 (d_y^-1/2)^T: two elementwise products and four
 * thin gemms, O(out in k). The gemms run on the backend; only k x k problems are solved on the host.
 */
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { derived } from '../operators/derived.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from '../operators/linear-operator.js';
import { dampedSpdInverse, weightedSum } from './host-dense.js';
import { kroneckerApproximationWeights } from './kronecker-approximation.js';
import type { Preconditioner } from './preconditioners.js';

/** Rank of each factor's correction (at most the order). */
export const LOW_RANK = 64;
/** Extra columns of the random range finder (Halko et al. recommend 5-10). */
const OVERSAMPLING = 10;
/** Power steps of the range finder (spectra of Grams decay slowly: two sharpen it). */
const POWER_STEPS = 2;

/**
 * One factor's (approximate) inverse: exact (the explicit inverse, for a factor below
 * LARGE_FACTOR_ORDER), or D^-1/2 (I - U V^T) D^-1/2 with U = V diag(lambda / (1 + lambda)).
 */
type FactorApproximation =
  | { kind: 'exact'; inverse: Tensor; note?: string }
  | {
      kind: 'low-rank';
      /** [n] D^-1/2. */
      scale: Float64Array;
      /** [n, k] V and U, on the backend. */
      v: Tensor;
      u: Tensor;
      rank: number;
    };

export class LowRankKroneckerPreconditioner implements LinearOperator {
  readonly kind = 'low-rank-kronecker';
  readonly tags: OperatorTags = { symmetric: true, psd: true };
  readonly shape: readonly number[];
  readonly dtype: DType;
  private readonly owned: Tensor[] = [];
  /** Row scaling d_x^-1/2 broadcast to [m, n] (left low-rank factor), columns d_y^-1/2 (right). */
  private readonly rowScale: Tensor | undefined;
  private readonly columnScale: Tensor | undefined;
  private readonly temp: Tensor;
  private readonly left: Tensor | undefined;
  private readonly right: Tensor | undefined;

  constructor(
    readonly backend: Backend,
    private readonly x: FactorApproximation,
    private readonly y: FactorApproximation,
    [m, n]: readonly [number, number],
  ) {
    this.shape = [m, n];
    this.dtype = backend.dtype;
    const keep = (t: Tensor) => (this.owned.push(t), t);
    this.temp = keep(backend.zeros([m, n]));
    if (x.kind === 'low-rank') {
      const s = new Float64Array(m * n);
      for (let i = 0; i < m; i++) s.fill(x.scale[i], i * n, (i + 1) * n);
      this.rowScale = keep(backend.fromArray(s, [m, n]));
      this.left = keep(backend.zeros([x.rank, n]));
    }
    if (y.kind === 'low-rank') {
      const s = new Float64Array(m * n);
      for (let i = 0; i < m; i++) s.set(y.scale, i * n);
      this.columnScale = keep(backend.fromArray(s, [m, n]));
      this.right = keep(backend.zeros([m, y.rank]));
    }
    for (const f of [x, y]) {
      if (f.kind === 'exact') this.owned.push(f.inverse);
      else this.owned.push(f.u, f.v);
    }
  }

  apply(w: Tensor, out: Tensor): void {
    checkApplyOperands(this, w, out);
    const b = this.backend;
    const view = w.shape.length === 2 ? w : b.reshape(w, this.shape);
    const o = out.shape.length === 2 ? out : b.reshape(out, this.shape);
    const t = this.temp;
    // T = X^-1 W: exact, or S_x o (W1 - Ux (Vx^T W1)) with W1 = S_x o W.
    if (this.x.kind === 'exact') {
      b.gemm('N', 'N', 1, this.x.inverse, view, 0, t);
    } else {
      b.mul(this.rowScale!, view, t);
      b.gemm('T', 'N', 1, this.x.v, t, 0, this.left!);
      b.gemm('N', 'N', -1, this.x.u, this.left!, 1, t);
      b.mul(this.rowScale!, t, t);
    }
    // out = T Y^-1: exact, or S_y o (T1 - (T1 Vy) Uy^T) with T1 = S_y o T.
    if (this.y.kind === 'exact') {
      b.gemm('N', 'N', 1, t, this.y.inverse, 0, o);
    } else {
      b.mul(this.columnScale!, t, o);
      b.gemm('N', 'N', 1, o, this.y.v, 0, this.right!);
      b.gemm('N', 'T', -1, this.right!, this.y.u, 1, o);
      b.mul(this.columnScale!, o, o);
    }
  }

  dispose(): void {
    for (const t of this.owned) this.backend.dispose(t);
  }
}

/**
 * The approximate inverse of one SPD factor A [n, n] (host, float64) of rank `rank`: the
 * randomized eigenpairs of E = D^-1/2 A D^-1/2 - I, with every n^2-sized product on the backend.
 */
function approximateInverse(backend: Backend, a: Float64Array, n: number, rank: number, seed: number): FactorApproximation {
  const linalg = backend.linalg;
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) scale[i] = a[i * n + i] > 0 ? 1 / Math.sqrt(a[i * n + i]) : 1;
  const k = Math.min(rank, n);
  const l = Math.min(n, k + OVERSAMPLING);
  const e = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) e[i * n + j] = scale[i] * a[i * n + j] * scale[j] - (i === j ? 1 : 0);
  const et = backend.fromArray(e, [n, n]);
  // A fixed pseudo-random start (xorshift32): the preconditioner is deterministic.
  const omega = new Float64Array(n * l);
  let state = (seed * 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < omega.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    omega[i] = (state >>> 0) / 2147483648 - 1;
  }
  let q = orthonormalColumns(backend, omega, n, l);
  const product = backend.zeros([n, l]);
  try {
    for (let step = 0; step <= POWER_STEPS; step++) {
      const qt = backend.fromArray(q, [n, l]);
      backend.gemm('N', 'N', 1, et, qt, 0, product);
      backend.dispose(qt);
      q = orthonormalColumns(backend, Float64Array.from(backend.toArray(product)), n, l);
    }
    // Rayleigh-Ritz: B = Q^T E Q [l, l], eigenpairs B = W diag(mu) W^T, V = Q W.
    const qt = backend.fromArray(q, [n, l]);
    backend.gemm('N', 'N', 1, et, qt, 0, product);
    const eq = Float64Array.from(backend.toArray(product));
    backend.dispose(qt);
    const bm = new Float64Array(l * l);
    for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) {
      let sum = 0;
      for (let p = 0; p < n; p++) sum += q[p * l + i] * eq[p * l + j];
      bm[i * l + j] = sum;
    }
    for (let i = 0; i < l; i++) for (let j = 0; j < i; j++) bm[i * l + j] = bm[j * l + i] = 0.5 * (bm[i * l + j] + bm[j * l + i]);
    const { values, vectors } = linalg.eigh(bm, l);
    // The k Ritz pairs of largest |mu| (Grams: the large ones matter), as V [n, k] and U.
    const order = Array.from({ length: l }, (_, i) => i).sort((i, j) => Math.abs(values[j]) - Math.abs(values[i])).slice(0, k);
    const v = new Float64Array(n * k);
    const u = new Float64Array(n * k);
    order.forEach((src, c) => {
      const mu = Math.max(values[src], -0.99); // I + E is positive definite: mu > -1
      const gamma = mu / (1 + mu);
      for (let p = 0; p < n; p++) {
        let s = 0;
        for (let t = 0; t < l; t++) s += q[p * l + t] * vectors[t * l + src];
        v[p * k + c] = s;
        u[p * k + c] = s * gamma;
      }
    });
    return { kind: 'low-rank', scale, v: backend.fromArray(v, [n, k]), u: backend.fromArray(u, [n, k]), rank: k };
  } finally {
    backend.dispose(product);
    backend.dispose(et);
  }
}

/**
 * An orthonormal basis of the columns of Y [n, l] (host, row-major), by Cholesky QR twice
 * (Yamamoto et al. 2015: CholeskyQR2 is as orthogonal as Householder for condition < 1e8);
 * a rank-deficient Y is regularised slightly rather than failing (it only seeds a range finder).
 */
function orthonormalColumns(backend: Backend, y: Float64Array, n: number, l: number): Float64Array {
  let q = y;
  for (let pass = 0; pass < 2; pass++) {
    const g = new Float64Array(l * l);
    for (let p = 0; p < n; p++) {
      const row = p * l;
      for (let i = 0; i < l; i++) {
        const yi = q[row + i];
        if (yi === 0) continue;
        for (let j = 0; j <= i; j++) g[i * l + j] += yi * q[row + j];
      }
    }
    let trace = 0;
    for (let i = 0; i < l; i++) trace += g[i * l + i];
    for (let i = 0; i < l; i++) {
      for (let j = 0; j < i; j++) g[j * l + i] = g[i * l + j];
      g[i * l + i] += 1e-14 * (trace / l) + Number.MIN_VALUE;
    }
    const r = backend.linalg.cholesky(g, l); // G = R R^T, R lower; Q = Y R^-T
    const qt = backend.linalg.solveTriangular(r, l, transpose(q, n, l), n, { lower: true });
    q = transpose(qt, l, n);
  }
  return q;
}

function transpose(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
  return t;
}

/** A factor's inverse for the preconditioner: exact below LARGE_FACTOR_ORDER (or `exactBelow`), else low-rank + diagonal. */
function factorApproximation(backend: Backend, a: Float64Array, n: number, rank: number, seed: number, exactBelow: number): FactorApproximation {
  if (n < exactBelow) {
    const { inverse, damping } = dampedSpdInverse(backend.linalg, a, n);
    return { kind: 'exact', inverse: backend.fromArray(inverse, [n, n]), note: damping > 0 ? `damped by ${damping.toExponential(1)}` : undefined };
  }
  return approximateInverse(backend, a, n, rank, seed);
}

/**
 * The preconditioner of a Sum of Kroneckers (or of one Kronecker) from its nearest Kronecker
 * product X (x) Y, with the inverse of each factor of order >= exactBelow (default
 * LARGE_FACTOR_ORDER; 0 makes both low-rank) replaced by rank + diagonal; cached beside the sum.
 */
export function lowRankKronecker(op: LinearOperator, parts: readonly KroneckerOperator[], options: { rank?: number; exactBelow?: number } = {}): Preconditioner {
  const rank = options.rank ?? LOW_RANK;
  const exactBelow = options.exactBelow ?? LARGE_FACTOR_ORDER;
  return derived(
    op,
    `low-rank-kronecker:${rank}:${exactBelow}`,
    () => {
      const backend = parts[0].backend;
      const { alpha, beta } = kroneckerApproximationWeights(backend.linalg, parts, 'nearest');
      const x = weightedSum(parts.map((k) => k.hostG.data), alpha);
      const y = weightedSum(parts.map((k) => k.hostA.data), beta);
      const [m, n] = [parts[0].hostG.n, parts[0].hostA.n];
      const fx = factorApproximation(backend, x, m, rank, 1, exactBelow);
      const fy = factorApproximation(backend, y, n, rank, 2, exactBelow);
      const describe = (f: FactorApproximation) => (f.kind === 'exact' ? 'exact' : `rank ${f.rank} + diagonal`);
      const notes = [fx, fy].map((f, i) => (f.kind === 'exact' && f.note ? `${i === 0 ? 'X' : 'Y'} ${f.note}` : '')).filter(Boolean);
      return {
        operator: new LowRankKroneckerPreconditioner(backend, fx, fy, [m, n]),
        description: `kronecker (nearest; X ${describe(fx)}, Y ${describe(fy)})`,
        note: notes.length ? `Kronecker preconditioner: ${notes.join(', ')}` : undefined,
      };
    },
    (p) => p.operator?.dispose?.(),
  );
}

/**
 * Factor orders from which 'auto' takes the low-rank-plus-diagonal approximation instead of
 * exact inverses of the nearest Kronecker product: there the two explicit inverses cost
 * about 2.3 n^3 flops each and n^2 doubles on the host and on the backend (at n = 14336, about
 * 13 TFLOP and 1.6 GiB apiece, and the eigendecompositions a singular factor would need do
 * not fit the CPU backend's 4 GiB kernel memory); below it the exact inverses are cheaper
 * than the iterations they save (bench: npm run bench -- --only preconditioner).
 */
export const LARGE_FACTOR_ORDER = 8192;

/** 'auto' for a Sum of Kroneckers: by the size of its largest factor. */
export function kroneckerBySize(op: LinearOperator, parts: readonly KroneckerOperator[], exact: () => Preconditioner, threshold = LARGE_FACTOR_ORDER): Preconditioner {
  const order = Math.max(parts[0].hostG.n, parts[0].hostA.n);
  return order >= threshold ? lowRankKronecker(op, parts, { exactBelow: threshold }) : exact();
}
