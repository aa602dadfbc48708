import { registerOperatorKind, type Backend, type DType, type LinearOperator, type OperatorTags, type Shape, type Tensor } from '@mats/core';

/**
 * A symmetric tridiagonal operator on a vector of n entries: d on the diagonal, e[i] at
 * (i, i + 1) and (i + 1, i). apply runs on backend primitives into scratch made once, so it
 * works on any backend and allocates nothing per call.
 */
export class Tridiagonal implements LinearOperator {
  readonly kind = 'tridiagonal';
  readonly shape: Shape;
  readonly dtype: DType;
  readonly tags: OperatorTags;
  /** d and e as the backend stores them (rounded to its dtype). */
  readonly d: Float64Array; // [n]
  readonly e: Float64Array; // [n - 1]
  private readonly diagonalValues: Tensor; // [n]: d
  private readonly upper: Tensor; // [n]: upper[i] = A[i][i + 1] = e[i], 0 in the last row
  private readonly lower: Tensor; // [n]: lower[i] = A[i][i - 1] = e[i - 1], 0 in the first row
  private readonly scratch: Tensor; // [n]

  constructor(
    readonly backend: Backend,
    d: ArrayLike<number>,
    e: ArrayLike<number>,
    options: { psd?: boolean } = {},
  ) {
    const n = d.length;
    if (n < 1 || e.length !== n - 1) throw new RangeError(`Tridiagonal: d has ${n} entries, so e needs ${n - 1}, got ${e.length}`);
    this.shape = [n];
    this.dtype = backend.dtype;
    this.tags = { symmetric: true, psd: options.psd ?? false }; // psd is declared, not verified
    const stored = (v: number) => (backend.dtype === 'float32' ? Math.fround(v) : v);
    this.d = Float64Array.from(d, stored);
    this.e = Float64Array.from(e, stored);
    this.diagonalValues = backend.fromArray(this.d, [n]);
    this.upper = backend.fromArray(Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? this.e[i] : 0)), [n]);
    this.lower = backend.fromArray(Float64Array.from({ length: n }, (_, i) => (i > 0 ? this.e[i - 1] : 0)), [n]);
    this.scratch = backend.zeros([n]);
  }

  /** out <- A x: out_i = d_i x_i + e_i x_(i+1) + e_(i-1) x_(i-1). */
  apply(x: Tensor, out: Tensor): void {
    const be = this.backend;
    const n = this.shape[0];
    const s = this.scratch;
    be.mul(this.diagonalValues, x, out); // out = d .* x
    be.fill(s, 0);
    be.copyRange(x, 1, s, 0, n - 1); // s_i = x_(i+1)
    be.mul(this.upper, s, s);
    be.axpy(1, s, out); // out += e_i x_(i+1)
    be.fill(s, 0);
    be.copyRange(x, 0, s, 1, n - 1); // s_i = x_(i-1)
    be.mul(this.lower, s, s);
    be.axpy(1, s, out); // out += e_(i-1) x_(i-1)
  }

  diagonal(): Tensor {
    return this.backend.fromArray(this.d, this.shape);
  }

  toDense(): Float64Array {
    const n = this.shape[0];
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + i] = this.d[i];
    for (let i = 0; i < n - 1; i++) {
      m[i * n + i + 1] = this.e[i];
      m[(i + 1) * n + i] = this.e[i];
    }
    return m;
  }
}

registerOperatorKind<Tridiagonal>('tridiagonal', {
  // The Thomas algorithm: Gaussian elimination without pivoting, O(n); stable for a diagonally
  // dominant or positive definite A (Higham, Accuracy and Stability, section 9.6).
  solve: (op, b) => {
    const { d, e } = op;
    const n = d.length;
    const rhs = op.backend.toArray(b);
    const c = new Float64Array(n); // the eliminated upper diagonal
    const y = new Float64Array(n); // the eliminated right-hand side
    for (let i = 0; i < n; i++) {
      const pivot = i === 0 ? d[0] : d[i] - e[i - 1] * c[i - 1];
      if (i < n - 1) c[i] = e[i] / pivot;
      y[i] = i === 0 ? rhs[0] / pivot : (rhs[i] - e[i - 1] * y[i - 1]) / pivot;
    }
    for (let i = n - 2; i >= 0; i--) y[i] -= c[i] * y[i + 1]; // back substitution: y becomes x
    return op.backend.fromArray(y, b.shape);
  },
});
