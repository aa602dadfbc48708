/**
 * fast-check arbitraries of merge problems: a base, M task models of the same shapes and their
 * weights. Values sit on a coarse grid, so magnitudes tie often: the hard case for methods that
 * rank entries (TIES's trim, breadcrumbs' mask).
 */
import fc from 'fast-check';
import type { Fixture } from './fixtures.js';

export interface MergeProblem {
  readonly base: Fixture;
  readonly models: readonly Fixture[];
  readonly weights: readonly number[];
}

/** Tensor names (natural order differs from string order: layers.2 and layers.10) to 1-D or 2-D shapes. */
export const shapesArbitrary: fc.Arbitrary<Record<string, number[]>> = fc.dictionary(
  fc.constantFrom('a.weight', 'a.bias', 'b.weight', 'layers.2.w', 'layers.10.w'),
  fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 2 }),
  { minKeys: 1, maxKeys: 4 },
);

/** Multiples of 1/steps in [-2, 2] (F32-exact). */
export const gridValue = (steps = 4): fc.Arbitrary<number> => fc.integer({ min: -2 * steps, max: 2 * steps }).map((v) => v / steps);

/** One model of these shapes (F32), values on the grid. */
export function modelArbitrary(shapes: Record<string, readonly number[]>, steps = 4): fc.Arbitrary<Fixture> {
  const entries = Object.entries(shapes).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.array(gridValue(steps), { minLength: n, maxLength: n }).map((v) => [name, { dtype: 'F32' as const, shape, data: Float32Array.from(v) }] as const);
  });
  return fc.tuple(...entries).map((es) => Object.fromEntries(es) as Fixture);
}

export interface MergeProblemOptions {
  /** Shapes of the model (default: shapesArbitrary). */
  readonly shapes?: fc.Arbitrary<Record<string, number[]>>;
  readonly maxModels?: number;
  /** Weights drawn from these (default 1, 0.5, 2, 3). */
  readonly weights?: readonly number[];
  /** Grid steps per unit (default 4). */
  readonly steps?: number;
}

/** A base, 1..maxModels models (default 4) and a weight each. */
export function mergeProblemArbitrary(options: MergeProblemOptions = {}): fc.Arbitrary<MergeProblem> {
  const weights = options.weights ?? [1, 0.5, 2, 3];
  return fc.integer({ min: 1, max: options.maxModels ?? 4 }).chain((m) =>
    (options.shapes ?? shapesArbitrary).chain((shapes) =>
      fc.record({
        base: modelArbitrary(shapes, options.steps),
        models: fc.array(modelArbitrary(shapes, options.steps), { minLength: m, maxLength: m }),
        weights: fc.array(fc.constantFrom(...weights), { minLength: m, maxLength: m }),
      }),
    ),
  );
}
