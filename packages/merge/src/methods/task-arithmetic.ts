/**
 * task_arithmetic: theta = theta_0 + lambda * sum_i w_i tau_i, tau_i = theta_i - theta_0
 * (Ilharco et al., "Editing models with task arithmetic"; METHODS.md). A sum, not a mean;
 * w_i = 1 unless the config gives weights.
 */
import { z } from 'zod';
import { accumulateDifference, accumulateScaled, addScaledToBase } from './kernels.js';
import { defineMethod, type TensorJob } from './method.js';
import { taskVector, type DareOptions } from './task-vectors.js';

export const taskArithmeticParameters = z.strictObject({
  /** Scale of the summed task vectors; the paper sweeps 0..1 and picks it on validation data. */
  lambda: z.number().finite().default(1),
});

/** theta_0 + lambda * sum_i w_i tau_i for one job, accumulated in float64. */
export async function taskArithmeticMerge(job: TensorJob, lambda: number, dare?: DareOptions): Promise<Float64Array> {
  const n = job.length;
  const sum = new Float64Array(n);
  const base = await job.base();
  for (let i = 0; i < job.modelCount; i++) {
    const w = job.weights[i];
    if (w === 0) continue;
    // Without DARE, subtract in float64: no rounding of tau to the job's precision.
    if (dare === undefined) accumulateDifference(sum, w, await job.model(i), base);
    else accumulateScaled(sum, w, await taskVector(job, i, dare));
  }
  addScaledToBase(sum, base, lambda);
  return sum;
}

export const taskArithmetic = defineMethod({
  name: 'task_arithmetic',
  summary: 'base plus lambda times the (weighted) sum of the task vectors',
  parameters: taskArithmeticParameters,
  requiresBase: () => true,
  elementwise: () => true,
  workingBytes: (length) => 8 * length,
  async merge(job, { parameters }) {
    return { values: await taskArithmeticMerge(job, parameters.lambda) };
  },
});
