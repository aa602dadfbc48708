/**
 * A per-task floor on validation data: a candidate is admissible only when none of its tasks
 * falls more than `points` below another, already chosen, row on that task's validation digits.
 * Issue 14 asks that `mats kfac` beat RegMean on the mean without giving up more than 5 points
 * of any task; selecting by the mean alone lets K-FAC trade a task the base model already does
 * well (its true-Fisher curvature is small) for gains elsewhere. The floor is that requirement
 * applied where every knob is chosen, on validation data: test digits never take part.
 */
import type { ResultRow } from '../report/results.js';

export interface TaskFloor {
  /** The row whose per-task validation accuracy sets the floor (it is chosen first). */
  readonly row: string;
  /** Accuracy points (percent) a task may fall below that row's. */
  readonly points: number;
}

/** The floor's per-task accuracies (fractions), from the chosen row. */
export function floorAccuracies(floor: TaskFloor, chosen: ReadonlyMap<string, ResultRow>): readonly number[] {
  const values = chosen.get(floor.row)?.validationTaskAccuracy;
  if (values === undefined) throw new Error(`the per-task floor needs ${floor.row}'s per-task validation accuracy: run ${floor.row} first`);
  return values.map((v) => v - floor.points / 100);
}

/**
 * Accuracies are counts over hundreds of digits, and the floor (a - points / 100) is rounded:
 * a drop of exactly `points` must count as within it, not fail by an ulp.
 */
const ROUNDING = 1e-9;

/** Whether every task's validation accuracy is at or above its floor. */
export function meetsFloor(taskAccuracy: readonly number[], floor: readonly number[]): boolean {
  return taskAccuracy.every((a, i) => a >= floor[i] - ROUNDING);
}

/**
 * The index of the best candidate by mean validation accuracy among the admissible ones (the
 * first of equal ones, as everywhere in the demo), or among all when none is admissible or
 * there is no floor. `admissible` is undefined without a floor.
 */
export function bestCandidate(means: readonly number[], admissible: readonly boolean[] | undefined): { index: number; unconstrained: number; floorMet: boolean } {
  const argmax = (keep: (i: number) => boolean) => means.reduce((best, m, i) => (keep(i) && (best < 0 || m > means[best]) ? i : best), -1);
  const unconstrained = argmax(() => true);
  if (admissible === undefined) return { index: unconstrained, unconstrained, floorMet: true };
  const index = argmax((i) => admissible[i]);
  return index < 0 ? { index: unconstrained, unconstrained, floorMet: false } : { index, unconstrained, floorMet: true };
}
