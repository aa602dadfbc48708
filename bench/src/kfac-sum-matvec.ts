/**
 * Y = sum_i G_i X A_i on a Backend (DESIGN.md section 3: the K-FAC operator W -> G W A), the
 * whole cost of one CG iteration of a K-FAC merge but for a few vector operations: as 2 M
 * gemms through the Backend interface (what any backend can do), or through the backend's
 * prepareKroneckerSum where it has one (ours: fused per model on every core).
 */
import type { Backend, DType, PreparedOperator, Tensor } from '@mats/core';
import type { KfacProblem } from './kfac-problem.js';

export class KfacSumMatvec {
  private readonly g: Tensor[];
  private readonly a: Tensor[];
  private readonly temp: Tensor;
  private readonly prepared: PreparedOperator | undefined;

  /** fused: use backend.prepareKroneckerSum (in `precision`) when it has one. */
  constructor(
    private readonly backend: Backend,
    problem: KfacProblem,
    options: { fused?: boolean; precision?: DType } = {},
  ) {
    const shape = [problem.n, problem.n];
    this.g = problem.g.map((x) => backend.fromArray(x, shape));
    this.a = problem.a.map((x) => backend.fromArray(x, shape));
    this.temp = backend.zeros(shape);
    if (options.fused) this.prepared = backend.prepareKroneckerSum?.(this.g, this.a, options.precision ? { precision: options.precision } : undefined);
  }

  /** Whether apply runs the backend's prepared (fused) operator. */
  get fused(): boolean {
    return this.prepared !== undefined;
  }

  /** y <- sum_i G_i x A_i; x, y [n, n]. */
  apply(x: Tensor, y: Tensor): void {
    if (this.prepared) {
      this.prepared.apply(x, y);
      return;
    }
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
    this.prepared?.dispose();
    for (const t of [...this.g, ...this.a, this.temp]) this.backend.dispose(t);
  }
}
