/**
 * Elementwise loops of the baseline methods: small synchronous functions that V8 optimises
 * on their own, outside the async method bodies that await reads between them. Where every
 * array lives in the CPU backend's kernel memory (the streaming pass reads into such arrays),
 * the fused ones run on its WebAssembly kernels on every core instead, with the same results
 * bit for bit (@mats/backend-cpu's host-vectors tests check that).
 */
import { hostVectors } from '@mats/backend-cpu';
import type { FloatArray } from '../safetensors/decode.js';
import { applyDareDrop } from './dare-mask.js';

/**
 * out = base + lambda sum_i w_i d_i with d_i = x_i - base (or d_i = x_i when taskVectors),
 * accumulated in float64 and rounded once to out's precision.
 */
export function taskArithmeticInto(out: FloatArray, base: FloatArray, xs: readonly FloatArray[], weights: readonly number[], lambda: number, taskVectors = false): void {
  if (hostVectors()?.taskArithmetic(out, base, xs, weights, lambda, taskVectors)) return;
  const sum = new Float64Array(out.length);
  xs.forEach((x, i) => (taskVectors ? accumulateScaled(sum, weights[i], x) : accumulateDifference(sum, weights[i], x, base)));
  addScaledToBase(sum, base, lambda);
  out.set(sum);
}

/** tau = DARE's drop of (model - base), in tau's precision (task-vectors.ts); returns the drops. */
export function dareTaskVector(tau: FloatArray, model: FloatArray, base: FloatArray, key: number, offset: number, p: number, rescale: boolean): number {
  const dropped = hostVectors()?.dare(tau, model, base, key, offset, p, rescale ? 1 / (1 - p) : 1);
  if (dropped !== undefined) return dropped;
  difference(tau, model, base);
  return applyDareDrop(tau, key, offset, p, rescale);
}

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
