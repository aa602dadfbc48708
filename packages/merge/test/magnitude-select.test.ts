/** Exactly-k top-|x| selection against a sort-based reference, ties broken by index. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyKeepRule, MagnitudeSelector, topMagnitudeMask } from '../src/methods/magnitude-select.js';

/** Reference: indices sorted by |x| descending, then index ascending; the first k kept. */
function referenceMask(values: ArrayLike<number>, k: number): Uint8Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
  const mask = new Uint8Array(values.length);
  for (let r = 0; r < Math.min(k, values.length); r++) mask[order[r]] = 1;
  return mask;
}

// Few distinct magnitudes (many ties), both signs, zeros, tiny and huge values.
const valueArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, -0.5, 2, 3e-40, -3e-40, 1e30),
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => Math.fround(x)),
);

const caseArb = fc
  .record({ values: fc.array(valueArb, { minLength: 0, maxLength: 60 }), f64: fc.boolean(), fraction: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ values, f64, fraction }) => ({ array: f64 ? Float64Array.from(values) : Float32Array.from(values), k: Math.round(fraction * values.length) }));

describe('MagnitudeSelector', () => {
  it('keeps exactly the k largest |x|, ties by index, for float32 and float64', () => {
    fc.assert(
      fc.property(caseArb, ({ array, k }) => {
        const mask = topMagnitudeMask(array, k);
        expect(mask).toEqual(referenceMask(array, k));
        expect(mask.reduce((a, b) => a + b, 0)).toBe(Math.min(k, array.length));
      }),
      { numRuns: 500 },
    );
  });

  it('streams over several arrays exactly like one concatenated array', () => {
    fc.assert(
      fc.property(caseArb, fc.array(fc.nat(), { maxLength: 4 }), ({ array, k }, cuts) => {
        const bounds = [0, ...cuts.map((c) => (array.length === 0 ? 0 : c % array.length)).sort((a, b) => a - b), array.length];
        const parts = bounds.slice(1).map((end, i) => array.subarray(bounds[i], end));
        const selector = new MagnitudeSelector(k);
        let passes = 0;
        while (!selector.done) {
          for (const p of parts) selector.add(p);
          selector.endPass();
          passes++;
        }
        expect(passes).toBeLessThanOrEqual(array instanceof Float64Array ? 4 : 2);
        const rule = selector.result();
        const mask = new Uint8Array(array.length);
        for (let i = 0; i < parts.length; i++) applyKeepRule(parts[i], rule, mask.subarray(bounds[i], bounds[i + 1]));
        expect(mask).toEqual(referenceMask(array, k));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the first k of all-equal magnitudes, never everything', () => {
    const values = new Float32Array([0.5, -0.5, 0.5, 0.5, -0.5, 0.5]);
    expect([...topMagnitudeMask(values, 2)]).toEqual([1, 1, 0, 0, 0, 0]);
  });
});
