/**
 * dare (Yu et al., "Language Models are Super Mario", 2024; METHODS.md): drop each task-vector
 * entry with probability p (seeded Bernoulli), rescale survivors by 1 / (1 - p), then combine
 * by task arithmetic or TIES. Deterministic for a given seed, whatever the chunking or order.
 */
import { z } from 'zod';
import { defineMethod, type PrepareContext } from './method.js';
import { taskArithmeticMerge } from './task-arithmetic.js';
import type { DareOptions } from './task-vectors.js';
import { TIES_DEFAULTS, tiesKnobs, tiesMerge, tiesPrepare, type TiesState } from './ties.js';

export const dareParameters = z
  .strictObject({
    /** Drop probability p in [0, 1). */
    p: z.number().gte(0).lt(1).default(0.9),
    /** Rescale survivors by 1 / (1 - p) (the DARE paper does; false gives plain drop). */
    rescale: z.boolean().default(true),
    /** How the dropped task vectors are combined. */
    combine: z.enum(['task_arithmetic', 'ties']).default('task_arithmetic'),
    lambda: tiesKnobs.lambda.default(TIES_DEFAULTS.lambda),
    density: tiesKnobs.density.optional(),
    trim: tiesKnobs.trim.optional(),
    sign_election: tiesKnobs.sign_election.optional(),
  })
  .superRefine((p, ctx) => {
    if (p.combine === 'task_arithmetic') {
      for (const key of ['density', 'trim', 'sign_election'] as const) {
        if (p[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `only applies with combine: ties (combine is task_arithmetic)` });
      }
    }
  })
  .transform((p) => ({
    ...p,
    density: p.density ?? TIES_DEFAULTS.density,
    trim: p.trim ?? TIES_DEFAULTS.trim,
    sign_election: p.sign_election ?? TIES_DEFAULTS.sign_election,
  }));

type DareParameters = z.output<typeof dareParameters>;

const dareOptions = (p: DareParameters, seed: number): DareOptions => ({ p: p.p, rescale: p.rescale, seed });

export const dare = defineMethod<DareParameters, TiesState | undefined>({
  name: 'dare',
  summary: 'DARE: drop task-vector entries at random (seeded), rescale, then task arithmetic or TIES',
  parameters: dareParameters,
  requiresBase: () => true,
  elementwise: (p) => p.combine === 'task_arithmetic' || p.trim === 'global',
  workingBytes: (length, modelCount) => length * (16 + 1 + modelCount + 4 + 8),
  async prepare(context) {
    const p = context.parameters;
    if (p.combine !== 'ties') return undefined;
    return tiesPrepare(context as PrepareContext<unknown>, p, dareOptions(p, context.seed));
  },
  async merge(job, { parameters: p, state, seed }) {
    const drop = dareOptions(p, seed);
    const values = p.combine === 'ties' ? await tiesMerge(job, p, state, drop) : await taskArithmeticMerge(job, p.lambda, drop);
    return { values };
  },
});
