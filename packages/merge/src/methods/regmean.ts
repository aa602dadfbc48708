/**
 * regmean (Jin et al., "Dataless Knowledge Fusion by Merging Weights of Language Models", 2023;
 * METHODS.md): for a 2-D weight [out, in] with input Grams, C_i = w_i I (x) A_i, so
 *   W = (sum_i w_i W_i A_i) (sum_i w_i A_i)^-1,
 * after the off-diagonal shrink A -> s A + (1 - s) Diag(A) and an optional damping
 * A -> A + delta mean(diag(A)) I. With input means in the statistics, a weight's bias is folded
 * in ([W | b] over [a; 1], bias-folding.ts): the merge is then the least-squares fit of every
 * task's outputs, bias included, on its inputs. Solved by core: the Sum of Grams is one Gram, solved by a
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
import { factorKnobSchemas, NO_DAMPING } from './factor-controls.js';
import { defineMethod } from './method.js';
import { solveReport } from './solve-report.js';
import { DEFAULT_FISHER_FLOOR } from './statistic-factors.js';
import { subspaceNeeds } from './subspace.js';
import { describeSubspaceMerge, mergeInSubspace, subspaceStatisticBytes } from './subspace-merge.js';
import { TensorSettings } from './tensor-rules.js';

export const regmeanParameters = z.strictObject({
  /** Off-diagonal shrink s in [0, 1]: A -> s A + (1 - s) Diag(A); the RegMean paper's alpha is typically 0.9. */
  shrink: factorKnobSchemas.shrink.default(1).describe('off-diagonal shrink s of each input Gram, A -> s A + (1 - s) Diag(A) (the RegMean paper\'s alpha, typically 0.9)'),
  /** Damping of every Gram: a number is relative (A + delta mean(diag A) I), or {relative, absolute}. */
  damping: factorKnobSchemas.damping.default(NO_DAMPING).meta({ defaultText: '0' }).describe('A -> A + d * mean(diag A) * I for each Gram (a number d), or {relative, absolute, shared}: makes a singular sum invertible'),
  /** Merge a weight and its bias as one block [W | b] over [a; 1] where every model has the weight's input_mean. */
  fold_bias: z.boolean().default(true).describe('merge a 2-D weight and its bias as one block [W | b] over [a; 1] where every model\'s statistics have the weight\'s input_mean'),
});

export type RegmeanParameters = z.output<typeof regmeanParameters>;

/**
 * Relative residual a closed form must reach before PCG refines it: tight in float64, what
 * float32 can reach in float32.
 */
export const closedFormTolerance = (precision: 'float32' | 'float64'): number => (precision === 'float64' ? 1e-10 : 1e-5);

const settingsCache = new WeakMap<RegmeanParameters, TensorSettings>();
function subspaceOptions(p: RegmeanParameters) {
  let settings = settingsCache.get(p);
  if (settings === undefined) {
    settings = new TensorSettings({ subspace: 'gram', shrink: p.shrink, damping: p.damping, grad_damping: NO_DAMPING, input_damping: NO_DAMPING, normalize_grad: false }, []);
    settingsCache.set(p, settings);
  }
  return { settings, floor: DEFAULT_FISHER_FLOOR, foldBias: p.fold_bias };
}

export const regmean = defineMethod({
  name: 'regmean',
  summary: 'RegMean: W = (sum_i w_i W_i A_i)(sum_i w_i A_i)^-1 for 2-D weights with input Grams (biases folded in with input means), the average elsewhere',
  parameters: regmeanParameters,
  requiresBase: () => false,
  elementwise: () => false,
  statistics: (tensor, p) => subspaceNeeds(tensor, 'gram', p.fold_bias),
  describe: (tensor, p) => describeSubspaceMerge(tensor, subspaceOptions(p)),
  // The right-hand side and the solution (float64), and the statistics' copies.
  workingBytes: (length, _m, _p, _w, statisticElements) => length * 8 * 2 + subspaceStatisticBytes(statisticElements),
  async merge(job, { parameters, backend, precision, log }) {
    return mergeInSubspace(job, backend, { ...subspaceOptions(parameters), owner: parameters }, async (system, _subspace, _models, block) => {
      const result = solve(system.system, system.rhs, { rtol: closedFormTolerance(precision) });
      const values = backend.toArray(result.x);
      backend.dispose(result.x);
      return { values, report: solveReport(block.job.name, 'gram', result, log) };
    });
  },
});
