/**
 * Values that vary by tensor, for numeric knobs and model weights, written as mergekit writes
 * them (mergekit/config.py, evaluate_setting):
 *   - a number: every tensor;
 *   - a list of numbers, a gradient over the layers: the entries spread evenly over
 *     t in [0, 1] and interpolated linearly, t = layer / (layers - 1) (layer-position.ts);
 *   - a list of {filter, value}: the first entry whose filter is a substring of the tensor's
 *     name (no filter, or '*', matches every tensor) gives the value, a number or a gradient;
 *     when none matches, the knob falls back (a model's knob to the global one, a global knob
 *     to its default).
 */
import { z } from 'zod';

export type Gradient = readonly number[];

export interface FilteredValue {
  readonly filter?: string;
  readonly value: number | Gradient;
}

export type TensorValue = number | Gradient | readonly FilteredValue[];

const numberOrGradient = z.union([z.number(), z.array(z.number()).min(1)]);

export const tensorValueSchema: z.ZodType<TensorValue> = z.union([
  z.number(),
  z.array(z.number()).min(1),
  z.array(z.strictObject({ filter: z.string().optional(), value: numberOrGradient })).min(1),
]);

/** Whether v varies by tensor (a gradient or a filtered list). */
export function isPerTensor(v: unknown): v is Gradient | readonly FilteredValue[] {
  return Array.isArray(v);
}

/** Whether v is a gradient somewhere (so tensors need layer positions). */
export function usesGradient(v: TensorValue): boolean {
  if (typeof v === 'number') return false;
  return v.some((e) => typeof e === 'number' || Array.isArray((e as FilteredValue).value));
}

/** Linear interpolation of a gradient at t in [0, 1], exactly as mergekit computes it. */
export function gradientAt(gradient: Gradient, t: number): number {
  const scaled = t * (gradient.length - 1);
  const i0 = Math.trunc(scaled);
  const i1 = Math.min(gradient.length - 1, i0 + 1);
  const frac = scaled - i0;
  return (1 - frac) * gradient[i0] + frac * gradient[i1];
}

/** The value for tensor `name` at layer position t, or undefined when no filter matches. */
export function valueAt(v: TensorValue, name: string, t: number): number | undefined {
  if (typeof v === 'number') return v;
  if (v.length > 0 && typeof v[0] === 'number') return gradientAt(v as Gradient, t);
  for (const entry of v as readonly FilteredValue[]) {
    if (entry.filter === undefined || entry.filter === '*' || (name !== '' && name.includes(entry.filter))) {
      return typeof entry.value === 'number' ? entry.value : gradientAt(entry.value, t);
    }
  }
  return undefined;
}

/** Every number a value can take (for range checks of weights). */
export function numbersIn(v: TensorValue): number[] {
  if (typeof v === 'number') return [v];
  return v.flatMap((e) => (typeof e === 'number' ? [e] : typeof e.value === 'number' ? [e.value] : [...e.value]));
}
