/**
 * ties (Yadav et al., "TIES-Merging", 2023; METHODS.md):
 *   1. trim: keep exactly k_i = floor(density_i * n) entries of largest |tau_i| (ties by index),
 *      over the whole model (trim: global, the paper) or per tensor (trim: per_tensor, mergekit);
 *      density may be given per model;
 *   2. elect a sign per coordinate: s = sign(sum_i trimmed tau_i) (sign_election: weighted
 *      sums w_i * trimmed tau_i, as mergekit does); where that sum is 0, zero_sign decides:
 *      `majority` takes sign(sum_j s_j), over the whole model with global trim (the paper's
 *      code flattens the model into one vector) and over the tensor with per-tensor trim;
 *      `positive` takes + (mergekit's `>= 0`);
 *   3. disjoint mean: average the trimmed entries whose sign equals s (weighted by w_i;
 *      divided by their total weight, 0 where none); normalize: false keeps their weighted sum
 *      (mergekit's normalize: false);
 *   4. theta = theta_0 + lambda * merged.
 * rescale: l1 scales each model's trimmed task vector back to its L1 norm before the election
 * (mergekit's rescale; per tensor, so with per-tensor trim only).
 * Global trim costs whole-model passes before the merge: the radix select of the threshold
 * (2 passes for float32, up to 4 for float64) and, with zero_sign: majority, one for the
 * majority sign.
 */
import { z } from 'zod';
import type { FloatArray } from '../safetensors/decode.js';
import { applyKeepRule, MagnitudeSelector, topMagnitudeMask, type KeepRule } from './magnitude-select.js';
import { defineMethod, type PrepareContext, type TensorJob } from './method.js';
import { sumKnobs } from './task-arithmetic.js';
import { l1RescaleFactor, taskVector, type TaskVectorTransform } from './task-vectors.js';

/** The TIES knobs without their defaults (dare and breadcrumbs reuse them). */
export const tiesKnobs = {
  density: z.number().gt(0).lte(1).describe('fraction of each task vector kept by the trim: the floor(density * n) entries of largest |tau_i|; per model or global'),
  lambda: sumKnobs.lambda,
  trim: z.enum(['global', 'per_tensor']).describe('rank |tau_i| over the whole model (global: the TIES paper) or within each tensor (per_tensor: mergekit)'),
  sign_election: z.enum(['unweighted', 'weighted']).describe('elect s = sign(sum_i trimmed tau_i) (unweighted: the paper) or sign(sum_i w_i trimmed tau_i) (weighted: mergekit)'),
  zero_sign: z.enum(['majority', 'positive']).describe('the sign where the election sum is exactly 0: the majority sign(sum_j s_j) over the model or tensor (the paper) or + (mergekit)'),
  normalize: z.boolean().describe('true: the disjoint mean of the agreeing entries (the paper); false: their weighted sum (mergekit\'s normalize: false)'),
  rescale: z.enum(['none', 'l1']).describe('l1: scale each trimmed task vector back to its L1 norm per tensor (mergekit\'s rescale: true); needs trim: per_tensor'),
};

export const TIES_DEFAULTS = { density: 0.2, lambda: 1, trim: 'global', sign_election: 'unweighted', zero_sign: 'majority', normalize: true, rescale: 'none' } as const;

export const tiesParameters = z
  .strictObject({
    density: tiesKnobs.density.default(TIES_DEFAULTS.density),
    lambda: tiesKnobs.lambda.default(TIES_DEFAULTS.lambda),
    trim: tiesKnobs.trim.default(TIES_DEFAULTS.trim),
    sign_election: tiesKnobs.sign_election.default(TIES_DEFAULTS.sign_election),
    zero_sign: tiesKnobs.zero_sign.default(TIES_DEFAULTS.zero_sign),
    normalize: tiesKnobs.normalize.default(TIES_DEFAULTS.normalize),
    rescale: tiesKnobs.rescale.default(TIES_DEFAULTS.rescale),
  })
  .superRefine((p, ctx) => {
    if (p.rescale === 'l1' && p.trim === 'global') ctx.addIssue({ code: 'custom', path: ['rescale'], message: 'l1 rescales each tensor\'s trimmed task vector: it needs trim: per_tensor' });
  });

export type TiesParameters = z.output<typeof tiesParameters>;

export interface TiesOptions {
  /** Per model: the fraction of its task vector the trim keeps (1: everything). */
  readonly densities: readonly number[];
  readonly lambda: number;
  readonly trim: 'global' | 'per_tensor';
  readonly sign_election: 'unweighted' | 'weighted';
  readonly zero_sign: 'majority' | 'positive';
  readonly normalize: boolean;
  readonly rescale: 'none' | 'l1';
}

/** TiesOptions from validated parameters, with each model's own density. */
export function tiesOptions(p: TiesParameters, modelParameters: readonly { density: number }[]): TiesOptions {
  return { ...p, densities: modelParameters.map((m) => m.density) };
}

/** Global trim: per model the keep rule, and the whole-model majority sign. */
export interface TiesState {
  readonly rules: readonly KeepRule[];
  readonly majority: number;
  /** Ties still to keep per model, consumed by merge() in plan order. */
  readonly tiesLeft: number[];
}

const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** Entries the trim keeps out of n: floor(density * n), as mergekit's int(density * n). */
export const keptCount = (density: number, n: number): number => Math.floor(density * n);

/** A copy of a rule whose tie budget can be consumed without touching the original. */
const freshRule = (rule: KeepRule, tiesLeft = rule.tiesLeft): KeepRule => ({ ...rule, tiesLeft });

/**
 * Per-coordinate election sums, keep masks and task vectors for one job (the task vectors are
 * kept for the disjoint mean: M arrays of the job's length, a chunk for global trim).
 */
async function trimAndElect(job: TensorJob, options: TiesOptions, rules: readonly KeepRule[] | undefined, transform: TaskVectorTransform | undefined) {
  const n = job.length;
  const election = new Float64Array(n);
  const masks: Uint8Array[] = [];
  const taus: FloatArray[] = [];
  for (let i = 0; i < job.modelCount; i++) {
    const tau = await taskVector(job, i, transform);
    taus.push(tau);
    let keep: Uint8Array;
    if (rules === undefined) keep = topMagnitudeMask(tau, keptCount(options.densities[i], n));
    else {
      keep = new Uint8Array(n);
      applyKeepRule(tau, rules[i], keep);
    }
    masks.push(keep);
    if (options.rescale === 'l1') rescaleKept(tau, keep);
    const w = options.sign_election === 'weighted' ? job.weights[i] : 1;
    for (let j = 0; j < n; j++) if (keep[j] === 1) election[j] += w * tau[j];
  }
  return { election, masks, taus };
}

/** Scales the kept entries of tau so that they have tau's whole L1 norm (mergekit's l1 rescale). */
function rescaleKept(tau: FloatArray, keep: Uint8Array): void {
  let before = 0;
  let after = 0;
  for (let j = 0; j < tau.length; j++) {
    const a = Math.abs(tau[j]);
    before += a;
    if (keep[j] === 1) after += a;
  }
  const factor = l1RescaleFactor(before, after);
  if (factor !== 1) for (let j = 0; j < tau.length; j++) if (keep[j] === 1) tau[j] *= factor;
}

/** sum_j sign(election_j): the majority's raw count. */
function signSum(election: Float64Array): number {
  let s = 0;
  for (let j = 0; j < election.length; j++) s += sign(election[j]);
  return s;
}

export async function tiesPrepare(context: PrepareContext<unknown>, options: TiesOptions, transform?: TaskVectorTransform): Promise<TiesState | undefined> {
  if (options.trim !== 'global') return undefined;
  const total = context.tensors.reduce((s, t) => s + t.size, 0);
  const { modelCount } = context;
  const selectors = Array.from({ length: modelCount }, (_, i) => new MagnitudeSelector(keptCount(options.densities[i], total)));
  for (let pass = 1; !selectors.every((s) => s.done); pass++) {
    for await (const job of context.pass(`ties: global trim threshold, pass ${pass}`)) {
      for (let i = 0; i < modelCount; i++) if (!selectors[i].done) selectors[i].add(await taskVector(job, i, transform));
    }
    for (const s of selectors) s.endPass();
  }
  const rules = selectors.map((s) => s.result());
  let majority = 0;
  if (options.zero_sign === 'majority') {
    const passRules = rules.map((r) => freshRule(r));
    for await (const job of context.pass('ties: majority sign')) {
      majority += signSum((await trimAndElect(job, options, passRules, transform)).election);
    }
  }
  return { rules, majority: sign(majority), tiesLeft: rules.map((r) => r.tiesLeft) };
}

export async function tiesMerge(job: TensorJob, options: TiesOptions, state: TiesState | undefined, transform?: TaskVectorTransform): Promise<Float64Array> {
  const n = job.length;
  let rules: KeepRule[] | undefined;
  if (state !== undefined) rules = state.rules.map((r, i) => freshRule(r, state.tiesLeft[i]));
  const { election, masks, taus } = await trimAndElect(job, options, rules, transform);
  if (state !== undefined && rules !== undefined) for (let i = 0; i < rules.length; i++) state.tiesLeft[i] = rules[i].tiesLeft;

  let zeroSign = 1;
  if (options.zero_sign === 'majority') zeroSign = state !== undefined ? state.majority : sign(signSum(election));
  const elected = new Int8Array(n);
  for (let j = 0; j < n; j++) elected[j] = election[j] === 0 ? zeroSign : sign(election[j]);

  // Disjoint mean: the election sums are no longer needed; reuse them for the numerator.
  const numerator = election.fill(0);
  const denominator = new Float64Array(n);
  for (let i = 0; i < job.modelCount; i++) {
    const w = job.weights[i];
    const tau = taus[i];
    const keep = masks[i];
    for (let j = 0; j < n; j++) {
      if (keep[j] === 1 && tau[j] !== 0 && sign(tau[j]) === elected[j]) {
        numerator[j] += w * tau[j];
        denominator[j] += w;
      }
    }
  }
  const base = await job.base();
  const out = numerator;
  for (let j = 0; j < n; j++) {
    const merged = !options.normalize ? numerator[j] : denominator[j] > 0 ? numerator[j] / denominator[j] : 0;
    out[j] = base[j] + options.lambda * merged;
  }
  return out;
}

/**
 * Bytes of tiesMerge's working arrays for a job: the election sums (reused as the numerator and
 * the result) and denominator (float64), the elected signs, and per model a task vector (in the
 * precision) and a keep mask.
 */
export const tiesWorkingBytes = (length: number, modelCount: number, precisionBytes: number): number => length * (8 + 8 + 1 + modelCount * (precisionBytes + 1));

export const ties = defineMethod({
  name: 'ties',
  summary: 'TIES-merging: trim each task vector to its top density, elect signs, disjoint mean',
  parameters: tiesParameters,
  perModel: ['density'],
  requiresBase: () => true,
  elementwise: (p) => p.trim === 'global',
  wholeModel: (p) => p.trim === 'global',
  workingBytes: (length, modelCount, _p, precisionBytes) => tiesWorkingBytes(length, modelCount, precisionBytes),
  prepare: (context) => tiesPrepare(context as PrepareContext<unknown>, tiesOptions(context.parameters, context.modelParameters)),
  async merge(job, { parameters, modelParameters, state }) {
    return { values: await tiesMerge(job, tiesOptions(parameters, modelParameters), state) };
  },
});
