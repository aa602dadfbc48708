/**
 * dare (Yu et al., "Language Models are Super Mario", 2024; METHODS.md): drop each task-vector
 * entry with probability p (seeded Bernoulli; p may be given per model), rescale the survivors,
 * then combine by task arithmetic or TIES. Deterministic for a given seed, whatever the
 * chunking or order. rescale: inverse_keep divides survivors by 1 - p (the paper); l1 scales
 * them so each tensor's task vector keeps its L1 norm (mergekit's dare_linear and dare_ties).
 */
import { z } from 'zod';
import { applyDareDrop, dareStreamKey } from './dare-mask.js';
import { defineMethod, type PrepareContext } from './method.js';
import { sumKnobs, taskArithmeticMerge } from './task-arithmetic.js';
import { withL1Rescale, type TaskVectorTransform } from './task-vectors.js';
import { TIES_DEFAULTS, tiesKnobs, tiesMerge, tiesPrepare, tiesWorkingBytes, type TiesOptions, type TiesState } from './ties.js';

/** Knobs that only apply when the task vectors are combined by TIES. */
const TIES_ONLY = ['density', 'trim', 'sign_election', 'zero_sign'] as const;

export const dareParameters = z
  .strictObject({
    p: z.number().gte(0).lt(1).default(0.9).describe('drop probability of each task-vector entry (seeded Bernoulli); per model or global'),
    rescale: z
      .enum(['inverse_keep', 'l1', 'none'])
      .default('inverse_keep')
      .describe('survivors times 1 / (1 - p) (inverse_keep: the DARE paper), scaled to the tensor\'s L1 norm of tau (l1: mergekit), or as they are (none)'),
    combine: z.enum(['task_arithmetic', 'ties']).default('task_arithmetic').describe('how the dropped task vectors are combined'),
    lambda: tiesKnobs.lambda.default(TIES_DEFAULTS.lambda),
    normalize: sumKnobs.normalize.optional().meta({ defaultText: 'false with task_arithmetic, true with ties' }),
    density: tiesKnobs.density.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
    trim: tiesKnobs.trim.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
    sign_election: tiesKnobs.sign_election.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
    zero_sign: tiesKnobs.zero_sign.optional().meta({ defaultText: 'as ties (only with combine: ties)' }),
  })
  .superRefine((p, ctx) => {
    if (p.combine === 'task_arithmetic') {
      for (const key of TIES_ONLY) {
        if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `only applies with combine: ties (combine is task_arithmetic)` });
      }
    }
  })
  .transform((p) => ({
    ...p,
    normalize: p.normalize ?? (p.combine === 'ties' ? TIES_DEFAULTS.normalize : false),
    density: p.density ?? TIES_DEFAULTS.density,
    trim: p.trim ?? TIES_DEFAULTS.trim,
    sign_election: p.sign_election ?? TIES_DEFAULTS.sign_election,
    zero_sign: p.zero_sign ?? TIES_DEFAULTS.zero_sign,
  }));

type DareParameters = z.output<typeof dareParameters>;

/** DARE's drop of each model's task vector, with its own p, as a task-vector transform. */
export function dareTransform(modelParameters: readonly DareParameters[], rescale: DareParameters['rescale'], seed: number): TaskVectorTransform {
  const drop: TaskVectorTransform = {
    elementwise: true,
    apply(tau, job, i) {
      applyDareDrop(tau, dareStreamKey(seed, i, job.name), job.offset, modelParameters[i].p, rescale === 'inverse_keep');
    },
  };
  return rescale === 'l1' ? withL1Rescale(drop) : drop;
}

function tiesCombine(p: DareParameters, modelParameters: readonly DareParameters[]): TiesOptions {
  return { ...p, rescale: 'none', densities: modelParameters.map((m) => m.density) };
}

export const dare = defineMethod<DareParameters, TiesState | undefined>({
  name: 'dare',
  summary: 'DARE: drop task-vector entries at random (seeded), rescale, then task arithmetic or TIES',
  parameters: dareParameters,
  perModel: ['p', 'density'],
  requiresBase: () => true,
  elementwise: (p) => p.rescale !== 'l1' && (p.combine === 'task_arithmetic' || p.trim === 'global'),
  wholeModel: (p) => p.combine === 'ties' && p.trim === 'global',
  // ties: its arrays; task arithmetic: the float64 sum and one model's task vector at a time.
  workingBytes: (length, modelCount, p, precisionBytes) => (p.combine === 'ties' ? tiesWorkingBytes(length, modelCount, precisionBytes) : length * (8 + precisionBytes)),
  async prepare(context) {
    const p = context.parameters;
    if (p.combine !== 'ties') return undefined;
    return tiesPrepare(context as PrepareContext<unknown>, tiesCombine(p, context.modelParameters), dareTransform(context.modelParameters, p.rescale, context.seed));
  },
  async merge(job, { parameters: p, modelParameters, state, seed }) {
    const transform = dareTransform(modelParameters, p.rescale, seed);
    const values = p.combine === 'ties' ? await tiesMerge(job, tiesCombine(p, modelParameters), state, transform) : await taskArithmeticMerge(job, { lambda: p.lambda, normalize: p.normalize, transform });
    return { values };
  },
});
