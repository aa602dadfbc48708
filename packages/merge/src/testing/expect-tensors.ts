/** Comparing merged tensors (name -> float64 values) with a reference, with a tolerance. */
import { expect } from 'vitest';

/**
 * The same tensor names, and every value within tolerance * max(1, |expected|) (0: exactly);
 * a miss names the tensor and the element.
 */
export function expectTensorsClose(actual: ReadonlyMap<string, Float64Array>, expected: ReadonlyMap<string, Float64Array>, tolerance = 1e-12): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    expect(a.length, name).toBe(e.length);
    for (let j = 0; j < e.length; j++) {
      if (!(Math.abs(a[j] - e[j]) <= tolerance * Math.max(1, Math.abs(e[j])))) expect({ name, j, value: a[j] }).toEqual({ name, j, value: e[j] });
    }
  }
}
