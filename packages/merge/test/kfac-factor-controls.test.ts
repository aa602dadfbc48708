/**
 * The K-FAC factor controls of mats (METHODS.md, "K-FAC factors"): damping of G_i alone and of
 * A_i alone, absolute, relative to the factor's mean eigenvalue or shared (relative to the
 * tasks' average), per-task normalisation of
 * G_i, against a dense solve of the damped system; and the two limits of the damping, checked
 * numerically as beta grows:
 *   (G_i + beta I) (x) A_i            -> RegMean (I (x) A_i), the weights w_i;
 *   (G_i + beta tr(G_i)/n I) (x) A_i  -> RegMean weighted by w_i tr(G_i);
 *   (G_i + beta mean_j tr(G_j)/n I)   -> RegMean (shared damping);
 *   the same after G_i -> G_i / (tr(G_i)/n) -> plain RegMean.
 */
import fc from 'fast-check';
import { referenceSymmetricEigen } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import type { TensorReport } from '../src/methods/method.js';
import type { MergeEvent } from '../src/pipeline/run.js';
import { mergeInMemory, type HarnessResult } from './merge-harness.js';
import { closeTo, harnessInputs, makeProblem, referenceKfac, referenceRegmean, specArb, type Problem, type StatisticName } from './subspace-fixtures.js';

const ALL: StatisticName[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];
const CONVERGED = { rtol: 1e-13, iterations: 2000, init: 'zeros' };

const kfac = (p: Problem, parameters: Record<string, unknown>) => mergeInMemory({ method: 'mats', parameters: { subspace: 'kfac', ...CONVERGED, ...parameters }, ...harnessInputs(p, ALL) });
const weightOf = (r: HarnessResult) => r.tensors.get('layer.weight')!;
const reportOf = (r: HarnessResult, name: string): TensorReport | undefined =>
  r.events.find((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor' && e.name === name)?.report;

/** max_j |x_j - y_j| / max(1, max_j |y_j|) */
function distance(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  let scale = 1;
  for (let j = 0; j < y.length; j++) {
    d = Math.max(d, Math.abs(x[j] - y[j]));
    scale = Math.max(scale, Math.abs(y[j]));
  }
  return d / scale;
}

const trace = (m: Float64Array, n: number) => Array.from({ length: n }, (_, i) => m[i * (n + 1)]).reduce((a, b) => a + b, 0);

/** Distances of the K-FAC merge from `limit` as beta grows: each 100x step must cut it ~100x (O(1/beta)). */
async function expectLimit(p: Problem, damping: (beta: number) => Record<string, unknown>, limit: Float64Array): Promise<number[]> {
  const betas = [1e1, 1e3, 1e5];
  const distances: number[] = [];
  for (const beta of betas) distances.push(distance(weightOf(await kfac(p, damping(beta))), limit));
  expect(distances[1], `${distances}`).toBeLessThan(distances[0] / 30);
  expect(distances[2], `${distances}`).toBeLessThan(distances[1] / 30);
  expect(distances[2]).toBeLessThan(1e-4);
  return distances;
}

describe('mats kfac: factor controls', () => {
  it('converged, equals the dense solve with G_i and A_i damped (relative, absolute) and G_i normalised as configured', async () => {
    const dampingArb = fc.record({ relative: fc.constantFrom(0, 0.1, 1), absolute: fc.constantFrom(0, 0.05, 2), shared: fc.constantFrom(0, 0.3) });
    await fc.assert(
      fc.asyncProperty(specArb, dampingArb, dampingArb, fc.boolean(), fc.constantFrom(1, 0.7), async (spec, grad, input, normalize, shrink) => {
        const p = makeProblem(spec);
        const r = await kfac(p, { grad_damping: grad, input_damping: input, normalize_grad: normalize, shrink });
        expect(closeTo(weightOf(r), referenceKfac(p, shrink, { grad: { ...grad, normalize }, input }), 1e-9)).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  it('a number is relative damping; damping (every factor) adds to grad_damping and input_damping', async () => {
    const p = makeProblem({ seed: 5, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
    const r = await kfac(p, { damping: 0.2, grad_damping: 0.5, input_damping: { absolute: 0.1 } });
    expect(closeTo(weightOf(r), referenceKfac(p, 1, { grad: { relative: 0.7 }, input: { relative: 0.2, absolute: 0.1 } }), 1e-9)).toBe(true);
  });

  it('the default damps every G_i by the tasks\' average mean eigenvalue (grad_damping {shared: 1}); reference: true keeps the paper\'s undamped factors', async () => {
    const p = makeProblem({ seed: 9, models: 3, out: 3, inp: 3, weights: [1, 1, 1] });
    const byDefault = await kfac(p, {});
    expect(closeTo(weightOf(byDefault), referenceKfac(p, 1, { grad: { shared: 1 } }), 1e-9)).toBe(true);
    expect(closeTo(weightOf(byDefault), referenceKfac(p, 1, { grad: { relative: 1 } }), 1e-6)).toBe(false);
    expect(distance(weightOf(byDefault), referenceKfac(p))).toBeGreaterThan(1e-3);
    const reference = await mergeInMemory({ method: 'mats', parameters: { subspace: 'kfac', reference: true, iterations: 300, init: 'zeros' }, ...harnessInputs(p, ALL) });
    // scipy's legacy rule stops at ||r|| <= 1e-5 ||b||: close to the undamped solution, not the damped one.
    expect(distance(weightOf(reference), referenceKfac(p))).toBeLessThan(1e-3);
    expect(distance(weightOf(reference), referenceKfac(p, 1, { grad: { shared: 1 } }))).toBeGreaterThan(1e-3);
  });

  it('absolute damping of G: as beta grows the K-FAC merge tends to the RegMean merge', async () => {
    for (const seed of [11, 12]) {
      const p = makeProblem({ seed, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
      await expectLimit(p, (beta) => ({ grad_damping: { absolute: beta } }), referenceRegmean(p));
    }
  });

  it('shared damping of G (the tasks\' average mean eigenvalue): the limit is plain RegMean', async () => {
    const p = makeProblem({ seed: 13, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
    await expectLimit(p, (beta) => ({ grad_damping: { shared: beta } }), referenceRegmean(p));
  });

  it('relative damping of G: the limit is RegMean weighted by tr(G_i), and plain RegMean after normalising G_i', async () => {
    for (const seed of [21, 22]) {
      const p = makeProblem({ seed, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
      const byTrace: Problem = { ...p, weights: p.weights.map((w, i) => w * trace(p.tasks[i].gradGram, p.out)) };
      const weighted = referenceRegmean(byTrace);
      const plain = referenceRegmean(p);
      const toWeighted = await expectLimit(p, (beta) => ({ grad_damping: beta }), weighted);
      // The two limits differ (the traces differ): the test tells them apart.
      expect(distance(weighted, plain)).toBeGreaterThan(100 * toWeighted[2]);
      await expectLimit(p, (beta) => ({ grad_damping: beta, normalize_grad: true }), plain);
    }
  });

  it('reports, per task, the traces and effective ranks of G_i and A_i and the conditioning of the summed factors', async () => {
    const p = makeProblem({ seed: 31, models: 2, out: 3, inp: 4, weights: [1, 1] });
    const r = await kfac(p, { grad_damping: 0 });
    const diagnostics = reportOf(r, 'layer.weight')!.diagnostics as {
      tasks: { model: number; grad: { trace: number; effectiveRank: number }; input: { trace: number; effectiveRank: number } }[];
      summedGrad: { min: number; max: number; condition: number; exact: boolean };
      summedInput: { condition: number; exact: boolean };
      residualHistory: number[];
    };
    expect(diagnostics.tasks.map((t) => t.model)).toEqual([0, 1]);
    diagnostics.tasks.forEach((t, i) => {
      expect(t.grad.trace).toBeCloseTo(trace(p.tasks[i].gradGram, p.out), 10);
      expect(t.input.trace).toBeCloseTo(trace(p.tasks[i].inputGram, p.inp), 10);
      const frob2 = p.tasks[i].gradGram.reduce((s, v) => s + v * v, 0);
      expect(t.grad.effectiveRank).toBeCloseTo(t.grad.trace ** 2 / frob2, 10);
      expect(t.grad.effectiveRank).toBeGreaterThanOrEqual(1 - 1e-12);
      expect(t.grad.effectiveRank).toBeLessThanOrEqual(p.out + 1e-12);
    });
    // Factors this small are solved exactly by Lanczos: the condition number of G_1 + G_2 itself.
    expect(diagnostics.summedGrad.exact).toBe(true);
    const { values } = referenceSymmetricEigen(p.tasks[0].gradGram.map((v, k) => v + p.tasks[1].gradGram[k]), p.out);
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    expect(diagnostics.summedGrad.min).toBeCloseTo(lo, 8);
    expect(diagnostics.summedGrad.max).toBeCloseTo(hi, 8);
    expect(diagnostics.summedGrad.condition / (hi / lo)).toBeCloseTo(1, 8);
    // The CG residual history: one entry per iteration and the initial one, ending at the reported residual.
    const report = reportOf(r, 'layer.weight')!;
    expect(diagnostics.residualHistory).toHaveLength(report.iterations! + 1);
    expect(diagnostics.residualHistory[0]).toBeCloseTo(report.initialResidualNorm!, 10);
  });
});
