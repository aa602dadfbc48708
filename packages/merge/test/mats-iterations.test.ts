/**
 * mats from any initialisation, at any CG iteration count from 0 upward: iteration 0 returns
 * the initialisation exactly, every further iteration lowers the error in the system's own norm
 * (CG minimises ||x - x*||_A over the Krylov space), and a converged solve is the solution.
 */
import { referenceKronecker, referenceMatVec } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import type { TensorReport } from '../src/methods/method.js';
import type { MergeEvent } from '../src/pipeline/run.js';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempFolder } from './helpers.js';
import { mergeInMemory, type HarnessResult } from './merge-harness.js';
import { closeTo, harnessInputs, makeProblem, referenceKfac, type Problem, type StatisticName } from './subspace-fixtures.js';

const ALL: StatisticName[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];
const merge = (p: Problem, method: string, parameters: Record<string, unknown>) => mergeInMemory({ method, parameters, ...harnessInputs(p, ALL) });
const reportOf = (r: HarnessResult, name: string): TensorReport | undefined =>
  r.events.find((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor' && e.name === name)?.report;

/** Largest |x_j - y_j|: 0 means equal to the last bit. */
const maxDifference = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((m, v, j) => Math.max(m, Math.abs(v - y[j])), 0);

describe('mats: iterations from 0 upward, from any initialisation', () => {
  const p = makeProblem({ seed: 91, models: 3, out: 3, inp: 4, weights: [1, 2, 0.5] });

  it('iterations: 0 returns the initialisation exactly, whatever the method that made it', async () => {
    const inits: [string, Record<string, unknown>][] = [
      ['task_arithmetic', { lambda: 0.4 }],
      ['regmean', { shrink: 0.8 }],
      ['fisher', {}],
      ['ties', { density: 0.5 }],
      ['average', {}],
    ];
    for (const [method, parameters] of inits) {
      const init = await merge(p, method, parameters);
      // subspace auto: kfac for the weight, block for the bias: both solved, so both start from the init.
      const zero = await merge(p, 'mats', { init: method, init_parameters: parameters, iterations: 0 });
      for (const name of ['layer.weight', 'layer.bias']) {
        expect(maxDifference(zero.tensors.get(name)!, init.tensors.get(name)!), `${method} ${name}`).toBe(0);
        const report = reportOf(zero, name)!;
        expect(report).toMatchObject({ iterations: 0, status: 'maxIterations' });
        expect(report.residualNorm).toBe(report.initialResidualNorm);
        expect(report.initialResidualNorm).toBeGreaterThan(0);
      }
    }
    const zeros = await merge(p, 'mats', { init: 'zeros', iterations: 0 });
    expect(maxDifference(zeros.tensors.get('layer.weight')!, new Float64Array(p.out * p.inp))).toBe(0);
  });

  it('init: checkpoint starts from another config\'s output (init_path, relative to the config), exactly at iteration 0', async () => {
    const regmean = await merge(p, 'regmean', { shrink: 0.8 });
    const dir = await tempFolder();
    const init = { init: 'checkpoint', init_path: relative(dir, regmean.output) };
    const zero = await mergeInMemory({ method: 'mats', parameters: { ...init, iterations: 0 }, ...harnessInputs(p, ALL), dir });
    for (const name of ['layer.weight', 'layer.bias']) expect(maxDifference(zero.tensors.get(name)!, regmean.tensors.get(name)!), name).toBe(0);
    // No base needed for this start, and CG from it reaches the system's solution.
    const { base: _base, ...noBase } = harnessInputs(p, ALL);
    const solved = await mergeInMemory({ method: 'mats', parameters: { ...init, subspace: 'kfac', grad_damping: 0, preconditioner: 'none', rtol: 1e-14, iterations: 1000 }, ...noBase, dir: await tempFolder() });
    expect(closeTo(solved.tensors.get('layer.weight'), referenceKfac(p), 1e-9)).toBe(true);
    // A checkpoint that is not there is named; the merge fails and writes nothing.
    const failed = await tempFolder();
    await expect(mergeInMemory({ method: 'mats', parameters: { init: 'checkpoint', init_path: 'nowhere' }, ...harnessInputs(p, ALL), dir: failed })).rejects.toThrow(/init_path .*nowhere: cannot open the initialisation checkpoint/);
    expect(existsSync(join(failed, 'out'))).toBe(false);
    await expect(mergeInMemory({ method: 'mats', parameters: { init: 'checkpoint' }, ...harnessInputs(p, ALL) })).rejects.toThrow(/parameters\.init_path: init: checkpoint starts from the tensors of a checkpoint/);
    await expect(mergeInMemory({ method: 'mats', parameters: { init: 'base', init_path: 'x' }, ...harnessInputs(p, ALL) })).rejects.toThrow(/parameters\.init_path: only applies with init: checkpoint \(init is base\)/);
  });

  it('each CG iteration lowers ||x_k - x*||_A, and a converged solve is x*', async () => {
    const undamped = { subspace: 'kfac', grad_damping: 0, init: 'regmean', preconditioner: 'none', rtol: 1e-14 };
    const solution = referenceKfac(p);
    // The dense K-FAC system, to measure the error in its own norm.
    const n = p.out * p.inp;
    const system = new Float64Array(n * n);
    p.tasks.forEach((t, i) => referenceKronecker(t.gradGram, t.inputGram, p.out, p.inp).forEach((v, j) => (system[j] += p.weights[i] * v)));
    const aNorm = (x: Float64Array) => {
      const e = x.map((v, j) => v - solution[j]);
      return Math.sqrt(referenceMatVec(system, e, n).reduce((s, v, j) => s + v * e[j], 0));
    };
    const errors: number[] = [];
    for (const iterations of [0, 1, 2, 3, 5, 8]) errors.push(aNorm((await merge(p, 'mats', { ...undamped, iterations })).tensors.get('layer.weight')!));
    for (let k = 1; k < errors.length; k++) expect(errors[k], `${errors}`).toBeLessThan(errors[k - 1]);
    const converged = await merge(p, 'mats', { ...undamped, iterations: 1000 });
    expect(reportOf(converged, 'layer.weight')?.status).toBe('converged');
    expect(closeTo(converged.tensors.get('layer.weight'), solution, 1e-9)).toBe(true);
  });
});

