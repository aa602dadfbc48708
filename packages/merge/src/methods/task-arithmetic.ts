/**
 * task_arithmetic: theta = theta_0 + lambda * sum_i w_i tau_i, tau_i = theta_i - theta_0
 * (Ilharco et al., "Editing models with task arithmetic"; METHODS.md). A sum, not a mean;
 * w_i = 1 unless the config gives weights. normalize: true divides the sum by sum_i w_i first
 * (mergekit's `normalize`; its default for task_arithmetic is false, as here).
 */
import { z } from 'zod';
import { accumulateDifference, accumulateScaled, addScaledToBase, divideBy } from './kernels.js';
import { defineMethod, type TensorJob } from './method.js';
import { taskVector, type TaskVectorTransform } from './task-vectors.js';

/** Knobs of every method that combines task vectors by a (weighted) sum. */
export const sumKnobs = {
  lambda: z.number().finite().describe('scale of the combined task vectors: theta_0 + lambda * combined (the papers sweep it on validation data)'),
  normalize: z.boolean().describe('divide the weighted sum of task vectors by sum_i w_i (a weighted mean; mergekit\'s normalize)'),
};

export const taskArithmeticParameters = z.strictObject({
  lambda: sumKnobs.lambda.default(1),
  normalize: sumKnobs.normalize.default(false),
});

export interface TaskArithmeticOptions {
  readonly lambda: number;
  /** Divide the weighted sum by sum_i w_i (|sum| < 1e-8 counts as 1, as mergekit does). */
  readonly normalize?: boolean;
  /** Applied to each task vector before the sum (DARE's drop, breadcrumbs' mask, ...). */
  readonly transform?: TaskVectorTransform;
}

/** mergekit's guard on the normalising divisor (generalized_task_arithmetic.py). */
const TINY_WEIGHT_SUM = 1e-8;

/** theta_0 + lambda * sum_i w_i tau_i (over sum_i w_i with normalize) for one job, in float64. */
export async function taskArithmeticMerge(job: TensorJob, options: TaskArithmeticOptions): Promise<Float64Array> {
  const n = job.length;
  const sum = new Float64Array(n);
  const base = await job.base();
  let weightSum = 0;
  for (let i = 0; i < job.modelCount; i++) {
    const w = job.weights[i];
    weightSum += w;
    if (w === 0) continue;
    // Without a transform, subtract in float64: no rounding of tau to the job's precision.
    if (options.transform === undefined) accumulateDifference(sum, w, await job.model(i), base);
    else accumulateScaled(sum, w, await taskVector(job, i, options.transform));
  }
  if (options.normalize === true && Math.abs(weightSum) >= TINY_WEIGHT_SUM) divideBy(sum, weightSum);
  addScaledToBase(sum, base, options.lambda);
  return sum;
}

export const taskArithmetic = defineMethod({
  name: 'task_arithmetic',
  summary: 'base plus lambda times the (weighted) sum of the task vectors',
  parameters: taskArithmeticParameters,
  requiresBase: () => true,
  elementwise: () => true,
  workingBytes: (length) => 8 * length, // the float64 sum (and result)
  async merge(job, { parameters }) {
    return { values: await taskArithmeticMerge(job, parameters) };
  },
});
