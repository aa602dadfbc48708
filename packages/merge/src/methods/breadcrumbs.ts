/**
 * breadcrumbs (Davari & Belilovsky, "Model Breadcrumbs: Scaling Multi-Task Model Merging with
 * Sparse Masks", 2023; mergekit's breadcrumbs and breadcrumbs_ties; METHODS.md): per tensor and
 * model, mask out the task vector's outliers (its largest |tau| entries) and its smallest
 * entries, then combine the masked task vectors by task arithmetic or by TIES's sign election.
 * With n entries (mergekit's docs and sparsify.magnitude_outliers):
 *   keep = floor(density n), top = floor(gamma n), bottom = n - keep - top;
 *   when bottom < 0 (gamma >= 1 - density): top += bottom, bottom = 0;
 *   rank |tau| and keep the entries ranked below the top `top` and above the bottom `bottom`
 *   (ties by index), so exactly `keep` entries stay.
 * density 1 keeps everything (no outlier is removed). The mask needs whole tensors.
 */
import { z } from 'zod';
import { topMagnitudeMask } from './magnitude-select.js';
import { defineMethod } from './method.js';
import { taskArithmeticMerge } from './task-arithmetic.js';
import { withL1Rescale, type TaskVectorTransform } from './task-vectors.js';
import { TIES_DEFAULTS, tiesKnobs, tiesMerge, tiesWorkingBytes } from './ties.js';

export const breadcrumbsParameters = z
  .strictObject({
    density: z.number().gt(0).lte(1).default(0.9).describe('fraction of each task vector kept, per tensor: floor(density * n) entries; per model or global'),
    gamma: z.number().gte(0).lt(1).default(0.01).describe('fraction of each task vector removed as outliers first (its floor(gamma * n) largest |tau|; the paper\'s beta); per model or global'),
    combine: z.enum(['task_arithmetic', 'ties']).default('task_arithmetic').describe('task_arithmetic: the weighted sum of masked task vectors (breadcrumbs); ties: TIES\'s sign election on them (mergekit\'s breadcrumbs_ties)'),
    lambda: tiesKnobs.lambda.default(TIES_DEFAULTS.lambda),
    normalize: tiesKnobs.normalize.default(false).describe('true: divide by the weights (the weighted mean with task_arithmetic, the disjoint mean with ties); false: the weighted sum (mergekit\'s default for breadcrumbs)'),
    rescale: tiesKnobs.rescale.default('none').describe('l1: scale each masked task vector back to its L1 norm per tensor (mergekit\'s rescale: true)'),
    sign_election: tiesKnobs.sign_election.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
    zero_sign: tiesKnobs.zero_sign.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
  })
  .superRefine((p, ctx) => {
    if (p.combine === 'task_arithmetic') {
      for (const key of ['sign_election', 'zero_sign'] as const) {
        if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only applies with combine: ties (combine is task_arithmetic)' });
      }
    }
  })
  .transform((p) => ({ ...p, sign_election: p.sign_election ?? TIES_DEFAULTS.sign_election, zero_sign: p.zero_sign ?? TIES_DEFAULTS.zero_sign }));

type BreadcrumbsParameters = z.output<typeof breadcrumbsParameters>;

/** The breadcrumbs mask of n entries: [top, bottom] counts of the entries removed at each end. */
export function breadcrumbsCounts(density: number, gamma: number, n: number): { top: number; bottom: number } {
  const keep = Math.floor(density * n);
  let top = Math.floor(gamma * n);
  let bottom = n - keep - top;
  if (bottom < 0) {
    top += bottom;
    bottom = 0;
  }
  return { top, bottom };
}

/** Zeroes, in place, tau's `top` largest and `bottom` smallest |entries| (ties by index). */
export function applyBreadcrumbsMask(tau: Float32Array | Float64Array, density: number, gamma: number): void {
  const n = tau.length;
  const { top, bottom } = breadcrumbsCounts(density, gamma, n);
  if (top === 0 && bottom === 0) return;
  // Both masks rank by |tau| descending, ties by index, so the top `top` are a subset of the
  // top n - bottom: their difference is the middle band.
  const upToBottom = topMagnitudeMask(tau, n - bottom);
  const outliers = top > 0 ? topMagnitudeMask(tau, top) : undefined;
  for (let j = 0; j < n; j++) if (upToBottom[j] === 0 || (outliers !== undefined && outliers[j] === 1)) tau[j] = 0;
}

function breadcrumbsTransform(p: BreadcrumbsParameters, modelParameters: readonly BreadcrumbsParameters[]): TaskVectorTransform {
  const mask: TaskVectorTransform = {
    elementwise: false,
    apply: (tau, _job, i) => applyBreadcrumbsMask(tau, modelParameters[i].density, modelParameters[i].gamma),
  };
  return p.rescale === 'l1' ? withL1Rescale(mask) : mask;
}

export const breadcrumbs = defineMethod({
  name: 'breadcrumbs',
  summary: 'Model Breadcrumbs: mask each task vector\'s outliers and smallest entries per tensor, then task arithmetic or TIES',
  parameters: breadcrumbsParameters,
  perModel: ['density', 'gamma'],
  requiresBase: () => true,
  elementwise: () => false,
  // The combination's arrays (as dare's) and the mask's two selections of one model at a time.
  workingBytes: (length, modelCount, p, precisionBytes) => (p.combine === 'ties' ? tiesWorkingBytes(length, modelCount, precisionBytes) : length * (8 + precisionBytes)) + 2 * length,
  async merge(job, { parameters: p, modelParameters }) {
    const transform = breadcrumbsTransform(p, modelParameters);
    if (p.combine === 'task_arithmetic') return { values: await taskArithmeticMerge(job, { lambda: p.lambda, normalize: p.normalize, transform }) };
    // The mask is the trim: TIES keeps every entry it leaves (density 1) and elects signs on them.
    const options = { ...p, trim: 'per_tensor', rescale: 'none', densities: modelParameters.map(() => 1) } as const;
    return { values: await tiesMerge(job, options, undefined, transform) };
  },
});
