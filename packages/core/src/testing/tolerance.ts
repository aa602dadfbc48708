import type { DType } from '../backend/backend.js';

/** Unit roundoff of each storage dtype. */
export function unitRoundoff(dtype: DType): number {
  return dtype === 'float64' ? 2 ** -53 : 2 ** -24;
}

/**
 * Default relative tolerance for comparing results of short computations: float64 ~1e-10,
 * float32 ~1e-4 (DESIGN.md §7).
 */
export function defaultTolerance(dtype: DType): number {
  return dtype === 'float64' ? 1e-10 : 1e-4;
}

/**
 * Asserts |actual - expected| <= atol + rtol |expected| elementwise and says where it fails.
 * Returns nothing; throws an Error naming the first bad index.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol = 0,
  what = 'value',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e));
    if (!ok) {
      throw new Error(`${what}[${i}] = ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}
