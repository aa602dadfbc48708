import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eigh } from '@mats/backend-cpu';
import { assertClose, randomArray } from '@mats/core/testing';
import { DiagonalFisherAccumulator, GramAccumulator } from '../src/index.js';
import { maxAbs, referenceDiagonalFisher, referenceGram } from './statistics-reference.js';

const RTOL = 1e-10;

/** Random rows [rows, dim] with a scale, from a fast-check seed. */
const batchArbitrary = fc.record({
  rows: fc.integer({ min: 1, max: 24 }),
  dim: fc.integer({ min: 1, max: 9 }),
  seed: fc.integer(),
  scale: fc.constantFrom(1e-3, 1, 1e3),
});

describe('GramAccumulator', () => {
  it('equals (1/T) sum_t x_t x_t^T of a plain loop', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ rows, dim, seed, scale }) => {
        const x = randomArray(rows * dim, seed).map((v) => v * scale);
        const gram = new GramAccumulator(dim);
        gram.add(x);
        const expected = referenceGram(x, rows, dim);
        assertClose(gram.mean(), expected, RTOL, RTOL * maxAbs(expected), 'gram');
        expect(gram.count).toBe(rows);
      }),
    );
  });

  it('is exactly symmetric and positive semi-definite', () => {
    fc.assert(
      fc.property(batchArbitrary, ({ rows, dim, seed, scale }) => {
        const gram = new GramAccumulator(dim);
        gram.add(randomArray(rows * dim, seed).map((v) => v * scale));
        const a = gram.mean();
        for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) expect(a[i * dim + j]).toBe(a[j * dim + i]);
        const { values } = eigh(a, dim);
        // Eigenvalues of a Gram are >= 0 up to rounding of the order of u * ||A||.
        const bound = 64 * dim * 2 ** -53 * Math.max(...values.map(Math.abs));
        for (const value of values) expect(value).toBeGreaterThanOrEqual(-bound);
        // rank <= rows: at most `rows` eigenvalues stand clear of rounding.
        expect(values.filter((v) => v > 1e-8 * Math.max(...values)).length).toBeLessThanOrEqual(rows);
      }),
    );
  });

  it('accumulating in batches equals accumulating at once', () => {
    fc.assert(
      fc.property(batchArbitrary, fc.array(fc.nat(), { maxLength: 4 }), ({ rows, dim, seed }, cuts) => {
        const x = randomArray(rows * dim, seed);
        const whole = new GramAccumulator(dim);
        whole.add(x);
        const pieces = new GramAccumulator(dim);
        const bounds = [0, ...cuts.map((c) => c % (rows + 1)).sort((p, q) => p - q), rows];
        for (let b = 0; b + 1 < bounds.length; b++) pieces.add(x.subarray(bounds[b] * dim, bounds[b + 1] * dim));
        expect(pieces.count).toBe(rows);
        assertClose(pieces.mean(), whole.mean(), RTOL, RTOL * maxAbs(whole.mean()), 'batched gram');
      }),
    );
  });

  it('takes float32 batches: the same values as float64 give the same Gram', () => {
    const x32 = Float32Array.from(randomArray(30, 7));
    const a = new GramAccumulator(5);
    a.add(x32);
    const b = new GramAccumulator(5);
    b.add(Float64Array.from(x32));
    assertClose(a.mean(), b.mean(), RTOL, 0, 'float32 vs float64 input');
  });

  it('names the accumulator, row and column of bad input', () => {
    const gram = new GramAccumulator(3, 'fc.weight::input_gram');
    expect(() => gram.add(new Float64Array(4))).toThrow(/fc\.weight::input_gram.*4 values are not whole rows of 3/);
    expect(() => gram.add(Float64Array.from([0, 0, 0, 0, NaN, 0]))).toThrow(/fc\.weight::input_gram.*row 1, column 1 is not finite/);
    expect(() => gram.add([1, 2, 3] as unknown as Float64Array)).toThrow(/expected a Float32Array or Float64Array, got Array/);
    expect(() => gram.mean()).toThrow(/fc\.weight::input_gram: no rows/);
  });
});

describe('DiagonalFisherAccumulator', () => {
  it('equals the mean of squared per-example gradients, also in batches', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        fc.integer(),
        fc.integer({ min: 1, max: 11 }),
        (examples, shape, seed, cut) => {
          const size = shape.reduce((p, d) => p * d, 1);
          const g = randomArray(examples * size, seed);
          const fisher = new DiagonalFisherAccumulator(shape);
          const split = Math.min(cut, examples);
          fisher.add(g.subarray(0, split * size));
          fisher.add(g.subarray(split * size));
          expect(fisher.count).toBe(examples);
          const expected = referenceDiagonalFisher(g, examples, size);
          assertClose(fisher.mean(), expected, RTOL, 0, 'diagonal fisher');
          for (const v of fisher.mean()) expect(v).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('rejects gradients that do not fill whole examples, naming the parameter', () => {
    const fisher = new DiagonalFisherAccumulator([2, 3], 'w::fisher');
    expect(() => fisher.add(new Float32Array(7))).toThrow(/w::fisher: per-example gradients: 7 values are not whole rows of 6/);
    expect(() => new DiagonalFisherAccumulator([2, 0], 'w::fisher')).toThrow(/w::fisher: invalid parameter shape \[2, 0\]/);
  });
});
