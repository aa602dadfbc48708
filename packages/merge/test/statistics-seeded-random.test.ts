import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/index.js';

describe('SeededRandom', () => {
  it('is reproducible, in range, and derived streams differ from each other and the parent', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (seed) => {
        const a = new SeededRandom(seed);
        const b = new SeededRandom(seed);
        for (let i = 0; i < 20; i++) {
          const u = a.uniform();
          expect(u).toBe(b.uniform());
          expect(u).toBeGreaterThanOrEqual(0);
          expect(u).toBeLessThan(1);
        }
        const x = new SeededRandom(seed).derive('task-1').nextUint32();
        const y = new SeededRandom(seed).derive('task-2').nextUint32();
        const z = new SeededRandom(seed).derive('task-1').nextUint32();
        expect(x).toBe(z);
        expect(x).not.toBe(y);
      }),
    );
  });

  it('below(n) is uniform: chi-square of 60,000 draws over 6 cells under the 0.999 quantile', () => {
    const random = new SeededRandom(2024);
    const counts = new Array(6).fill(0);
    const draws = 60_000;
    for (let i = 0; i < draws; i++) counts[random.below(6)]++;
    const expected = draws / 6;
    const chiSquare = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(20.52); // chi-square, 5 degrees of freedom, 0.999 quantile
  });

  it('permutation is a permutation, and seeds above 2^32 are distinct from their low bits', () => {
    const order = new SeededRandom(1).permutation(100);
    expect([...order].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new SeededRandom(5).nextUint32()).not.toBe(new SeededRandom(5 + 2 ** 32).nextUint32());
    expect(() => new SeededRandom(0.5)).toThrow(/seed must be a safe integer/);
  });
});
