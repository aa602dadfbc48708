import { KroneckerOperator, pcg, SumOperator, type Backend } from '@mats/core';
import { mulberry32, randomArray, referenceMatVec } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { createGpuBackend, type GpuMode } from '../src/index.js';
import { describeWithHeadlessGl } from './headlessgl.js';

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** A symmetric [n, n] factor I + (R + R^T) / (2.5 sqrt n): eigenvalues within about [0.35, 1.65]. */
function wellConditionedFactor(n: number, seed: number): Float64Array {
  const r = randomArray(n * n, seed);
  const f = new Float64Array(n * n);
  const scale = 1 / (2.5 * Math.sqrt(n));
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f[i * n + j] = (r[i * n + j] + r[j * n + i]) * scale + (i === j ? 1 : 0);
  return f;
}

/** sum_i G_i (x) A_i with three well-conditioned task factors on an [out, in] block. */
function sumOfKroneckers(backend: Backend, out: number, inp: number): SumOperator {
  const parts = [0, 1, 2].map(
    (task) =>
      new KroneckerOperator(backend.fromArray(wellConditionedFactor(out, 10 + task), [out, out]), backend.fromArray(wellConditionedFactor(inp, 20 + task), [inp, inp]), {
        psd: true,
        label: `task ${task}`,
      }),
  );
  return new SumOperator(parts);
}

/** ||b - A x|| / ||b|| in float64, with A's dense float64 matrix: the residual PCG cannot fake. */
function trueRelativeResidual(dense: Float64Array, x: ArrayLike<number>, b: ArrayLike<number>): number {
  const ax = referenceMatVec(dense, Float64Array.from(x), b.length);
  return norm(Array.from(b, (v, i) => v - ax[i])) / norm(b);
}

function describeFloat32Pcg(mode: GpuMode): void {
  describe(`float32 PCG on the gpu backend, ${mode} mode`, () => {
    const backend = createGpuBackend({ mode });
    const [out, inp] = [12, 20];
    const A = sumOfKroneckers(backend, out, inp);
    const dense = A.toDense();
    const rng = mulberry32(7);
    const bHost = Float64Array.from({ length: out * inp }, () => Math.fround(2 * rng() - 1));
    const b = backend.fromArray(bHost, [out, inp]);

    for (const preconditioner of ['none', 'kronecker'] as const) {
      it(`reaches rtol 1e-5 on a well-conditioned Sum of Kroneckers (preconditioner ${preconditioner})`, () => {
        const r = pcg(A, b, { rtol: 1e-5, maxIterations: 500, preconditioner });
        expect(r.status, r.message).toBe('converged');
        const residual = trueRelativeResidual(dense, backend.toArray(r.x), bHost);
        // Convergence is confirmed on a float32 recomputation of b - A x; in float64 the
        // residual differs from it by about u (||A|| ||x|| + ||b||), far below 1e-5.
        expect(residual).toBeLessThanOrEqual(1.05e-5);
        expect(Math.abs(r.residualNorm / norm(bHost) - residual)).toBeLessThanOrEqual(1e-6);
        backend.dispose(r.x);
      });
    }

    it("reports 'stagnated', never 'converged', where float32 cannot reach the tolerance, well before the budget", () => {
      // rtol 1e-10 is far below what float32 arithmetic can resolve (u = 6e-8).
      const r = pcg(A, b, { rtol: 1e-10, maxIterations: 150, recomputeResidualEvery: 10 });
      expect(r.status, r.message).toBe('stagnated');
      expect(r.iterations).toBeLessThan(150);
      expect(r.message).toMatch(/float32 reaches rtol \de-\d+ on this system/);
      const residual = trueRelativeResidual(dense, backend.toArray(r.x), bHost);
      expect(residual).toBeGreaterThan(1e-10);
      // It still got as far as float32 allows: the attainable residual is a few u.
      expect(residual).toBeLessThan(1e-5);
      // And the residual it reports is the true one, not the drifting recursive one.
      expect(Math.abs(r.residualNorm / norm(bHost) - residual)).toBeLessThanOrEqual(1e-6);
      backend.dispose(r.x);
    });
  });
}

describeFloat32Pcg('cpu');
describeWithHeadlessGl('float32 PCG on headless-gl', () => describeFloat32Pcg('headlessgl'));
