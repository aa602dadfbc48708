/**
 * How the statistics of a task subspace are turned into its factors (METHODS.md, "K-FAC
 * factors"): the off-diagonal shrink, the damping of each K-FAC factor apart (G_i, the
 * output-gradient Gram; A_i, the input Gram), absolute, relative to the factor's own mean
 * eigenvalue, or shared (relative to the mean over the tasks of their factors' mean
 * eigenvalues), and the per-task normalisation of G_i.
 *
 * Why G alone: an undamped sum_i G_i (x) A_i lets the merged layer's outputs drift wherever the
 * task heads look locally insensitive (sum_i G_i of the demo's first layer has an eigenvalue
 * ratio ~5e-5); G_i + beta (tr G_i / n) I puts back a share of RegMean's "reproduce every
 * output" term. As beta grows, the K-FAC merge tends to RegMean weighted by tr(G_i) (relative
 * damping) or to plain RegMean (absolute or shared damping, or relative after normalisation):
 * the tests check these limits. Shared damping gives every task the same RegMean term, so a
 * task whose G is small (a model that already fits its task) keeps RegMean's hold on it.
 */
import { z } from 'zod';

/** F_i -> F_i + (relative * tr(F_i) / n + shared * mean_j tr(F_j) / n + absolute) I. */
export interface Damping {
  /** beta of beta * tr(F_i) / n * I: relative to the factor's own mean eigenvalue (scale-free). */
  readonly relative: number;
  /** beta of beta * I, in the factor's own units. */
  readonly absolute: number;
  /** beta of beta * mean_j tr(F_j) / n * I: relative to the tasks' average mean eigenvalue, the same for every task. */
  readonly shared: number;
}

export const NO_DAMPING: Damping = { relative: 0, absolute: 0, shared: 0 };

const nonNegative = z.number().finite().gte(0);

/**
 * A damping in a config: a number is relative (delta * mean eigenvalue, the RegMean and MaTS
 * convention), `{relative, absolute}` gives either or both.
 */
export const dampingSchema = z
  .union([
    nonNegative,
    z.strictObject({
      /** + relative * tr(F_i) / n * I */
      relative: nonNegative.optional(),
      /** + absolute * I */
      absolute: nonNegative.optional(),
      /** + shared * mean_j tr(F_j) / n * I */
      shared: nonNegative.optional(),
    }),
  ])
  .transform((d): Damping => (typeof d === 'number' ? { ...NO_DAMPING, relative: d } : { relative: d.relative ?? 0, absolute: d.absolute ?? 0, shared: d.shared ?? 0 }));

/** Both dampings added, part by part. */
export function addDamping(a: Damping, b: Damping): Damping {
  return { relative: a.relative + b.relative, absolute: a.absolute + b.absolute, shared: a.shared + b.shared };
}

/** How one Gram factor is prepared: shrink, then normalise, then damp. */
export interface FactorPreparation {
  /** Off-diagonal shrink s in [0, 1]: F -> s F + (1 - s) Diag(F). */
  readonly shrink: number;
  /** F -> F / (tr(F) / n): every task's factor gets mean eigenvalue 1 (a zero factor stays 0). */
  readonly normalize: boolean;
  readonly damping: Damping;
}

/** The knobs of a task subspace's factors, as the methods' parameters hold them. */
export interface FactorKnobs {
  readonly shrink: number;
  /** Every factor (G_i, A_i, a diagonal Fisher, a Fisher block). */
  readonly damping: Damping;
  /** G_i alone (kfac), added to `damping`. */
  readonly grad_damping: Damping;
  /** A_i alone (gram, kfac), added to `damping`. */
  readonly input_damping: Damping;
  /** G_i -> G_i / (tr(G_i) / n) before damping. */
  readonly normalize_grad: boolean;
}

/** Schema entries of the factor knobs (mats takes all, per tensor too; regmean shrink and damping). */
export const factorKnobSchemas = {
  shrink: z.number().gte(0).lte(1),
  damping: dampingSchema,
  grad_damping: dampingSchema,
  input_damping: dampingSchema,
  normalize_grad: z.boolean(),
};

/** The preparation of each kind of factor under these knobs. */
export interface FactorPlan {
  /** A_i of gram and kfac. */
  readonly input: FactorPreparation;
  /** G_i of kfac. */
  readonly grad: FactorPreparation;
  /** A diagonal Fisher's and a Fisher block's damping (no shrink: they are not Grams). */
  readonly fisher: Damping;
  /** Floor of diagonal Fisher entries. */
  readonly floor: number;
}

export function factorPlan(knobs: FactorKnobs, floor: number): FactorPlan {
  return {
    input: { shrink: knobs.shrink, normalize: false, damping: addDamping(knobs.damping, knobs.input_damping) },
    grad: { shrink: knobs.shrink, normalize: knobs.normalize_grad, damping: addDamping(knobs.damping, knobs.grad_damping) },
    fisher: knobs.damping,
    floor,
  };
}

/** A short text of a damping for logs and --dry-run: "1", "abs 1e-3", "shared 1", "1 + abs 1e-3", "0". */
export function describeDamping(d: Damping): string {
  const parts = [d.relative !== 0 ? `${d.relative}` : '', d.shared !== 0 ? `shared ${d.shared}` : '', d.absolute !== 0 ? `abs ${d.absolute}` : ''].filter(Boolean);
  return parts.length === 0 ? '0' : parts.join(' + ');
}
