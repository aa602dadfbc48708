/**
 * Y = sum_i G_i X A_i on a Backend, two gemms per model (DESIGN.md section 3: the K-FAC
 * operator W -> G W A). This is the whole cost of one CG iteration of a K-FAC merge but for a
 * few vector operations.
 */
import type { Backend, Tensor } from '@mats/core';
import type { KfacProblem } from './kfac-problem.js';

export class KfacSumMatvec {
  private readonly g: Tensor[];
  private readonly a: Tensor[];
  private readonly temp: Tensor;

  constructor(
    private readonly backend: Backend,
    problem: KfacProblem,
  ) {
    const shape = [problem.n, problem.n];
    this.g = problem.g.map((x) => backend.fromArray(x, shape));
    this.a = problem.a.map((x) => backend.fromArray(x, shape));
    this.temp = backend.zeros(shape);
  }

  /** y <- sum_i G_i x A_i; x, y [n, n]. */
  apply(x: Tensor, y: Tensor): void {
    for (let i = 0; i < this.g.length; i++) {
      this.backend.gemm('N', 'N', 1, this.g[i], x, 0, this.temp);
      this.backend.gemm('N', 'N', 1, this.temp, this.a[i], i === 0 ? 0 : 1, y);
    }
  }

  /** Floating-point operations of one apply. */
  static flops(models: number, n: number): number {
    return models * 2 * 2 * n ** 3;
  }

  dispose(): void {
    for (const t of [...this.g, ...this.a, this.temp]) this.backend.dispose(t);
  }
}
