import { createCpuBackend } from '@mats/backend-cpu';
import { DiagonalOperator, add, registerOperatorKind, solve, type Backend, type DType, type LinearOperator, type Tensor } from '@mats/core';

/**
 * C = I + lambda L on a vector block of n entries, L the second-difference matrix of a chain:
 * (C x)_i = (1 + 2 lambda) x_i - lambda (x_{i-1} + x_{i+1}), zero beyond the ends. A
 * smoothness prior that couples neighbouring entries (positions of an embedding, say),
 * computed matrix-free on the host: apply reads x into a host buffer and writes the result
 * into out (backend.read, backend.write), so it allocates no tensor per call, on any backend.
 */
export class ChainSmoothness implements LinearOperator {
  readonly kind = 'chain-smoothness';
  readonly tags = { symmetric: true, psd: true };
  readonly shape: readonly number[];
  readonly dtype: DType;
  private readonly x: Float64Array; // host buffers, made once
  private readonly y: Float64Array;

  constructor(
    readonly backend: Backend,
    readonly n: number,
    readonly lambda: number, // >= 0
  ) {
    this.shape = [n];
    this.dtype = backend.dtype;
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
  }

  apply(x: Tensor, out: Tensor): void {
    const { n, lambda, y } = this;
    const v = this.backend.read(x, this.x);
    for (let i = 0; i < n; i++) {
      const neighbours = (i > 0 ? v[i - 1] : 0) + (i < n - 1 ? v[i + 1] : 0);
      y[i] = (1 + 2 * lambda) * v[i] - lambda * neighbours;
    }
    this.backend.write(out, y);
  }
}

registerOperatorKind<ChainSmoothness>('chain-smoothness', {
  // diag(C) = 1 + 2 lambda everywhere
  diagonal: (op) => {
    const d = op.backend.zeros(op.shape);
    op.backend.fill(d, 1 + 2 * op.lambda);
    return d;
  },
});

/** A diagonal Fisher merged under the smoothness prior: (F + C) x = b by PCG, Jacobi from the registered diagonal. */
export function smoothedFisherExample(n = 64, lambda = 0.5) {
  const backend = createCpuBackend('float64');
  const prior = new ChainSmoothness(backend, n, lambda);
  const fisher = new DiagonalOperator(backend.fromArray(Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(i) ** 2), [n]));
  const b = backend.fromArray(Float64Array.from({ length: n }, (_, i) => Math.cos(0.3 * i)), [n]);
  const merged = solve(add(fisher, prior), b, { rtol: 1e-10 });
  return { backend, prior, fisher, b, merged };
}
