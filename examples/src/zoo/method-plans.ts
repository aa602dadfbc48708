import type { ResultRow } from '../report/results.js';

/**
 * A merge method of the table and the knob settings tried on validation data. Candidates may
 * depend on rows chosen before (mats starts from task arithmetic with its chosen lambda).
 * Order matters: the first of equally good candidates wins, so simpler settings come first.
 */
export interface MethodPlan {
  /** The table's row label. */
  readonly label: string;
  /** The config's `method:`. */
  readonly method: string;
  /** Whether the method reads statistics files. */
  readonly statistics: boolean;
  /** Rows whose chosen knobs the candidates use: they run first, even when not asked for. */
  readonly requires?: readonly string[];
  candidates(chosen: ReadonlyMap<string, ResultRow>): Record<string, unknown>[];
}

const lambdas = (values: number[]) => values.map((lambda) => ({ lambda }));

function chosenKnob(chosen: ReadonlyMap<string, ResultRow>, row: string, knob: string): number {
  const value = chosen.get(row)?.parameters?.[knob];
  if (typeof value !== 'number') throw new Error(`the plan needs ${row}'s chosen ${knob}: run ${row} first`);
  return value;
}

/**
 * MaTS from task arithmetic with the lambda chosen for it, at several CG iteration counts (early
 * stopping regularises, so the count is a knob). `reference: true` is the paper's solver (plain
 * CG, scipy's legacy stopping rule); `preconditioner: auto` is this project's PCG (for K-FAC, a
 * Kronecker preconditioner). The iteration counts double as the points of the report's
 * convergence chart.
 */
function matsCandidates(
  subspace: 'gram' | 'kfac',
  variants: readonly Record<string, unknown>[],
  chosen: ReadonlyMap<string, ResultRow>,
): Record<string, unknown>[] {
  const init = { init: 'task_arithmetic', init_lambda: chosenKnob(chosen, 'task_arithmetic', 'lambda') };
  return variants.flatMap((variant) => MATS_ITERATIONS.map((iterations) => ({ subspace, ...variant, iterations, ...init })));
}

export const MATS_ITERATIONS = [5, 10, 20, 50];

const REGMEAN_DAMPING = 1e-6;

export const METHOD_PLANS: readonly MethodPlan[] = [
  { label: 'average', method: 'average', statistics: false, candidates: () => [{}] },
  // METHODS.md: the paper sweeps lambda over 0..1 in steps of 0.1 (0 would be the base model).
  { label: 'task_arithmetic', method: 'task_arithmetic', statistics: false, candidates: () => lambdas([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]) },
  {
    label: 'ties',
    method: 'ties',
    statistics: false,
    candidates: () => [0.1, 0.2, 0.3].flatMap((density) => [0.4, 0.6, 0.8, 1.0, 1.2, 1.5].map((lambda) => ({ density, lambda }))),
  },
  { label: 'fisher', method: 'fisher', statistics: true, candidates: () => [{}] },
  {
    label: 'regmean',
    method: 'regmean',
    statistics: true,
    // The pixels' Grams are nearly collinear: at shrink 1 their sum is numerically singular, and
    // a little damping (delta * mean(diag) * I, METHODS.md) keeps the closed form well posed.
    candidates: () => [0.5, 0.7, 0.9, 1.0].map((shrink) => ({ shrink, damping: REGMEAN_DAMPING })),
  },
  {
    label: 'mats gram',
    method: 'mats',
    statistics: true,
    requires: ['task_arithmetic', 'regmean'],
    // RegMean's objective (with RegMean's chosen shrink and damping) solved by CG instead of in closed form.
    candidates: (chosen) => matsCandidates('gram', [{ reference: true, shrink: chosenKnob(chosen, 'regmean', 'shrink'), damping: REGMEAN_DAMPING }], chosen),
  },
  {
    label: 'mats kfac',
    method: 'mats',
    statistics: true,
    requires: ['task_arithmetic'],
    // Shrinking the factors' off-diagonals (s = 0.5) is tried too: the pixel Grams are far from diagonal.
    candidates: (chosen) =>
      matsCandidates(
        'kfac',
        [1, 0.5].flatMap((shrink) => [{ reference: true, shrink }, { preconditioner: 'auto', shrink }]),
        chosen,
      ),
  },
];
