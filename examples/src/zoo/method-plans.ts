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
  candidates(chosen: ReadonlyMap<string, ResultRow>): Record<string, unknown>[];
}

const lambdas = (values: number[]) => values.map((lambda) => ({ lambda }));

function chosenLambda(chosen: ReadonlyMap<string, ResultRow>): number {
  const lambda = chosen.get('task_arithmetic')?.parameters?.lambda;
  if (typeof lambda !== 'number') throw new Error('mats starts from task arithmetic: plan task_arithmetic before mats');
  return lambda;
}

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
  { label: 'regmean', method: 'regmean', statistics: true, candidates: () => [0.5, 0.7, 0.9, 1.0].map((shrink) => ({ shrink })) },
  {
    label: 'mats gram',
    method: 'mats',
    statistics: true,
    candidates: (chosen) => [10, 30, 100].map((iterations) => ({ subspace: 'gram', iterations, init: 'task_arithmetic', init_lambda: chosenLambda(chosen) })),
  },
  {
    label: 'mats kfac',
    method: 'mats',
    statistics: true,
    candidates: (chosen) => [10, 30, 100].map((iterations) => ({ subspace: 'kfac', iterations, init: 'task_arithmetic', init_lambda: chosenLambda(chosen) })),
  },
];
