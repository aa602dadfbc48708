import { assertClose, randomArray } from '@mats/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearLayerStatistics, logLikelihoodGradients, sampleLabels, SeededRandom, softmaxRows } from '../src/index.js';

/** log softmax(z)[y], computed directly, for finite differences. */
function logProbability(z: Float64Array, y: number): number {
  const max = Math.max(...z);
  const logSum = Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
  return z[y] - logSum;
}

describe('logLikelihoodGradients', () => {
  it('is d log p(y | z) / dz by central differences, and each row sums to zero', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (classes, rows, seed) => {
        const logits = randomArray(rows * classes, seed).map((v) => 4 * v);
        const labels = Array.from({ length: rows }, (_, r) => (r * 7 + (seed >>> 0)) % classes);
        const g = logLikelihoodGradients(logits, classes, labels);
        const h = 1e-5;
        for (let r = 0; r < rows; r++) {
          const z = logits.slice(r * classes, (r + 1) * classes);
          let rowSum = 0;
          for (let c = 0; c < classes; c++) {
            const plus = z.slice();
            plus[c] += h;
            const minus = z.slice();
            minus[c] -= h;
            const numeric = (logProbability(plus, labels[r]) - logProbability(minus, labels[r])) / (2 * h);
            expect(Math.abs(g[r * classes + c] - numeric)).toBeLessThan(1e-8);
            rowSum += g[r * classes + c];
          }
          expect(Math.abs(rowSum)).toBeLessThan(1e-14);
        }
      }),
    );
  });

  it('rejects labels outside the classes and a label count that does not match', () => {
    expect(() => logLikelihoodGradients(new Float64Array(6), 3, [0, 3])).toThrow(/label 3 of row 1 is not a class in \[0, 3\)/);
    expect(() => logLikelihoodGradients(new Float64Array(6), 3, [0])).toThrow(/1 labels for 2 rows/);
  });

  it('softmax is stable for large logits', () => {
    const p = softmaxRows(Float64Array.from([1000, 1000, -1000]), 3);
    assertClose(p, [0.5, 0.5, 0], 1e-15, 0, 'softmax');
  });
});

describe('sampleLabels', () => {
  it('is a pure function of the seed', () => {
    const logits = randomArray(50 * 4, 3);
    const a = sampleLabels(logits, 4, new SeededRandom(11));
    const b = sampleLabels(logits, 4, new SeededRandom(11));
    const c = sampleLabels(logits, 4, new SeededRandom(12));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('draws from softmax(z): frequencies within 5 standard errors of the probabilities', () => {
    const logits = Float64Array.from([2, 0.5, -1, 0]);
    const rows = 40_000;
    const repeated = new Float64Array(rows * 4);
    for (let r = 0; r < rows; r++) repeated.set(logits, r * 4);
    const labels = sampleLabels(repeated, 4, new SeededRandom(5));
    const p = softmaxRows(logits, 4);
    for (let c = 0; c < 4; c++) {
      const frequency = labels.filter((y) => y === c).length / rows;
      expect(Math.abs(frequency - p[c])).toBeLessThan(5 * Math.sqrt((p[c] * (1 - p[c])) / rows));
    }
  });

  it('makes the "true" Fisher of the logits\' bias converge to its expectation diag(p) - p p^T', () => {
    // For a softmax output layer, E_{y ~ p}[(e_y - p)(e_y - p)^T] = diag(p) - p p^T exactly.
    const classes = 3;
    const logits = Float64Array.from([0.3, -0.7, 1.1]);
    const rows = 40_000;
    const z = new Float64Array(rows * classes);
    for (let r = 0; r < rows; r++) z.set(logits, r * classes);
    const labels = sampleLabels(z, classes, new SeededRandom(9));
    const layer = new LinearLayerStatistics({ weight: 'head.weight', bias: 'head.bias', inFeatures: 1, outFeatures: classes });
    layer.add(new Float64Array(rows).fill(1), logLikelihoodGradients(z, classes, labels));
    const block = layer.statistics().find((s) => s.key === 'head.bias::fisher_block')!.data;
    const p = softmaxRows(logits, classes);
    for (let i = 0; i < classes; i++) {
      for (let j = 0; j < classes; j++) {
        const expected = (i === j ? p[i] : 0) - p[i] * p[j];
        // Each entry is a mean of 40,000 terms bounded by 1 in magnitude: 5 standard errors <= 0.025.
        expect(Math.abs(block[i * classes + j] - expected)).toBeLessThan(0.025);
      }
    }
  });
});
