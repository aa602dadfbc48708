/**
 * The preconditioner for Sums of Kroneckers with very large factors (dispatch/low-rank-kronecker.ts):
 * symmetric positive definite, exact when its rank covers the factor, good enough for PCG to
 * converge, and what 'auto' picks above the size threshold (exercised with a small threshold).
 */
import { DenseOperator, KroneckerOperator, kroneckerBySize, lowRankKronecker, pcg, preconditioner, sumOf, type KroneckerOperator as K, type LinearOperator, type Tensor } from '@mats/core';
import { randomArray, randomSpd } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { cpu64, host } from './helpers.js';

const backend = cpu64;

function system(m: number, n: number, models: number, seed: number): { op: LinearOperator; parts: K[]; b: Tensor } {
  const parts = Array.from({ length: models }, (_, i) => new KroneckerOperator(backend.fromArray(randomSpd(m, seed + 2 * i), [m, m]), backend.fromArray(randomSpd(n, seed + 2 * i + 1), [n, n]), { psd: true }));
  return { op: sumOf(parts), parts, b: backend.fromArray(randomArray(m * n, seed - 1), [m, n]) };
}

const applyTo = (p: LinearOperator, x: Float64Array, shape: readonly number[]) => {
  const out = backend.zeros(shape);
  p.apply(backend.fromArray(x, shape), out);
  return host(out);
};
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

describe('low-rank-plus-diagonal Kronecker preconditioner', () => {
  it('is symmetric positive definite on random vectors (both factors low-rank)', () => {
    const { op, parts } = system(70, 50, 3, 5);
    const p = lowRankKronecker(op, parts, { rank: 8, exactBelow: 0 }).operator!;
    for (let trial = 0; trial < 3; trial++) {
      const x = randomArray(3500, 10 + trial);
      const y = randomArray(3500, 20 + trial);
      const px = applyTo(p, x, [70, 50]);
      const py = applyTo(p, y, [70, 50]);
      expect(Math.abs(dot(y, px) - dot(x, py))).toBeLessThan(1e-10 * Math.abs(dot(x, px)) + 1e-12);
      expect(dot(x, px)).toBeGreaterThan(0);
    }
  });

  it('equals the exact inverse of the nearest Kronecker product when its rank covers the factors', () => {
    const { op, parts } = system(24, 18, 3, 7);
    const lowRank = lowRankKronecker(op, parts, { rank: 30, exactBelow: 0 }).operator!;
    const exact = preconditioner(op, 'kronecker-nearest')!;
    const x = randomArray(24 * 18, 3);
    const a = applyTo(lowRank, x, [24, 18]);
    const e = applyTo(exact, x, [24, 18]);
    const scale = Math.sqrt(dot(e, e));
    expect(Math.sqrt(dot(a.map((v, i) => v - e[i]), a.map((v, i) => v - e[i])))).toBeLessThan(1e-8 * scale);
  });

  it("lets PCG converge ('kronecker-lowrank'), with the small factor exact and the large one low-rank under 'auto'-by-size", () => {
    const { op, parts, b } = system(40, 90, 4, 11);
    const r = pcg(op, b, { rtol: 1e-8, preconditioner: 'kronecker-lowrank' });
    expect(r.status, r.message).toBe('converged');
    expect(r.preconditioner).toMatch(/rank 16|rank 64/);
    const none = pcg(op, b, { rtol: 1e-8 });
    expect(r.iterations).toBeLessThan(none.iterations);
    // The size rule with a threshold of 64: A (90) gets rank + diagonal, G (40) stays exact.
    const bySize = kroneckerBySize(op, parts, () => ({ operator: null, description: 'exact' }), 64);
    expect(bySize.description).toBe('kronecker (nearest; X exact, Y rank 64 + diagonal)');
    expect(kroneckerBySize(op, parts, () => ({ operator: null, description: 'exact' }), 100).description).toBe('exact');
  });

  it('names what it needs', () => {
    const dense = backend.fromArray(randomSpd(4, 1), [4, 4]);
    const b = backend.fromArray(randomArray(4, 2), [4]);
    expect(() => pcg(new DenseOperator(dense), b, { preconditioner: 'kronecker-lowrank' })).toThrow(/kronecker-lowrank.*needs a Kronecker/);
  });
});
