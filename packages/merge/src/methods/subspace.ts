/**
 * Task subspaces (METHODS.md): which C_i a tensor is merged in, and which statistics that
 * needs. A subspace applies to a tensor when its shape fits (kfac and gram: a 2-D [out, in]
 * weight; block: a 1-D parameter) and every model taking part has its statistics; otherwise
 * the tensor falls back to the (weighted) average, and the report says why.
 */
import { formatShape } from '../util/format.js';
import type { PlannedTensorInfo, StatisticKind, StatisticNeed, TensorDescriptor } from './method.js';

/** C_i = I, diag(F_i), I (x) A_i, G_i (x) A_i, or a dense Fisher of a 1-D parameter. */
export const SUBSPACES = ['identity', 'diagonal', 'gram', 'kfac', 'block'] as const;
export type Subspace = (typeof SUBSPACES)[number];
/** A subspace, or auto: the richest whose statistics every model has, per tensor. */
export type SubspaceChoice = Subspace | 'auto';

/** auto's candidates, richest first (identity is not one: without statistics auto averages). */
const AUTO_ORDER: readonly Subspace[] = ['kfac', 'block', 'gram', 'diagonal'];

interface Requirement {
  readonly kind: StatisticKind;
  readonly shape: readonly number[];
}

/**
 * The statistics subspace s needs for a tensor, or a reason why s does not apply to its shape.
 */
export function subspaceRequirements(tensor: Pick<TensorDescriptor, 'shape'>, s: Subspace): readonly Requirement[] | string {
  const shape = tensor.shape;
  switch (s) {
    case 'identity':
      return [];
    case 'diagonal':
      return [{ kind: 'fisher', shape }];
    case 'gram':
      return shape.length === 2 ? [{ kind: 'input_gram', shape: [shape[1], shape[1]] }] : `gram needs a 2-D [out, in] weight, this is ${formatShape(shape)}`;
    case 'kfac':
      return shape.length === 2
        ? [
            { kind: 'input_gram', shape: [shape[1], shape[1]] },
            { kind: 'grad_gram', shape: [shape[0], shape[0]] },
          ]
        : `kfac needs a 2-D [out, in] weight, this is ${formatShape(shape)}`;
    case 'block':
      return shape.length === 1 ? [{ kind: 'fisher_block', shape: [shape[0], shape[0]] }] : `block needs a 1-D parameter, this is ${formatShape(shape)}`;
  }
}

/**
 * The statistics a choice may use for a tensor, all optional (a tensor without them is
 * averaged). With foldBias, a 2-D weight may also use its input_mean (bias folding).
 */
export function subspaceNeeds(tensor: TensorDescriptor, choice: SubspaceChoice, foldBias = false): StatisticNeed[] {
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  const needs = new Map<StatisticKind, StatisticNeed>();
  for (const s of candidates) {
    const requirements = subspaceRequirements(tensor, s);
    if (typeof requirements === 'string') continue;
    for (const r of requirements) needs.set(r.kind, { ...r, presence: 'optional' });
  }
  if (foldBias && needs.has('input_gram')) needs.set('input_mean', { kind: 'input_mean', shape: [tensor.shape[1]], presence: 'optional' });
  return [...needs.values()];
}

/** The models that take part in a merge: weight > 0 (a model of weight 0 is never read). */
export function activeModels(job: Pick<PlannedTensorInfo, 'weights'>): number[] {
  return job.weights.flatMap((w, i) => (w > 0 ? [i] : []));
}

export type SubspaceSelection = { readonly subspace: Subspace } | { readonly fallback: string };

/** The subspace a tensor is merged in, or why it falls back to the average. */
export function selectSubspace(job: PlannedTensorInfo, choice: SubspaceChoice, models: readonly number[]): SubspaceSelection {
  if (choice !== 'auto') {
    const missing = missingStatistics(job, choice, models);
    return missing === undefined ? { subspace: choice } : { fallback: `average: ${missing}` };
  }
  const reasons: string[] = [];
  for (const s of AUTO_ORDER) {
    const missing = missingStatistics(job, s, models);
    if (missing === undefined) return { subspace: s };
    if (typeof subspaceRequirements(job, s) !== 'string') reasons.push(`${s}: ${missing}`);
  }
  return { fallback: `average: no subspace has statistics in every model (${reasons.join('; ')})` };
}

/** Why subspace s cannot merge this tensor, or undefined when it can. */
function missingStatistics(job: PlannedTensorInfo, s: Subspace, models: readonly number[]): string | undefined {
  const requirements = subspaceRequirements(job, s);
  if (typeof requirements === 'string') return requirements;
  const lacks = requirements.map(({ kind }) => modelsLacking(job, kind, models)).filter((x) => x !== undefined);
  return lacks.length === 0 ? undefined : `${lacks.join(', ')} for this tensor`;
}

/** "models[1], models[3] have no <kind>", "no model has <kind>", or undefined when all have it. */
export function modelsLacking(job: Pick<PlannedTensorInfo, 'hasStatistic'>, kind: StatisticKind, models: readonly number[]): string | undefined {
  const without = models.filter((i) => !job.hasStatistic(i, kind));
  if (without.length === 0) return undefined;
  if (without.length === models.length) return `no model has ${kind}`;
  return `${without.map((i) => `models[${i}]`).join(', ')} ${without.length === 1 ? 'has' : 'have'} no ${kind}`;
}
