/** average: theta = sum_i w_i theta_i / sum_i w_i (METHODS.md; w_i = 1 by default). */
import { z } from 'zod';
import { accumulateScaled, divideBy } from './kernels.js';
import { defineMethod, type TensorJob } from './method.js';

/**
 * The weighted mean of the models for one job, accumulated in float64. Also the fallback of the
 * task-subspace methods for tensors without statistics (METHODS.md).
 */
export async function weightedAverage(job: TensorJob): Promise<Float64Array> {
  const out = new Float64Array(job.length);
  let total = 0;
  for (let i = 0; i < job.modelCount; i++) {
    const w = job.weights[i];
    total += w;
    if (w === 0) continue;
    accumulateScaled(out, w, await job.model(i));
  }
  divideBy(out, total);
  return out;
}

export const average = defineMethod({
  name: 'average',
  summary: 'weighted mean of the models: sum_i w_i theta_i / sum_i w_i (no base needed)',
  parameters: z.strictObject({}),
  requiresBase: () => false,
  elementwise: () => true,
  workingBytes: (length) => 8 * length,
  async merge(job) {
    return { values: await weightedAverage(job) };
  },
});
