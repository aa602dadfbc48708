/**
 * Task vectors tau_i = theta_i - theta_0 for one job, in the job's precision, optionally
 * passed through DARE's drop. Every method that combines task vectors computes them here, so
 * a preparation pass and the merge see the same values.
 */
import { allocateFloats, type FloatArray } from '../safetensors/decode.js';
import { dareStreamKey } from './dare-mask.js';
import { dareTaskVector, difference } from './kernels.js';
import type { TensorJob } from './method.js';

export interface DareOptions {
  /** Drop probability p in [0, 1). */
  readonly p: number;
  readonly rescale: boolean;
  readonly seed: number;
}

/** A fresh array with tau_i for the job's range (DARE applied when given). */
export async function taskVector(job: TensorJob, i: number, dare?: DareOptions): Promise<FloatArray> {
  const [model, base] = await Promise.all([job.model(i), job.base()]);
  const tau = job.workArray?.() ?? allocateFloats(job.precision, job.length);
  if (dare === undefined) difference(tau, model, base);
  else dareTaskVector(tau, model, base, dareStreamKey(dare.seed, i, job.name), job.offset, dare.p, dare.rescale);
  return tau;
}
