/**
 * task_arithmetic: theta = theta_0 + lambda * sum_i w_i tau_i, tau_i = theta_i - theta_0
 * (Ilharco et al., "Editing models with task arithmetic"; METHODS.md). A sum, not a mean;
 * w_i = 1 unless the config gives weights.
 */
import { z } from 'zod';
import type { FloatArray } from '../safetensors/decode.js';
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
    if (dare === undefined) {
      // Subtract in float64: no rounding of tau to the job's precision.
      const theta: FloatArray = await job.model(i);
      for (let j = 0; j < n; j++) sum[j] += w * (theta[j] - base[j]);
    } else {
      const tau = await taskVector(job, i, dare);
      for (let j = 0; j < n; j++) sum[j] += w * tau[j];
    }
  }
  for (let j = 0; j < n; j++) sum[j] = base[j] + lambda * sum[j];
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
