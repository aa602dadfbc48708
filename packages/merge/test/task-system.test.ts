/**
 * The task system's memory discipline, which a GPU backend (no garbage collection) depends on:
 * every tensor the subspace methods allocate is disposed by the time merge() returns, and
 * statistics whose structure merges into the running sum are released model by model.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { solve, type Backend, type Tensor } from '@mats/core';
import { randomSpd } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { fisher } from '../src/methods/fisher.js';
import { mats } from '../src/methods/mats.js';
import type { MergeContext, StatisticKind, TensorJob } from '../src/methods/method.js';
import { regmean } from '../src/methods/regmean.js';
import { buildTaskSystem } from '../src/methods/task-system.js';
import { randomValues } from './fixtures.js';

/** A CPU backend that records every tensor it allocates. */
function trackedBackend(): { backend: Backend; live: () => Tensor[]; made: Tensor[] } {
  const backend = createCpuBackend('float64');
  const made: Tensor[] = [];
  const target = backend as unknown as Record<'zeros' | 'fromArray', (...args: unknown[]) => Tensor>;
  for (const key of ['zeros', 'fromArray'] as const) {
    const original = target[key].bind(backend);
    target[key] = (...args) => {
      const t = original(...args);
      made.push(t);
      return t;
    };
  }
  return { backend, made, live: () => made.filter((t) => !t.disposed) };
}

/** An in-memory job over M models of one [out, in] weight with every statistic. */
function job(models: number, out: number, inp: number): TensorJob {
  const stats = (i: number): Record<StatisticKind, Float64Array> => ({
    fisher: Float64Array.from(randomValues(out * inp, 100 + i), (v) => 1 + v * v),
    input_gram: randomSpd(inp, 200 + i, 0.3),
    grad_gram: randomSpd(out, 300 + i, 0.3),
    fisher_block: new Float64Array(0),
  });
  const all = Array.from({ length: models }, (_, i) => stats(i));
  return {
    name: 'w',
    shape: [out, inp],
    size: out * inp,
    dtype: 'F64',
    index: 0,
    offset: 0,
    length: out * inp,
    precision: 'float64',
    modelCount: models,
    weights: new Array(models).fill(1),
    hasBase: false,
    base: () => Promise.reject(new Error('no base')),
    model: async (i) => Float64Array.from(randomValues(out * inp, i)),
    hasStatistic: (_i, kind) => kind !== 'fisher_block',
    statistic: async (i, kind) => all[i][kind],
  };
}

function context<P>(backend: Backend, parameters: P): MergeContext<P, undefined> {
  return { backend, precision: 'float64', seed: 0, log: () => undefined, parameters, modelParameters: [], state: undefined, nested: {} };
}

describe('task system memory', () => {
  it('keeps one running sum of Diagonals or Grams, releasing each model\'s statistics as it is added', async () => {
    for (const subspace of ['diagonal', 'gram'] as const) {
      const { backend, live } = trackedBackend();
      const system = await buildTaskSystem(job(5, 3, 4), subspace, [0, 1, 2, 3, 4], backend, { shrink: 1, damping: 0, floor: 1e-8 });
      // The right-hand side and the summed diagonal (or Gram factor): nothing per model.
      expect(live()).toHaveLength(2);
      system.dispose();
      expect(live()).toHaveLength(0);
    }
  });

  it('keeps every Kronecker (a Sum has no merged form) and releases them all on dispose, solve caches included', async () => {
    const { backend, live } = trackedBackend();
    const system = await buildTaskSystem(job(3, 3, 4), 'kfac', [0, 1, 2], backend, { shrink: 1, damping: 0, floor: 1e-8 });
    // The right-hand side; per model G_i, A_i and the Kronecker's apply scratch.
    expect(live()).toHaveLength(1 + 3 * 3);
    const result = solve(system.system, system.rhs, { method: 'pcg', preconditioner: 'kronecker', rtol: 1e-10 });
    expect(result.status).toBe('converged');
    backend.dispose(result.x);
    system.dispose();
    expect(live()).toHaveLength(0);
  });

  it('fisher, regmean and mats dispose every tensor they allocate', async () => {
    const cases: [string, (backend: Backend) => Promise<unknown>][] = [
      ['fisher', (b) => fisher.merge(job(3, 3, 4), context(b, fisher.parameters.parse({})))],
      ['regmean', (b) => regmean.merge(job(3, 3, 4), context(b, regmean.parameters.parse({})))],
      ...(['identity', 'diagonal', 'gram', 'kfac'] as const).map(
        (subspace) => [`mats ${subspace}`, (b: Backend) => mats.merge(job(3, 3, 4), context(b, mats.parameters.parse({ subspace, init: 'zeros' })))] as [string, (backend: Backend) => Promise<unknown>],
      ),
      ['mats kfac exact, 2 models', (b) => mats.merge(job(2, 3, 4), context(b, mats.parameters.parse({ subspace: 'kfac', init: 'zeros', solver: 'exact' })))],
    ];
    for (const [label, run] of cases) {
      const { backend, live, made } = trackedBackend();
      await run(backend);
      expect({ label, live: live().length }).toEqual({ label, live: 0 });
      expect(made.length).toBeGreaterThan(0);
    }
  });
});
