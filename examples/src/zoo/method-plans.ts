import type { ResultRow } from '../report/results.js';
import type { TaskFloor } from './task-floor.js';

/**
 * One knob of a method's grid. When the best candidate on validation data sits on the grid's
 * lowest or highest value, the demo extends the axis past it (below / above), again and again,
 * until the best value is inside the grid or the knob's range ends: no row is under-tuned
 * because its grid stopped too early (issue 14: task arithmetic's lambda peaked at the grid's
 * lowest value, TIES's density at its highest).
 */
export interface KnobAxis {
  readonly knob: string;
  /** Numbers, or names (a categorical knob, never extended). */
  readonly values: readonly (number | string)[];
  /** The next value below the lowest, or undefined where the knob's range ends. */
  readonly below?: (lowest: number) => number | undefined;
  /** The next value above the highest, or undefined where the knob's range ends. */
  readonly above?: (highest: number) => number | undefined;
}

/**
 * A merge method of the table and the knob settings tried on validation data: every
 * combination of its axes' values over its fixed knobs, plus any extra candidates. Candidates
 * may depend on rows chosen before (mats starts from task arithmetic with its chosen lambda).
 * Order matters: the first of equally good candidates wins, so simpler settings come first.
 */
export interface MethodPlan {
  /** The table's row label. */
  readonly label: string;
  /** The config's `method:`. */
  readonly method: string;
  /** Whether the method reads statistics files (true: the table's set, true Fisher). */
  readonly statistics: boolean;
  /** Rows whose chosen knobs the candidates use: they run first, even when not asked for. */
  readonly requires?: readonly string[];
  /** Knobs every candidate has. */
  fixed?(chosen: ReadonlyMap<string, ResultRow>): Record<string, unknown>;
  /** The grid. */
  axes?(chosen: ReadonlyMap<string, ResultRow>): readonly KnobAxis[];
  /** The config's parameters for a point of the grid (default: the point itself). */
  toParameters?(point: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** A per-task floor on validation accuracy that the chosen candidate must meet (task-floor.ts). */
  readonly taskFloor?: TaskFloor;
}

/**
 * One change to a chosen merge, to see what it does (the report's ablation table): the chosen
 * knobs of row `of`, changed, merged once and scored on validation and test data (no tuning).
 */
export interface Ablation {
  readonly label: string;
  /** The table row it varies. */
  readonly of: string;
  /** The statistics set its config names (default: the row's). */
  readonly statistics?: string;
  change(chosen: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

function chosenKnob(chosen: ReadonlyMap<string, ResultRow>, row: string, knob: string): number {
  const value = chosen.get(row)?.parameters?.[knob];
  if (typeof value !== 'number') throw new Error(`the plan needs ${row}'s chosen ${knob}: run ${row} first`);
  return value;
}

/** Steps that stop where a knob's range ends. */
const times = (factor: number, limit: number) => (v: number) => (factor > 1 ? (v * factor <= limit ? v * factor : undefined) : v * factor >= limit ? v * factor : undefined);
const plus = (step: number, limit: number) => (v: number) => {
  const next = Math.round((v + step) * 1e6) / 1e6;
  return step > 0 ? (v < limit ? Math.min(next, limit) : undefined) : v > limit ? Math.max(next, limit) : undefined;
};

/** MaTS starts from task arithmetic with the lambda chosen for it (the paper's initialisation). */
const taskArithmeticInit = (chosen: ReadonlyMap<string, ResultRow>) => ({ init: 'task_arithmetic', init_lambda: chosenKnob(chosen, 'task_arithmetic', 'lambda') });

/** A relative damping of 1e-6: keeps the pixel Grams' numerically singular sum well posed (METHODS.md). */
const TINY_DAMPING = 1e-6;

export const METHOD_PLANS: readonly MethodPlan[] = [
  { label: 'average', method: 'average', statistics: false },
  // METHODS.md: the paper sweeps lambda over 0..1 in steps of 0.1 (0 would be the base model).
  {
    label: 'task_arithmetic',
    method: 'task_arithmetic',
    statistics: false,
    axes: () => [{ knob: 'lambda', values: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], below: times(0.5, 0.005), above: plus(0.25, 3) }],
  },
  {
    label: 'ties',
    method: 'ties',
    statistics: false,
    axes: () => [
      { knob: 'density', values: [0.1, 0.2, 0.3], below: times(0.5, 0.01), above: plus(0.2, 1) },
      { knob: 'lambda', values: [0.4, 0.6, 0.8, 1.0, 1.2, 1.5], below: times(0.6, 0.05), above: plus(0.5, 5) },
    ],
  },
  {
    // DARE drops each task-vector entry with probability p and rescales the rest, then task arithmetic.
    label: 'dare',
    method: 'dare',
    statistics: false,
    fixed: () => ({ combine: 'task_arithmetic' }),
    axes: () => [
      { knob: 'p', values: [0.5, 0.9], below: plus(-0.2, 0.1), above: plus(0.05, 0.99) },
      { knob: 'lambda', values: [0.05, 0.1, 0.2, 0.4], below: times(0.5, 0.005), above: plus(0.2, 3) },
    ],
  },
  {
    // Model Breadcrumbs masks each task vector's largest entries (gamma, the outliers) and its
    // smallest (all but density), per tensor, then task arithmetic. On the demo's zoo validation
    // ends at the extensions' limits (density 0.1, gamma 0.0004): a wider grid is still to run.
    label: 'breadcrumbs',
    method: 'breadcrumbs',
    statistics: false,
    fixed: () => ({ combine: 'task_arithmetic' }),
    axes: () => [
      { knob: 'density', values: [0.5, 0.9], below: plus(-0.2, 0.1), above: plus(0.05, 1) },
      { knob: 'gamma', values: [0.01, 0.05], below: times(0.2, 0.0004), above: plus(0.05, 0.3) },
      { knob: 'lambda', values: [0.05, 0.1, 0.2, 0.4], below: times(0.5, 0.005), above: plus(0.2, 3) },
    ],
  },
  { label: 'fisher', method: 'fisher', statistics: true },
  {
    label: 'regmean',
    method: 'regmean',
    statistics: true,
    // The pixels' Grams are nearly collinear: at shrink 1 their sum is numerically singular, and
    // damping (delta * mean(diag) * I, METHODS.md) keeps the closed form well posed.
    axes: () => [
      { knob: 'shrink', values: [0.7, 0.9, 1.0], below: plus(-0.2, 0) },
      { knob: 'damping', values: [TINY_DAMPING, 1e-3, 1e-1], below: times(0.01, 1e-10), above: times(10, 10) },
    ],
  },
  {
    label: 'mats gram',
    method: 'mats',
    statistics: true,
    requires: ['task_arithmetic', 'regmean'],
    // RegMean's objective (RegMean's chosen shrink and damping) by the paper's plain CG, stopped early.
    fixed: (chosen) => ({ subspace: 'gram', reference: true, shrink: chosenKnob(chosen, 'regmean', 'shrink'), damping: chosenKnob(chosen, 'regmean', 'damping'), ...taskArithmeticInit(chosen) }),
    axes: () => [{ knob: 'iterations', values: [10, 20, 50], below: (v) => (v > 1 ? Math.floor(v / 2) : undefined), above: times(3, 1000) }],
  },
  {
    label: 'mats kfac',
    method: 'mats',
    statistics: true,
    requires: ['task_arithmetic', 'regmean'],
    // Issue 14: at least RegMean's accuracy on every task, up to 5 points, on validation digits.
    taskFloor: { row: 'regmean', points: 5 },
    // The K-FAC objective with G_i damped by beta times a mean eigenvalue (factor-controls.ts):
    // its own ('relative') or the tasks' average ('shared'), by PCG with the Kronecker
    // preconditioner: the damping, beta and the CG budget are the knobs.
    fixed: (chosen) => ({ subspace: 'kfac', ...taskArithmeticInit(chosen) }),
    axes: () => [
      { knob: 'damping_of_g', values: ['shared', 'relative'] },
      { knob: 'beta', values: [0.3, 1, 3], below: times(1 / 3, 0.01), above: times(3, 300) },
      { knob: 'iterations', values: [10, 30], below: (v) => (v > 1 ? Math.floor(v / 2) : undefined), above: times(3, 1000) },
    ],
    toParameters: ({ damping_of_g: mode, beta, ...rest }) => ({ ...rest, grad_damping: { [String(mode)]: beta } }),
  },
];

/** The rows' parameters a K-FAC ablation keeps: the chosen ones, without the knobs it replaces. */
const without = (p: Readonly<Record<string, unknown>>, ...keys: string[]) => Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));

/** {shared: beta} <-> {relative: beta}. */
function otherMode(damping: unknown): Record<string, number> {
  const d = damping as { shared?: number; relative?: number };
  return d.shared !== undefined ? { relative: d.shared } : { shared: d.relative ?? 0 };
}

export const ABLATIONS: readonly Ablation[] = [
  { label: 'mats kfac with no knobs but subspace: kfac (the defaults)', of: 'mats kfac', change: () => ({ subspace: 'kfac' }) },
  {
    label: 'undamped, the paper\'s solver: 20 plain CG iterations from task arithmetic (the old demo)',
    of: 'mats kfac',
    change: (p) => ({ ...without(p, 'grad_damping', 'iterations'), reference: true, iterations: 20 }),
  },
  { label: 'undamped (grad_damping 0), 100 PCG iterations', of: 'mats kfac', change: (p) => ({ ...p, grad_damping: 0, iterations: 100 }) },
  { label: 'G damped by its own mean eigenvalue (relative) instead of the tasks\' average (shared), or back', of: 'mats kfac', change: (p) => ({ ...p, grad_damping: otherMode(p.grad_damping) }) },
  { label: 'both factors damped by beta (damping) instead of G alone', of: 'mats kfac', change: (p) => ({ ...p, grad_damping: 0, damping: p.grad_damping }) },
  { label: 'A alone damped by beta (input_damping), G undamped', of: 'mats kfac', change: (p) => ({ ...p, grad_damping: 0, input_damping: p.grad_damping }) },
  { label: 'G_i normalised to mean eigenvalue 1 per task (normalize_grad)', of: 'mats kfac', change: (p) => ({ ...p, normalize_grad: true }) },
  { label: 'empirical Fisher (gold labels) for G instead of the true Fisher', of: 'mats kfac', statistics: 'empirical', change: (p) => ({ ...p }) },
  { label: 'no bias folding (biases averaged)', of: 'mats kfac', change: (p) => ({ ...p, fold_bias: false }) },
  { label: 'per layer: Gram (the RegMean objective) on layers.0, K-FAC elsewhere', of: 'mats kfac', change: (p) => ({ ...p, tensors: [{ pattern: 'layers.0.*', subspace: 'gram', input_damping: TINY_DAMPING }] }) },
  { label: 'per layer: K-FAC on layers.0 only, Gram elsewhere', of: 'mats kfac', change: (p) => ({ ...p, subspace: 'gram', tensors: [{ pattern: 'layers.0.*', subspace: 'kfac' }] }) },
  { label: 'RegMean without bias folding', of: 'regmean', change: (p) => ({ ...p, fold_bias: false }) },
];
