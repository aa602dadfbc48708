/**
 * pcgMixedPrecision: float32 products (the CPU backend's prepared K-FAC sum) inside float64
 * iterative refinement. It must meet pcg's stopping rule on the true float64 residual, even
 * for tolerances float32 products cannot reach on their own, fall back to float64 PCG where
 * they stall, and run plain pcg where the operator has no float32 version.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { DenseOperator, KroneckerOperator, pcg, pcgMixedPrecision, sumOf, type Backend, type LinearOperator, type Tensor } from '@mats/core';
import { randomArray, randomSpd } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { distance, host, norm } from './helpers.js';

function kfacSystem(backend: Backend, m: number, n: number, models: number, seed: number, shift = 0.1): { A: LinearOperator; b: Tensor } {
  const parts = Array.from({ length: models }, (_, i) => new KroneckerOperator(backend.fromArray(randomSpd(m, seed + 2 * i, shift), [m, m]), backend.fromArray(randomSpd(n, seed + 2 * i + 1, shift), [n, n]), { psd: true }));
  return { A: sumOf(parts), b: backend.fromArray(randomArray(m * n, seed - 1), [m, n]) };
}

/** ||b - A x|| in float64. */
function trueResidual(A: LinearOperator, b: Tensor, x: Tensor): number {
  const backend = b.backend;
  const r = backend.zeros(b.shape);
  A.apply(x, r);
  const out = norm(host(r).map((v, i) => host(b)[i] - v));
  backend.dispose(r);
  return out;
}

describe('pcgMixedPrecision', () => {
  const backend = createCpuBackend('float64');

  it('reaches a float64 tolerance (1e-11) that float32 products alone cannot, and agrees with pcg', () => {
    const { A, b } = kfacSystem(backend, 48, 40, 4, 3);
    const mixed = pcgMixedPrecision(A, b, { rtol: 1e-11, preconditioner: 'auto' });
    expect(mixed.status, mixed.message).toBe('converged');
    expect(mixed.precision).toBe('mixed');
    expect(mixed.refinements).toBeGreaterThan(1);
    expect(mixed.lowPrecisionIterations).toBeGreaterThan(0);
    const bNorm = backend.nrm2(b);
    const actual = trueResidual(A, b, mixed.x);
    expect(actual).toBeLessThanOrEqual(1e-11 * bNorm);
    expect(Math.abs(mixed.residualNorm - actual)).toBeLessThanOrEqual(1e-3 * actual + 1e-14 * bNorm);
    const plain = pcg(A, b, { rtol: 1e-11, preconditioner: 'auto' });
    expect(distance(host(mixed.x), host(plain.x))).toBeLessThanOrEqual(1e-8 * norm(host(plain.x)));
  });

  it('starts from x0 and reports the rounds in its history (one entry per float64 residual)', () => {
    const { A, b } = kfacSystem(backend, 30, 20, 3, 11);
    const x0 = backend.fromArray(randomArray(600, 4), [30, 20]);
    const mixed = pcgMixedPrecision(A, b, { x0, rtol: 1e-6, preconditioner: 'auto' });
    expect(mixed.status).toBe('converged');
    expect(mixed.history.length).toBe(mixed.refinements + 1);
    expect(mixed.initialResidualNorm).toBeCloseTo(trueResidual(A, b, x0), 8);
    expect(Array.from(backend.toArray(x0)).slice(0, 3)).toEqual(Array.from(randomArray(600, 4)).slice(0, 3));
  });

  it('finishes in float64 where float32 products stall (condition number ~1e9), still converged', () => {
    // Factors with eigenvalues down to ~3e-5 each: the Kronecker products reach ~1e9.
    const { A, b } = kfacSystem(backend, 40, 40, 2, 21, 3e-5);
    const mixed = pcgMixedPrecision(A, b, { rtol: 1e-10, maxIterations: 5000 });
    expect(mixed.status, mixed.message).toBe('converged');
    expect(trueResidual(A, b, mixed.x)).toBeLessThanOrEqual(1e-10 * backend.nrm2(b));
    expect(mixed.note).toMatch(/float64 PCG finished/);
  });

  it("keeps pcg's status contract: never converged above max(atol, rtol ||b||); nonFinite input; a fired signal stops it", () => {
    const { A, b } = kfacSystem(backend, 24, 20, 3, 31, 1e-3);
    const bNorm = backend.nrm2(b);
    for (const maxIterations of [1, 3, 8, 40]) {
      const r = pcgMixedPrecision(A, b, { rtol: 1e-12, maxIterations });
      const actual = trueResidual(A, b, r.x);
      if (r.status === 'converged') expect(actual, r.message).toBeLessThanOrEqual(1e-12 * bNorm);
      else expect(actual, r.message).toBeGreaterThan(1e-12 * bNorm);
      expect(['converged', 'maxIterations', 'stagnated']).toContain(r.status);
      expect(Math.abs(r.residualNorm - actual)).toBeLessThanOrEqual(1e-6 * actual + 1e-14 * bNorm);
    }
    const bad = host(b);
    bad[5] = Number.NaN;
    const nan = pcgMixedPrecision(A, backend.fromArray(bad, b.shape), { rtol: 1e-8 });
    expect(nan.status).toBe('nonFinite');
    expect(nan.message).toMatch(/NaN/);
    const controller = new AbortController();
    controller.abort();
    const stopped = pcgMixedPrecision(A, b, { rtol: 1e-10, signal: controller.signal });
    expect(stopped.status, stopped.message).toBe('stopped');
  });

  it('runs plain float64 pcg where the operator has no float32 version, and says so', () => {
    const n = 30;
    const dense = new DenseOperator(backend.fromArray(randomSpd(n, 5), [n, n]), { psd: true });
    const b = backend.fromArray(randomArray(n, 6), [n]);
    const mixed = pcgMixedPrecision(dense, b, { rtol: 1e-10 });
    expect(mixed.precision).toBe('float64');
    expect(mixed.status).toBe('converged');
    expect(mixed.note).toMatch(/no float32 version/);
    const ts = createCpuBackend('float64', { kernels: 'typescript' });
    const system = kfacSystem(ts, 10, 8, 2, 7);
    expect(pcgMixedPrecision(system.A, system.b, { rtol: 1e-8 }).precision).toBe('float64');
  });
});
