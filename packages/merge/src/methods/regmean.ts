/**
 * regmean (Jin et al., "Dataless Knowledge Fusion by Merging Weights of Language Models", 2023;
 * METHODS.md): for a 2-D weight [out, in] with input Grams, C_i = w_i I (x) A_i, so
 *   W = (sum_i w_i W_i A_i) (sum_i w_i A_i)^-1,
 * after the off-diagonal shrink A -> s A + (1 - s) Diag(A) and an optional damping
 * A -> A + delta mean(diag(A)) I. Solved by core: the Sum of Grams is one Gram, solved by a
 * Cholesky of sum_i A_i, its residual checked and refined by PCG when it misses the tolerance.
 *
 * A singular sum (an input feature no task's data ever fires) has no Cholesky: core then solves
 * by PCG from zero (preconditioned by a damped inverse with the same eigenvectors), which
 * converges to the pseudo-inverse solution (the MaTS reference code
 * inverts the non-zero sub-block, the same answer: such a column of W is 0); the report's note
 * says so. damping > 0 is the cleaner fix. Other tensors are averaged, and the report says so.
 */
import { solve } from '@mats/core';
import { z } from 'zod';
import { defineMethod } from './method.js';
import { solveReport } from './solve-report.js';
import { DEFAULT_FISHER_FLOOR } from './statistic-factors.js';
import { subspaceNeeds } from './subspace.js';
import { mergeInSubspace, subspaceStatisticBytes } from './subspace-merge.js';

/** Knobs shared by every method that builds Gram factors. */
export const gramKnobs = {
  /** Off-diagonal shrink s in [0, 1]: A -> s A + (1 - s) Diag(A); the RegMean paper's alpha is typically 0.9. */
  shrink: z.number().gte(0).lte(1).describe('off-diagonal shrink s of each input Gram, A -> s A + (1 - s) Diag(A) (the RegMean paper\'s alpha, typically 0.9)'),
  /** Damping delta >= 0 of every factor: A -> A + delta * mean(diag(A)) * I. */
  damping: z.number().finite().gte(0).describe('A -> A + delta * mean(diag A) * I for each Gram: makes a singular sum invertible'),
};

export const regmeanParameters = z.strictObject({
  shrink: gramKnobs.shrink.default(1),
  damping: gramKnobs.damping.default(0),
});

/**
 * Relative residual a closed form must reach before PCG refines it: tight in float64, what
 * float32 can reach in float32.
 */
export const closedFormTolerance = (precision: 'float32' | 'float64'): number => (precision === 'float64' ? 1e-10 : 1e-5);

export const regmean = defineMethod({
  name: 'regmean',
  summary: 'RegMean: W = (sum_i w_i W_i A_i)(sum_i w_i A_i)^-1 for 2-D weights with input Grams, the average elsewhere',
  parameters: regmeanParameters,
  requiresBase: () => false,
  elementwise: () => false,
  statistics: (tensor) => subspaceNeeds(tensor, 'gram'),
  // The right-hand side and the solution (float64), and the statistics' copies.
  workingBytes: (length, _m, _p, _w, statisticElements) => length * 8 * 2 + subspaceStatisticBytes(statisticElements),
  async merge(job, { parameters, backend, precision, log }) {
    const options = { shrink: parameters.shrink, damping: parameters.damping, floor: DEFAULT_FISHER_FLOOR };
    return mergeInSubspace(job, 'gram', backend, options, async (system) => {
      const result = solve(system.system, system.rhs, { rtol: closedFormTolerance(precision) });
      const values = backend.toArray(result.x);
      backend.dispose(result.x);
      return { values, report: solveReport(job.name, 'gram', result, log) };
    });
  },
});
