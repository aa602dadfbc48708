/**
 * ties (Yadav et al., "TIES-Merging", 2023; METHODS.md):
 *   1. trim: keep exactly k = round(density * n) entries of largest |tau_i| (ties by index),
 *      over the whole model (trim: global, the paper) or per tensor (trim: per_tensor, mergekit);
 *   2. elect a sign per coordinate: s = sign(sum_i trimmed tau_i) (sign_election: weighted
 *      sums w_i * trimmed tau_i, as mergekit does); where that sum is 0, the majority sign
 *      sign(sum_j s_j), taken over the whole model with global trim (the paper's code flattens
 *      the model into one vector) and over the tensor with per-tensor trim;
 *   3. disjoint mean: average the trimmed entries whose sign equals s (weighted by w_i;
 *      divided by their total weight, 0 where none);
 *   4. theta = theta_0 + lambda * merged.
 * Global trim costs whole-model passes before the merge: the radix select of the threshold
 * (2 passes for float32, up to 4 for float64) and one for the majority sign.
 */
import { z } from 'zod';
import type { FloatArray } from '../safetensors/decode.js';
import { applyKeepRule, MagnitudeSelector, topMagnitudeMask, type KeepRule } from './magnitude-select.js';
import { defineMethod, type PrepareContext, type TensorJob } from './method.js';
import { taskVector, type DareOptions } from './task-vectors.js';

/** The TIES knobs without their defaults (dare reuses them). */
export const tiesKnobs = {
  /** Fraction of each task vector's entries kept by the trim. */
  density: z.number().gt(0).lte(1),
  /** Scale of the merged task vector. */
  lambda: z.number().finite(),
  /** Rank |tau_i| over the whole model (the paper) or per tensor (mergekit). */
  trim: z.enum(['global', 'per_tensor']),
  /** Elect signs on plain trimmed task vectors (the paper) or on weighted ones (mergekit). */
  sign_election: z.enum(['unweighted', 'weighted']),
};

export const TIES_DEFAULTS = { density: 0.2, lambda: 1, trim: 'global', sign_election: 'unweighted' } as const;

export const tiesParameters = z.strictObject({
  density: tiesKnobs.density.default(TIES_DEFAULTS.density),
  lambda: tiesKnobs.lambda.default(TIES_DEFAULTS.lambda),
  trim: tiesKnobs.trim.default(TIES_DEFAULTS.trim),
  sign_election: tiesKnobs.sign_election.default(TIES_DEFAULTS.sign_election),
});

export interface TiesOptions {
  readonly density: number;
  readonly lambda: number;
  readonly trim: 'global' | 'per_tensor';
  readonly sign_election: 'unweighted' | 'weighted';
}

/** Global trim: per model the keep rule, and the whole-model majority sign. */
export interface TiesState {
  readonly rules: readonly KeepRule[];
  readonly majority: number;
  /**
   * Per job index, the ties each model may still keep when that job starts (absent: none left),
   * as the preparation's last pass consumed them in plan order: merge() may then see any subset
   * of the jobs in any order (a shard of a distributed merge) and still break ties by index over
   * the whole model.
   */
  readonly tiesAt: ReadonlyMap<number, readonly number[]>;
}

const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);

/** A copy of a rule whose tie budget can be consumed without touching the original. */
const freshRule = (rule: KeepRule, tiesLeft = rule.tiesLeft): KeepRule => ({ ...rule, tiesLeft });

/**
 * Per-coordinate election sums, keep masks and task vectors for one job (the task vectors are
 * kept for the disjoint mean: M arrays of the job's length, a chunk for global trim).
 */
async function trimAndElect(job: TensorJob, options: TiesOptions, rules: readonly KeepRule[] | undefined, dare: DareOptions | undefined) {
  const n = job.length;
  const election = new Float64Array(n);
  const masks: Uint8Array[] = [];
  const taus: FloatArray[] = [];
  for (let i = 0; i < job.modelCount; i++) {
    const tau = await taskVector(job, i, dare);
    taus.push(tau);
    let keep: Uint8Array;
    if (rules === undefined) keep = topMagnitudeMask(tau, Math.round(options.density * n));
    else {
      keep = new Uint8Array(n);
      applyKeepRule(tau, rules[i], keep);
    }
    masks.push(keep);
    const w = options.sign_election === 'weighted' ? job.weights[i] : 1;
    for (let j = 0; j < n; j++) if (keep[j] === 1) election[j] += w * tau[j];
  }
  return { election, masks, taus };
}

/** sum_j sign(election_j): the majority's raw count. */
function signSum(election: Float64Array): number {
  let s = 0;
  for (let j = 0; j < election.length; j++) s += sign(election[j]);
  return s;
}

export async function tiesPrepare(context: PrepareContext<unknown>, options: TiesOptions, dare?: DareOptions): Promise<TiesState | undefined> {
  if (options.trim !== 'global') return undefined;
  const total = context.tensors.reduce((s, t) => s + t.size, 0);
  const k = Math.round(options.density * total);
  const { modelCount } = context;
  const selectors = Array.from({ length: modelCount }, () => new MagnitudeSelector(k));
  for (let pass = 1; !selectors.every((s) => s.done); pass++) {
    for await (const job of context.pass(`ties: global trim threshold, pass ${pass}`)) {
      for (let i = 0; i < modelCount; i++) if (!selectors[i].done) selectors[i].add(await taskVector(job, i, dare));
    }
    for (const s of selectors) s.endPass();
  }
  const rules = selectors.map((s) => s.result());
  let majority = 0;
  const passRules = rules.map((r) => freshRule(r));
  const tiesAt = new Map<number, readonly number[]>();
  for await (const job of context.pass('ties: majority sign')) {
    if (passRules.some((r) => r.tiesLeft > 0)) tiesAt.set(job.index, passRules.map((r) => r.tiesLeft));
    majority += signSum((await trimAndElect(job, options, passRules, dare)).election);
  }
  return { rules, majority: sign(majority), tiesAt };
}

export async function tiesMerge(job: TensorJob, options: TiesOptions, state: TiesState | undefined, dare?: DareOptions): Promise<Float64Array> {
  const n = job.length;
  const rules = state?.rules.map((r, i) => freshRule(r, state.tiesAt.get(job.index)?.[i] ?? 0));
  const { election, masks, taus } = await trimAndElect(job, options, rules, dare);

  const majority = state !== undefined ? state.majority : sign(signSum(election));
  const elected = new Int8Array(n);
  for (let j = 0; j < n; j++) elected[j] = election[j] === 0 ? majority : sign(election[j]);

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
  for (let j = 0; j < n; j++) out[j] = base[j] + options.lambda * (denominator[j] > 0 ? numerator[j] / denominator[j] : 0);
  return out;
}

export const ties = defineMethod({
  name: 'ties',
  summary: 'TIES-merging: trim to the top density of each task vector, elect signs, disjoint mean',
  parameters: tiesParameters,
  requiresBase: () => true,
  elementwise: (p) => p.trim === 'global',
  workingBytes: (length, modelCount) => length * (16 + 1 + modelCount + 4 + 8),
  prepare: (context) => tiesPrepare(context as PrepareContext<unknown>, context.parameters),
  async merge(job, { parameters, state }) {
    return { values: await tiesMerge(job, parameters, state) };
  },
});
