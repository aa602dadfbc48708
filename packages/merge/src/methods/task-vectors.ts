/**
 * Task vectors tau_i = theta_i - theta_0 for one job, in the job's precision, and the hook
 * every TIES/DARE-style method shares: a task-vector transform (DARE's random drop,
 * breadcrumbs' mask, ...) applied to each model's tau before the vectors are combined (by task
 * arithmetic or by TIES's sign election). Every method computes its task vectors here, so a
 * preparation pass and the merge see the same values.
 */
import type { FloatArray } from '../safetensors/decode.js';
import { difference } from './kernels.js';
import type { TensorJob } from './method.js';

/**
 * A change of each model's task vector before the combination, in place. A new sparsifying
 * method is one of these plus the combination it feeds (taskArithmeticMerge, tiesMerge).
 */
export interface TaskVectorTransform {
  /**
   * true: apply() may be given any chunk of a tensor (the value at j depends on tau[j], the
   * model and the element index alone); false: whole tensors only (ranks, norms).
   */
  readonly elementwise: boolean;
  /** Changes model i's task vector for the job's range (job.offset, job.length) in place. */
  apply(tau: FloatArray, job: TensorJob, model: number): void;
}

/** A fresh array with tau_i for the job's range, transformed when a transform is given. */
export async function taskVector(job: TensorJob, i: number, transform?: TaskVectorTransform): Promise<FloatArray> {
  const [model, base] = await Promise.all([job.model(i), job.base()]);
  const tau = job.precision === 'float64' ? new Float64Array(job.length) : new Float32Array(job.length);
  difference(tau, model, base);
  transform?.apply(tau, job, i);
  return tau;
}

/** sum_j |x_j|, accumulated in float64. */
export function l1Norm(x: FloatArray): number {
  let s = 0;
  for (let j = 0; j < x.length; j++) s += Math.abs(x[j]);
  return s;
}

/**
 * mergekit's `rescale` (sparsify.py, rescaled_masked_tensor with the L1 norm): after a mask,
 * scale the kept entries so the tensor's task vector keeps its L1 norm,
 *   tau' = masked * (||tau||_1 / ||masked||_1),
 * left as masked when either norm is below 1e-7 (mergekit's eps). Needs whole tensors.
 */
export const L1_RESCALE_EPS = 1e-7;

export function l1RescaleFactor(before: number, after: number): number {
  return before < L1_RESCALE_EPS || after < L1_RESCALE_EPS ? 1 : before / after;
}

/** transform, then the L1 rescale of its result to the task vector's L1 norm before it. */
export function withL1Rescale(transform: TaskVectorTransform): TaskVectorTransform {
  return {
    elementwise: false,
    apply(tau, job, model) {
      const before = l1Norm(tau);
      transform.apply(tau, job, model);
      const factor = l1RescaleFactor(before, l1Norm(tau));
      if (factor !== 1) for (let j = 0; j < tau.length; j++) tau[j] *= factor;
    },
  };
}
