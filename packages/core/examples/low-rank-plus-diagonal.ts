import { createCpuBackend } from '@mats/backend-cpu';
import {
  DiagonalOperator,
  add,
  registerOperatorKind,
  solve,
  type Backend,
  type LinearOperator,
  type Tensor,
} from '@mats/core';

/**
 * C = diag(d) + U U^T on a vector block of n entries: a Fisher estimated from k gradients
 * (the columns of U, [n, k]) plus a diagonal. The block is an [n, 1] column, so gemm reads
 * x directly and apply allocates nothing.
 */
export class LowRankPlusDiagonal implements LinearOperator {
  readonly kind = 'low-rank-plus-diagonal';
  readonly tags = { symmetric: true, psd: true };
  readonly shape: readonly number[];
  readonly dtype;
  readonly backend: Backend;
  private readonly coefficients: Tensor; // [k, 1]: U^T x

  constructor(
    readonly d: Tensor, // [n, 1], entries > 0
    readonly u: Tensor, // [n, k]
  ) {
    this.backend = d.backend;
    this.dtype = d.dtype;
    this.shape = d.shape;
    this.coefficients = this.backend.zeros([u.shape[1], 1]);
  }

  apply(x: Tensor, out: Tensor): void {
    const be = this.backend;
    be.mul(this.d, x, out); // out = d .* x
    be.gemm('T', 'N', 1, this.u, x, 0, this.coefficients); // c = U^T x
    be.gemm('N', 'N', 1, this.u, this.coefficients, 1, out); // out += U c
  }
}

registerOperatorKind<LowRankPlusDiagonal>('low-rank-plus-diagonal', {
  // diag(C)_i = d_i + sum_j U_ij^2
  diagonal: (op) => {
    const [n, k] = op.u.shape;
    const d = op.backend.toArray(op.d);
    const u = op.backend.toArray(op.u);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = d[i];
      for (let j = 0; j < k; j++) out[i] += u[i * k + j] ** 2;
    }
    return op.backend.fromArray(out, op.shape);
  },
  // Woodbury: C^-1 b = y - V (I + U^T V)^-1 U^T y, with y = D^-1 b and V = D^-1 U [n, k]:
  // one k x k Cholesky instead of an n x n one.
  solve: (op, b) => {
    const [n, k] = op.u.shape;
    const { linalg } = op.backend;
    const d = op.backend.toArray(op.d);
    const u = op.backend.toArray(op.u);
    const y = op.backend.toArray(b).map((v, i) => v / d[i]);
    const v = u.map((x, ij) => x / d[Math.floor(ij / k)]);
    const small = new Float64Array(k * k); // I + U^T V
    const uty = new Float64Array(k); // U^T y
    for (let p = 0; p < k; p++) {
      small[p * k + p] = 1;
      for (let i = 0; i < n; i++) {
        uty[p] += u[i * k + p] * y[i];
        for (let q = 0; q < k; q++) small[p * k + q] += u[i * k + p] * v[i * k + q];
      }
    }
    const l = linalg.cholesky(small, k);
    const z = linalg.solveTriangular(l, k, linalg.solveTriangular(l, k, uty, 1, { lower: true }), 1, { lower: true, transpose: true });
    for (let i = 0; i < n; i++) for (let q = 0; q < k; q++) y[i] -= v[i * k + q] * z[q];
    return op.backend.fromArray(y, b.shape);
  },
});

/** Builds C, solves C x = b by its own rule, and merges it with a diagonal task by PCG. */
export function lowRankExample(n = 50, k = 3) {
  const backend = createCpuBackend('float64');
  const random = (count: number, seed: number) => Float64Array.from({ length: count }, (_, i) => Math.sin(seed * 1000 + i * 7.3));
  const c = new LowRankPlusDiagonal(
    backend.fromArray(random(n, 1).map((v) => 1.5 + v), [n, 1]),
    backend.fromArray(random(n * k, 2), [n, k]),
  );
  const b = backend.fromArray(random(n, 3), [n]);

  const exact = solve(c, b); // the registered Woodbury rule: method 'registered:low-rank-plus-diagonal'
  const fisher = new DiagonalOperator(backend.fromArray(random(n, 4).map((v) => 2 + v), [n, 1]));
  const merged = solve(add(c, fisher), b, { rtol: 1e-10 }); // PCG, Jacobi from the registered diagonal
  return { backend, c, fisher, b, exact, merged };
}
