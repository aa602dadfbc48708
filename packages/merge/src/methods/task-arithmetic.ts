/**
 * task_arithmetic: theta = theta_0 + lambda * sum_i w_i tau_i, tau_i = theta_i - theta_0
 * (Ilharco et al., "Editing models with task arithmetic"; METHODS.md). A sum, not a mean;
 * w_i = 1 unless the config gives weights.
 */
import { z } from 'zod';
import type { FloatArray } from '../safetensors/decode.js';
import { taskArithmeticInto } from './kernels.js';
import { defineMethod, type TensorJob } from './method.js';
import { taskVector, type DareOptions } from './task-vectors.js';

export const taskArithmeticParameters = z.strictObject({
  /** Scale of the summed task vectors; the paper sweeps 0..1 and picks it on validation data. */
  lambda: z.number().finite().default(1),
});

/**
 * theta_0 + lambda * sum_i w_i tau_i for one job, accumulated in float64 and rounded once to
 * the precision it is written at (the job's result array; where the streaming pass hands one
 * out, the fused kernel runs on every core).
 */
export async function taskArithmeticMerge(job: TensorJob, lambda: number, dare?: DareOptions): Promise<FloatArray> {
  const base = await job.base();
  const used = job.weights.map((w, i) => i).filter((i) => job.weights[i] !== 0);
  // Without DARE, subtract in float64: no rounding of tau to the job's precision.
  const inputs = await Promise.all(used.map((i) => (dare === undefined ? job.model(i) : taskVector(job, i, dare))));
  const out = job.resultArray?.() ?? new Float64Array(job.length);
  taskArithmeticInto(out, base, inputs, used.map((i) => job.weights[i]), lambda, dare !== undefined);
  return out;
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
