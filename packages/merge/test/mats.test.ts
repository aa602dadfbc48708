/**
 * mats through the real pipeline: every subspace against a plain float64 reference (the
 * closed forms of METHODS.md, or a dense solve of the K-FAC system), the METHODS.md invariants
 * as fast-check properties on random small models and statistics, the solver settings
 * (exact, reference, initialisations, preconditioners), fallbacks and reports.
 */
import fc from 'fast-check';
import { referenceKronecker, referenceMatVec } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import type { TensorReport } from '../src/methods/method.js';
import type { MergeEvent } from '../src/pipeline/run.js';
import { mergeInMemory, type HarnessResult } from './merge-harness.js';
import {
  closeTo,
  harnessInputs,
  identicalModels,
  makeProblem,
  referenceAverage,
  referenceBlock,
  referenceFisher,
  referenceKfac,
  referenceRegmean,
  specArb,
  type Problem,
  type StatisticName,
} from './subspace-fixtures.js';

const RUNS = { numRuns: 8 };
const ALL: StatisticName[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];
/**
 * Converged: tight enough that the answer is the system's solution to ~1e-10 (conditions here
 * are < 100), with the K-FAC factors as given (grad_damping 0; the damped default has its own
 * tests in kfac-factor-controls.test.ts).
 */
const UNDAMPED = { grad_damping: 0 };
const CONVERGED = { rtol: 1e-13, iterations: 500, init: 'zeros', ...UNDAMPED };

const reportOf = (r: HarnessResult, name: string): TensorReport | undefined =>
  r.events.find((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor' && e.name === name)?.report;

function mats(p: Problem, parameters: Record<string, unknown>, kinds: readonly StatisticName[] | ((i: number) => readonly StatisticName[]) = ALL) {
  return mergeInMemory({ method: 'mats', parameters, ...harnessInputs(p, kinds) });
}

/** The dense K-FAC system of the weight: A = sum_i w_i G_i (x) A_i, b = sum_i w_i vec(G_i W_i A_i). */
function kfacSystem(p: Problem): { a: Float64Array; b: Float64Array; n: number } {
  const n = p.out * p.inp;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  p.tasks.forEach((t, i) => {
    const k = referenceKronecker(t.gradGram, t.inputGram, p.out, p.inp);
    const kw = referenceMatVec(k, t.weight, n);
    for (let j = 0; j < n * n; j++) a[j] += p.weights[i] * k[j];
    for (let j = 0; j < n; j++) b[j] += p.weights[i] * kw[j];
  });
  return { a, b, n };
}

/** One plain CG step from x0: x0 + alpha r0, alpha = r0^T r0 / r0^T A r0 (Hestenes & Stiefel). */
function oneCgStep(a: Float64Array, b: Float64Array, x0: Float64Array, n: number): Float64Array {
  const ax = referenceMatVec(a, x0, n);
  const r = b.map((v, j) => v - ax[j]);
  const ar = referenceMatVec(a, r, n);
  const rr = r.reduce((s, v) => s + v * v, 0);
  const rar = r.reduce((s, v, j) => s + v * ar[j], 0);
  return x0.map((v, j) => v + (rr / rar) * r[j]);
}

describe('mats mixed_precision: float32 products inside float64 refinement', () => {
  it('a K-FAC solve converges to the same tolerance, on the float64 residual, and the report says how', async () => {
    await fc.assert(
      fc.asyncProperty(specArb.map((s) => ({ ...s, models: 3, weights: [s.weights[0], 2, 0.5] })), async (spec) => {
        const p = makeProblem(spec);
        const r = await mats(p, { ...CONVERGED, rtol: 1e-12, subspace: 'kfac', mixed_precision: true });
        expect(closeTo(r.tensors.get('layer.weight'), referenceKfac(p), 1e-9)).toBe(true);
        const report = reportOf(r, 'layer.weight')!;
        expect(report).toMatchObject({ status: 'converged', details: { subspace: 'kfac', rule: 'pcg (float32 products, float64 refinement)' } });
        expect(report.details?.note).toMatch(/float64 refinement rounds?, \d+ iterations with float32 products/);
        // Converged means the float64 residual met the tolerance (init zeros: ||r_0|| = ||b||).
        expect(report.residualNorm!).toBeLessThanOrEqual(1e-12 * report.initialResidualNorm!);
      }),
      RUNS,
    );
  });

  it('does nothing outside the kfac subspace, and says so', async () => {
    const p = makeProblem({ seed: 5, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
    const r = await mats(p, { ...CONVERGED, subspace: 'gram', mixed_precision: true });
    expect(closeTo(r.tensors.get('layer.weight'), referenceRegmean(p, 1), 1e-9)).toBe(true);
    expect(reportOf(r, 'layer.weight')?.details?.note).toMatch(/mixed_precision: not used \(the gram subspace has no float32 product\)/);
  });

  it('is refused with the paper\'s solver and with solver: exact', async () => {
    const p = makeProblem({ seed: 6, models: 3, out: 2, inp: 2, weights: [1, 1, 1] });
    await expect(mats(p, { subspace: 'kfac', reference: true, mixed_precision: true })).rejects.toThrow(/mixed_precision.*reference: true is the paper's float64 CG/s);
    await expect(mats(p, { subspace: 'kfac', solver: 'exact', mixed_precision: true })).rejects.toThrow(/mixed_precision.*solver: exact uses closed forms/s);
  });
});

describe('mats: converged solves equal the closed forms and the dense solve', () => {
  it('identity converges to the weighted average in one iteration, from any initialisation', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom('zeros', 'base', 'task_arithmetic'), async (spec, init) => {
        const p = makeProblem(spec);
        const r = await mats(p, { subspace: 'identity', preconditioner: 'none', init, rtol: 1e-12 }, []);
        expect(closeTo(r.tensors.get('layer.weight'), referenceAverage(p, (t) => t.weight), 1e-12)).toBe(true);
        expect(closeTo(r.tensors.get('layer.bias'), referenceAverage(p, (t) => t.bias), 1e-12)).toBe(true);
        const report = reportOf(r, 'layer.weight')!;
        expect(report.status).toBe('converged');
        expect(report.iterations).toBeLessThanOrEqual(1);
      }),
      RUNS,
    );
  });

  it('diagonal equals Fisher merging; gram equals RegMean (after the shrink); block equals the dense solve', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom('none', 'jacobi', 'auto'), fc.constantFrom(1, 0.7), async (spec, preconditioner, shrink) => {
        const p = makeProblem(spec);
        const diagonal = await mats(p, { ...CONVERGED, subspace: 'diagonal', preconditioner });
        expect(closeTo(diagonal.tensors.get('layer.weight'), referenceFisher(p, (t) => t.weight, (t) => t.fisherWeight), 1e-10)).toBe(true);
        expect(closeTo(diagonal.tensors.get('layer.bias'), referenceFisher(p, (t) => t.bias, (t) => t.fisherBias), 1e-10)).toBe(true);
        const gram = await mats(p, { ...CONVERGED, subspace: 'gram', preconditioner, shrink });
        expect(closeTo(gram.tensors.get('layer.weight'), referenceRegmean(p, shrink), 1e-9)).toBe(true);
        expect(reportOf(gram, 'layer.bias')?.fallback).toMatch(/^average: gram needs a 2-D/);
        const block = await mats(p, { ...CONVERGED, subspace: 'block', preconditioner });
        expect(closeTo(block.tensors.get('layer.bias'), referenceBlock(p), 1e-9)).toBe(true);
        expect(reportOf(block, 'layer.weight')?.fallback).toMatch(/^average: block needs a 1-D parameter/);
      }),
      RUNS,
    );
  });

  it('kfac converged equals a dense solve of (sum_i G_i (x) A_i) vec(W) = sum_i vec(G_i W_i A_i), with every preconditioner', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom('none', 'jacobi', 'kronecker', 'auto'), fc.constantFrom(1, 0.8), async (spec, preconditioner, shrink) => {
        const p = makeProblem(spec);
        const r = await mats(p, { ...CONVERGED, subspace: 'kfac', preconditioner, shrink });
        expect(closeTo(r.tensors.get('layer.weight'), referenceKfac(p, shrink), 1e-9)).toBe(true);
        const report = reportOf(r, 'layer.weight')!;
        expect(report).toMatchObject({ status: 'converged', details: { subspace: 'kfac', rule: 'pcg' } });
        expect(report.residualNorm!).toBeLessThanOrEqual(report.initialResidualNorm!);
        expect(reportOf(r, 'layer.bias')?.fallback).toMatch(/^average: kfac needs a 2-D/);
        expect(closeTo(r.tensors.get('layer.bias'), referenceAverage(p, (t) => t.bias), 1e-12)).toBe(true);
      }),
      RUNS,
    );
  });

  it('the exact two-model K-FAC solve equals converged CG and the dense solve', async () => {
    await fc.assert(
      fc.asyncProperty(specArb.map((s) => ({ ...s, models: 2, weights: [s.weights[0], 2] })), async (spec) => {
        const p = makeProblem(spec);
        const exact = await mats(p, { subspace: 'kfac', solver: 'exact', rtol: 1e-12, init: 'zeros', ...UNDAMPED });
        const cg = await mats(p, { ...CONVERGED, subspace: 'kfac', preconditioner: 'none' });
        expect(reportOf(exact, 'layer.weight')).toMatchObject({ status: 'converged', iterations: 0, details: { rule: 'two-kroneckers' } });
        expect(closeTo(exact.tensors.get('layer.weight'), cg.tensors.get('layer.weight')!, 1e-9)).toBe(true);
        expect(closeTo(exact.tensors.get('layer.weight'), referenceKfac(p), 1e-9)).toBe(true);
      }),
      RUNS,
    );
  });

  it('exact uses every closed form: diagonal, gram, block and a single Kronecker', async () => {
    const p = makeProblem({ seed: 21, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });
    const diagonal = await mats(p, { subspace: 'diagonal', solver: 'exact', init: 'zeros' });
    expect(reportOf(diagonal, 'layer.weight')).toMatchObject({ iterations: 0, details: { rule: 'diagonal' } });
    const gram = await mats(p, { subspace: 'gram', solver: 'exact', init: 'zeros', rtol: 1e-12 });
    expect(reportOf(gram, 'layer.weight')).toMatchObject({ iterations: 0, details: { rule: 'gram' } });
    expect(closeTo(gram.tensors.get('layer.weight'), referenceRegmean(p), 1e-10)).toBe(true);
    const block = await mats(p, { subspace: 'block', solver: 'exact', init: 'zeros', rtol: 1e-12 });
    expect(reportOf(block, 'layer.bias')).toMatchObject({ iterations: 0, details: { rule: 'dense-cholesky' } });
    const one: Problem = { ...p, models: 1, tasks: p.tasks.slice(0, 1), weights: [1] };
    const single = await mats(one, { subspace: 'kfac', solver: 'exact', init: 'zeros', rtol: 1e-12, ...UNDAMPED });
    expect(reportOf(single, 'layer.weight')).toMatchObject({ iterations: 0, details: { rule: 'kronecker' } });
    // Three Kroneckers have no closed form: PCG, and the report says so.
    const three = await mats(p, { subspace: 'kfac', solver: 'exact', init: 'zeros', rtol: 1e-12, iterations: 500, ...UNDAMPED });
    expect(reportOf(three, 'layer.weight')).toMatchObject({ status: 'converged', details: { rule: 'pcg', note: expect.stringMatching(/no closed form for kfac with 3 models; solved by PCG/) } });
    expect(closeTo(three.tensors.get('layer.weight'), referenceKfac(p), 1e-9)).toBe(true);
  });
});

describe('mats: invariants', () => {
  it('M identical models give that model back, in every subspace', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom('identity', 'diagonal', 'gram', 'kfac', 'block', 'auto'), async (spec, subspace) => {
        const p = identicalModels(makeProblem(spec));
        const r = await mats(p, { ...CONVERGED, subspace });
        expect(closeTo(r.tensors.get('layer.weight'), p.tasks[0].weight, 1e-9)).toBe(true);
        expect(closeTo(r.tensors.get('layer.bias'), p.tasks[0].bias, 1e-9)).toBe(true);
      }),
      RUNS,
    );
  });

  it('kfac with one model returns it', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const p = makeProblem({ ...spec, models: 1, weights: [spec.weights[0]] });
        const r = await mats(p, { subspace: 'kfac', rtol: 1e-12, init: 'base' });
        expect(closeTo(r.tensors.get('layer.weight'), p.tasks[0].weight, 1e-10)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a model of weight 0 takes no part (its statistics need not exist)', async () => {
    const p = makeProblem({ seed: 17, models: 3, out: 3, inp: 2, weights: [1, 0, 2] });
    const r = await mats(p, { ...CONVERGED, subspace: 'kfac' }, (i) => (i === 1 ? ['fisher'] : ALL));
    const without: Problem = { ...p, models: 2, tasks: [p.tasks[0], p.tasks[2]], weights: [1, 2] };
    expect(closeTo(r.tensors.get('layer.weight'), referenceKfac(without), 1e-9)).toBe(true);
  });
});

describe('mats: subspace auto and fallbacks', () => {
  it('auto takes the richest statistics present in every model, per tensor, and averages the rest', async () => {
    const p = makeProblem({ seed: 31, models: 2, out: 3, inp: 3, weights: [1, 1] });
    const all = await mats(p, { ...CONVERGED });
    expect(reportOf(all, 'layer.weight')?.details?.subspace).toBe('kfac');
    expect(reportOf(all, 'layer.bias')?.details?.subspace).toBe('block');
    expect(closeTo(all.tensors.get('layer.weight'), referenceKfac(p), 1e-9)).toBe(true);
    expect(closeTo(all.tensors.get('layer.bias'), referenceBlock(p), 1e-9)).toBe(true);

    // Model 1 lacks grad_gram and fisher_block: gram for the weight, diagonal for the bias.
    const partial = await mats(p, { ...CONVERGED }, (i) => (i === 1 ? ['fisher', 'input_gram'] : ALL));
    expect(reportOf(partial, 'layer.weight')?.details?.subspace).toBe('gram');
    expect(reportOf(partial, 'layer.bias')?.details?.subspace).toBe('diagonal');
    expect(closeTo(partial.tensors.get('layer.weight'), referenceRegmean(p), 1e-9)).toBe(true);

    const fisherOnly = await mats(p, { ...CONVERGED }, ['fisher']);
    expect(reportOf(fisherOnly, 'layer.weight')?.details?.subspace).toBe('diagonal');

    // Only the weight has statistics anywhere: the bias falls back to the average and says why.
    const gramOnly = await mats(p, { ...CONVERGED }, ['input_gram']);
    expect(closeTo(gramOnly.tensors.get('layer.bias'), referenceAverage(p, (t) => t.bias), 1e-12)).toBe(true);
    expect(reportOf(gramOnly, 'layer.bias')?.fallback).toBe('average: no subspace has statistics in every model (block: no model has fisher_block for this tensor; diagonal: no model has fisher for this tensor)');
  });

  it('a named subspace whose statistics a model lacks falls back to the average for that tensor, and says which model', async () => {
    const p = makeProblem({ seed: 41, models: 3, out: 2, inp: 3, weights: [1, 1, 1] });
    const r = await mats(p, { subspace: 'kfac' }, (i) => (i === 2 ? ['input_gram'] : ALL));
    expect(closeTo(r.tensors.get('layer.weight'), referenceAverage(p, (t) => t.weight), 1e-12)).toBe(true);
    expect(reportOf(r, 'layer.weight')?.fallback).toBe('average: models[2] has no grad_gram for this tensor');
  });
});

describe('mats: solver settings', () => {
  it('starts from each initialisation: one plain CG step from it (zeros, base, average, task_arithmetic with init_lambda, another method)', async () => {
    const p = makeProblem({ seed: 51, models: 3, out: 2, inp: 3, weights: [1, 0.5, 2] });
    const { a, b, n } = kfacSystem(p);
    const total = p.weights.reduce((s, w) => s + w, 0);
    const inits: [Record<string, unknown>, Float64Array][] = [
      [{ init: 'zeros' }, new Float64Array(n)],
      [{ init: 'base' }, p.base.weight],
      [{ init: 'average' }, referenceAverage(p, (t) => t.weight)],
      [{ init: 'task_arithmetic', init_lambda: 0.25 }, p.base.weight.map((v, j) => v + 0.25 * p.tasks.reduce((s, t, i) => s + p.weights[i] * (t.weight[j] - v), 0))],
      [{}, p.base.weight.map((v, j) => v + 0.3 * p.tasks.reduce((s, t, i) => s + p.weights[i] * (t.weight[j] - v), 0))], // the default: task_arithmetic, lambda 0.3
      [{ init: 'regmean', init_parameters: { shrink: 0.5 } }, referenceRegmean(p, 0.5)],
    ];
    expect(total).toBeGreaterThan(0);
    for (const [init, x0] of inits) {
      const r = await mats(p, { subspace: 'kfac', preconditioner: 'none', iterations: 1, rtol: 1e-14, ...UNDAMPED, ...init });
      expect(closeTo(r.tensors.get('layer.weight'), oneCgStep(a, b, x0, n), 1e-10)).toBe(true);
      const report = reportOf(r, 'layer.weight')!;
      expect(report).toMatchObject({ iterations: 1, status: 'maxIterations' });
      const ax0 = referenceMatVec(a, x0, n);
      expect(report.initialResidualNorm).toBeCloseTo(Math.hypot(...b.map((v, j) => v - ax0[j])), 10);
    }
  });

  it('reference: true is the paper\'s solver: plain CG from task arithmetic (lambda 0.3), `iterations` steps', async () => {
    const p = makeProblem({ seed: 61, models: 3, out: 3, inp: 2, weights: [1, 1, 1] });
    const { a, b, n } = kfacSystem(p);
    const x0 = p.base.weight.map((v, j) => v + 0.3 * p.tasks.reduce((s, t) => s + (t.weight[j] - v), 0));
    const r = await mats(p, { subspace: 'kfac', reference: true, iterations: 1 });
    expect(closeTo(r.tensors.get('layer.weight'), oneCgStep(a, b, x0, n), 1e-10)).toBe(true);
    expect(reportOf(r, 'layer.weight')).toMatchObject({ iterations: 1, status: 'maxIterations', details: { preconditioner: 'none', rule: 'pcg' } });
    // Its default budget is 100 steps, with scipy's legacy stopping rule (tol 1e-5 relative).
    const full = await mats(p, { subspace: 'kfac', reference: true });
    const report = reportOf(full, 'layer.weight')!;
    expect(report.iterations).toBeLessThanOrEqual(100);
    expect(report.status).toBe('converged');
    expect(report.residualNorm!).toBeLessThanOrEqual(1e-5 * Math.hypot(...b) * 1.0001);
  });

  it('reports iterations, status and both residual norms for every solved tensor', async () => {
    const p = makeProblem({ seed: 71, models: 2, out: 4, inp: 3, weights: [1, 1] });
    const r = await mats(p, { subspace: 'auto' });
    for (const name of ['layer.weight', 'layer.bias']) {
      const report = reportOf(r, name)!;
      expect(report.iterations).toBeGreaterThanOrEqual(0);
      expect(report.status).toBe('converged');
      expect(report.initialResidualNorm).toBeGreaterThan(0);
      expect(report.residualNorm!).toBeLessThanOrEqual(1e-5 * 10 * report.initialResidualNorm!);
    }
  });

  it('float32: the K-FAC merge matches the float64 dense solve to float32 accuracy', async () => {
    const p = makeProblem({ seed: 81, models: 3, out: 4, inp: 4, weights: [1, 2, 1] });
    const r = await mergeInMemory({ method: 'mats', parameters: { subspace: 'kfac', rtol: 1e-6, ...UNDAMPED }, ...harnessInputs(p, ALL), precision: 'float32' });
    expect(reportOf(r, 'layer.weight')?.status).toBe('converged');
    expect(closeTo(r.tensors.get('layer.weight'), referenceKfac(p), 1e-4)).toBe(true);
  });
});

describe('mats: parameters', () => {
  async function problems(parameters: Record<string, unknown>): Promise<string> {
    const p = makeProblem({ seed: 1, models: 1, out: 2, inp: 2, weights: [1] });
    try {
      await mats(p, parameters);
    } catch (e) {
      if (e instanceof ValidationError) return e.problems.join('\n');
      throw e;
    }
    return '';
  }

  it('rejects settings that contradict each other, naming the key', async () => {
    expect(await problems({ reference: true, rtol: 1e-8 })).toMatch(/parameters\.rtol: reference: true uses scipy's legacy stopping rule/);
    expect(await problems({ reference: true, preconditioner: 'auto' })).toMatch(/parameters\.preconditioner: reference: true is unpreconditioned CG/);
    expect(await problems({ reference: true, solver: 'exact' })).toMatch(/parameters\.solver: reference: true runs CG/);
    expect(await problems({ init: 'average', init_lambda: 0.5 })).toMatch(/parameters\.init_lambda: only applies with init: task_arithmetic \(init is average\)/);
    expect(await problems({ init: 'zeros', init_parameters: {} })).toMatch(/parameters\.init_parameters: init: zeros takes no parameters/);
    expect(await problems({ subspace: 'gram', preconditioner: 'kronecker' })).toMatch(/parameters\.preconditioner: kronecker preconditions the kfac subspace/);
    expect(await problems({ subspace: 'kfca' })).toMatch(/parameters\.subspace/);
    expect(await problems({ init: 'tie' })).toMatch(/parameters\.init: unknown method 'tie'; did you mean 'ties'\?/);
    expect(await problems({ init: 'ties', init_parameters: { densty: 0.5 } })).toMatch(/parameters\.init\.densty: unknown key; did you mean 'density'\?/);
    expect(await problems({ iterations: -1 })).toMatch(/parameters\.iterations/);
    expect(await problems({ iterations: 2.5 })).toMatch(/parameters\.iterations/);
    expect(await problems({ shrink: 1.5 })).toMatch(/parameters\.shrink/);
  });

  it('needs a base for the default initialisation (task arithmetic), and says so', async () => {
    const p = makeProblem({ seed: 1, models: 2, out: 2, inp: 2, weights: [1, 1] });
    const { base: _base, ...inputs } = harnessInputs(p, ALL);
    await expect(mergeInMemory({ method: 'mats', ...inputs })).rejects.toThrow(/base: method mats needs a base model for parameters\.init \(task_arithmetic\); add base: PATH, or change it/);
    const r = await mergeInMemory({ method: 'mats', parameters: { init: 'average' }, ...inputs });
    expect(reportOf(r, 'layer.weight')?.status).toBe('converged');
  });
});
