/**
 * fisher and regmean through the real pipeline, against plain float64 references, and the
 * METHODS.md invariants as fast-check properties on random small models and statistics.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MergeEvent } from '../src/pipeline/run.js';
import { mergeInMemory } from './merge-harness.js';
import { closeTo, harnessInputs, identicalModels, makeProblem, referenceAverage, referenceFisher, referenceRegmean, specArb, type Problem } from './subspace-fixtures.js';

const RUNS = { numRuns: 10 };
const TOL = 1e-10;

const reportOf = (events: MergeEvent[], name: string) => events.find((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor' && e.name === name)?.report;

/** Every model's Fisher (or Gram) replaced by the first model's. */
function sharedStatistics(p: Problem): Problem {
  const t0 = p.tasks[0];
  return { ...p, tasks: p.tasks.map((t) => ({ ...t, fisherWeight: t0.fisherWeight, fisherBias: t0.fisherBias, inputGram: t0.inputGram })) };
}

describe('fisher', () => {
  it('is sum_i w_i F_i theta_i / sum_i w_i F_i with F floored', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const p = makeProblem(spec);
        const { tensors } = await mergeInMemory({ method: 'fisher', ...harnessInputs(p, ['fisher']) });
        expect(closeTo(tensors.get('layer.weight'), referenceFisher(p, (t) => t.weight, (t) => t.fisherWeight), TOL)).toBe(true);
        expect(closeTo(tensors.get('layer.bias'), referenceFisher(p, (t) => t.bias, (t) => t.fisherBias), TOL)).toBe(true);
      }),
      RUNS,
    );
  });

  it('with equal Fishers equals the average; with identical models returns the model', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const p = sharedStatistics(makeProblem(spec));
        const equal = await mergeInMemory({ method: 'fisher', ...harnessInputs(p, ['fisher']) });
        expect(closeTo(equal.tensors.get('layer.weight'), referenceAverage(p, (t) => t.weight), TOL)).toBe(true);
        const same = identicalModels(makeProblem(spec));
        const merged = await mergeInMemory({ method: 'fisher', ...harnessInputs(same, ['fisher']) });
        expect(closeTo(merged.tensors.get('layer.weight'), same.tasks[0].weight, TOL)).toBe(true);
        expect(closeTo(merged.tensors.get('layer.bias'), same.tasks[0].bias, TOL)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a coordinate no task cares about (F = 0 everywhere) gets the average; floor: 0 leaves it at 0', async () => {
    const p = makeProblem({ seed: 7, models: 2, out: 2, inp: 3, weights: [1, 2] });
    const zero: Problem = { ...p, tasks: p.tasks.map((t) => ({ ...t, fisherBias: t.fisherBias.map((v, j) => (j === 0 ? 0 : v)) })) };
    const floored = await mergeInMemory({ method: 'fisher', ...harnessInputs(zero, ['fisher']) });
    const bias = floored.tensors.get('layer.bias')!;
    expect(Math.abs(bias[0] - referenceAverage(zero, (t) => t.bias)[0])).toBeLessThan(1e-12);
    const unfloored = await mergeInMemory({ method: 'fisher', parameters: { floor: 0 }, ...harnessInputs(zero, ['fisher']) });
    expect(unfloored.tensors.get('layer.bias')![0]).toBe(0);
    expect(reportOf(unfloored.events, 'layer.bias')?.details?.note).toMatch(/pseudo-inverse/);
  });

  it('runs in chunks: the same answer whatever the chunk size', async () => {
    const p = makeProblem({ seed: 3, models: 3, out: 4, inp: 4, weights: [1, 0.5, 2] });
    const whole = await mergeInMemory({ method: 'fisher', ...harnessInputs(p, ['fisher']) });
    const chunked = await mergeInMemory({ method: 'fisher', ...harnessInputs(p, ['fisher']), chunkElements: 3 });
    expect(closeTo(chunked.tensors.get('layer.weight'), whole.tensors.get('layer.weight')!, 1e-15)).toBe(true);
  });

  it('falls back to the average where a model has no Fisher, and says which', async () => {
    const p = makeProblem({ seed: 11, models: 2, out: 3, inp: 2, weights: [1, 1] });
    const inputs = harnessInputs(p, ['fisher']);
    delete inputs.stats[1]['layer.bias::fisher'];
    const { tensors, events } = await mergeInMemory({ method: 'fisher', ...inputs });
    expect(closeTo(tensors.get('layer.bias'), referenceAverage(p, (t) => t.bias), 1e-12)).toBe(true);
    expect(reportOf(events, 'layer.bias')?.fallback).toBe('average: models[1] has no fisher for this tensor');
    expect(reportOf(events, 'layer.weight')?.fallback).toBeUndefined();
  });
});

describe('regmean', () => {
  it('is W = (sum_i w_i W_i A_i)(sum_i w_i A_i)^-1 after the shrink; biases are averaged', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom(1, 0.9, 0.5, 0), async (spec, shrink) => {
        const p = makeProblem(spec);
        const { tensors, events } = await mergeInMemory({ method: 'regmean', parameters: { shrink }, ...harnessInputs(p, ['input_gram']) });
        expect(closeTo(tensors.get('layer.weight'), referenceRegmean(p, shrink), 1e-9)).toBe(true);
        expect(closeTo(tensors.get('layer.bias'), referenceAverage(p, (t) => t.bias), 1e-12)).toBe(true);
        expect(reportOf(events, 'layer.bias')?.fallback).toMatch(/^average: gram needs a 2-D \[out, in\] weight, this is \[\d\]/);
        expect(reportOf(events, 'layer.weight')).toMatchObject({ status: 'converged', iterations: 0, details: { rule: 'gram' } });
      }),
      RUNS,
    );
  });

  it('with identical Grams equals the average; with identical models returns the model', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const p = sharedStatistics(makeProblem(spec));
        const equal = await mergeInMemory({ method: 'regmean', ...harnessInputs(p, ['input_gram']) });
        expect(closeTo(equal.tensors.get('layer.weight'), referenceAverage(p, (t) => t.weight), 1e-9)).toBe(true);
        const same = identicalModels(makeProblem(spec));
        const merged = await mergeInMemory({ method: 'regmean', ...harnessInputs(same, ['input_gram']) });
        expect(closeTo(merged.tensors.get('layer.weight'), same.tasks[0].weight, 1e-9)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a feature no task fires (singular sum) gets the pseudo-inverse, 0 in W, and the report says so; damping regularises it', async () => {
    const p = makeProblem({ seed: 5, models: 2, out: 2, inp: 3, weights: [1, 1] });
    // Input feature 2 never fires: row and column 2 of every Gram are 0.
    const dead: Problem = { ...p, tasks: p.tasks.map((t) => ({ ...t, inputGram: t.inputGram.map((v, k) => (Math.floor(k / 3) === 2 || k % 3 === 2 ? 0 : v)) })) };
    const { tensors, events } = await mergeInMemory({ method: 'regmean', ...harnessInputs(dead, ['input_gram']) });
    const w = tensors.get('layer.weight')!;
    expect(Math.abs(w[2]) + Math.abs(w[5])).toBeLessThan(1e-12);
    // The live 2 x 2 block is RegMean on the features that fire.
    const live: Problem = { ...dead, inp: 2, tasks: dead.tasks.map((t) => ({ ...t, weight: t.weight.filter((_, k) => k % 3 !== 2), inputGram: Float64Array.from([t.inputGram[0], t.inputGram[1], t.inputGram[3], t.inputGram[4]]) })) };
    expect(closeTo(w.filter((_, k) => k % 3 !== 2), referenceRegmean(live), 1e-9)).toBe(true);
    const report = reportOf(events, 'layer.weight')!;
    expect(report.details?.note).toMatch(/^singular \(A drops 1 of 3 directions\): pseudo-inverse/);
    expect(report).toMatchObject({ status: 'converged', iterations: 0, details: { rule: 'gram' } });
    const damped = await mergeInMemory({ method: 'regmean', parameters: { damping: 0.1 }, ...harnessInputs(dead, ['input_gram']) });
    expect(reportOf(damped.events, 'layer.weight')).toMatchObject({ status: 'converged', details: { rule: 'gram' } });
  });
});
