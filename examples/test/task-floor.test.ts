import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../src/report/results.js';
import { formatChoice } from '../src/report/format-table.js';
import { bestCandidate, floorAccuracies, meetsFloor } from '../src/zoo/task-floor.js';

const accuracy = fc.double({ min: 0, max: 1, noNaN: true });

describe('the per-task floor on validation accuracy (issue 14)', () => {
  it('is the named row\'s per-task validation accuracy less the points, and says when that row is missing', () => {
    const regmean = { label: 'regmean', kind: 'merge', testAccuracy: [], meanTestAccuracy: 0, validationTaskAccuracy: [0.9, 0.5] } as ResultRow;
    const floor = floorAccuracies({ row: 'regmean', points: 5 }, new Map([['regmean', regmean]]));
    expect(floor[0]).toBeCloseTo(0.85, 12);
    expect(floor[1]).toBeCloseTo(0.45, 12);
    expect(() => floorAccuracies({ row: 'regmean', points: 5 }, new Map())).toThrow(/needs regmean's per-task validation accuracy/);
  });

  it('admits a candidate only when every task is at or above its floor', () => {
    expect(meetsFloor([0.85, 0.6], [0.85, 0.45])).toBe(true);
    expect(meetsFloor([0.8499, 0.9], [0.85, 0.45])).toBe(false);
  });

  it('counts a drop of exactly the points as within the floor, whatever the rounding of the subtraction', () => {
    // Accuracies over 500 digits: k / 500. A fall of exactly 5 points is 25 digits.
    for (let k = 25; k <= 500; k++) {
      const reference = { label: 'regmean', kind: 'merge', testAccuracy: [], meanTestAccuracy: 0, validationTaskAccuracy: [k / 500] } as ResultRow;
      const floor = floorAccuracies({ row: 'regmean', points: 5 }, new Map([['regmean', reference]]));
      expect(meetsFloor([(k - 25) / 500], floor), `${k}/500`).toBe(true);
      expect(meetsFloor([(k - 26) / 500], floor), `${k}/500`).toBe(false);
    }
  });

  it('chooses the best admissible mean (the first of equals), else the best mean, and reports both (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(accuracy, fc.boolean()), { minLength: 1, maxLength: 30 }), (candidates) => {
        const means = candidates.map(([m]) => m);
        const admissible = candidates.map(([, a]) => a);
        const { index, unconstrained, floorMet } = bestCandidate(means, admissible);
        const first = (keep: (i: number) => boolean) => {
          const kept = means.map((m, i) => (keep(i) ? m : -Infinity));
          return kept.indexOf(Math.max(...kept));
        };
        expect(unconstrained).toBe(first(() => true));
        if (admissible.some(Boolean)) {
          expect(floorMet).toBe(true);
          expect(index).toBe(first((i) => admissible[i]));
          expect(admissible[index]).toBe(true);
        } else {
          expect(floorMet).toBe(false);
          expect(index).toBe(unconstrained);
        }
        // Without a floor: the best mean.
        expect(bestCandidate(means, undefined)).toEqual({ index: unconstrained, unconstrained, floorMet: true });
      }),
    );
  });

  it('prints the best mean the floor passed over, with its validation and test accuracy', () => {
    const row: ResultRow = {
      label: 'mats kfac',
      kind: 'merge',
      method: 'mats',
      parameters: { beta: 1 },
      validationAccuracy: 0.7,
      selection: 'the best mean validation accuracy with no task more than 5 points below regmean on its validation digits',
      unconstrained: { parameters: { beta: 0.3 }, validationAccuracy: 0.71, testAccuracy: [0.7, 0.74], meanTestAccuracy: 0.72 },
      testAccuracy: [0.7, 0.7],
      meanTestAccuracy: 0.7,
    };
    expect(formatChoice(row)).toBe(
      'mats kfac: beta=1 (validation 70.0%, 1 candidates)\n' +
        '  chosen by the best mean validation accuracy with no task more than 5 points below regmean on its validation digits; the best mean among the candidates tried, {"beta":0.3}, had validation 71.0% and test 72.0%',
    );
  });
});
