/**
 * Elementwise loops of the baseline methods: small synchronous functions that V8 optimises
 * on their own, outside the async method bodies that await reads between them.
 */
import type { FloatArray } from '../safetensors/decode.js';

/** sum[j] += w * (theta[j] - base[j]) */
export function accumulateDifference(sum: Float64Array, w: number, theta: FloatArray, base: FloatArray): void {
  const n = sum.length;
  for (let j = 0; j < n; j++) sum[j] += w * (theta[j] - base[j]);
}

/** sum[j] += w * x[j] */
export function accumulateScaled(sum: Float64Array, w: number, x: FloatArray): void {
  const n = sum.length;
  for (let j = 0; j < n; j++) sum[j] += w * x[j];
}

/** out[j] = base[j] + lambda * out[j] */
export function addScaledToBase(out: Float64Array, base: FloatArray, lambda: number): void {
  const n = out.length;
  for (let j = 0; j < n; j++) out[j] = base[j] + lambda * out[j];
}

/** x[j] /= d */
export function divideBy(x: Float64Array, d: number): void {
  const n = x.length;
  for (let j = 0; j < n; j++) x[j] /= d;
}

/** out[j] = model[j] - base[j], in out's precision */
export function difference(out: FloatArray, model: FloatArray, base: FloatArray): void {
  const n = out.length;
  for (let j = 0; j < n; j++) out[j] = model[j] - base[j];
}
