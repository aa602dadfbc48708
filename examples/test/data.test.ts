import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flipHorizontal, gaussianBlur, identity, invert, pixelate, rotate180, rotate90, shift, dilate } from '../src/data/image-transforms.js';
import { transformImages } from '../src/data/labelled-images.js';
import { IMAGE_PIXELS, loadMnistDigits } from '../src/data/mnist-digits.js';
import { buildSplits } from '../src/data/splits.js';
import { TASKS, selectTasks } from '../src/data/tasks.js';

const digits = loadMnistDigits();

function image(seed: number): Float32Array {
  return digits.images.slice((seed % digits.count) * IMAGE_PIXELS, ((seed % digits.count) + 1) * IMAGE_PIXELS);
}

function apply(transform: (s: Float32Array, d: Float32Array) => void, src: Float32Array): Float32Array {
  const dst = new Float32Array(IMAGE_PIXELS).fill(NaN);
  transform(src, dst);
  return dst;
}

describe('mnist digits', () => {
  it('loads the 10,000 digits of the package, every class present, pixels in [0, 1]', () => {
    expect(digits.count).toBe(10_000);
    expect(digits.byClass.map((c) => c.length)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of digits.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    digits.byClass.forEach((members, d) => members.forEach((i) => expect(digits.labels[i]).toBe(d)));
  });
});

describe('splits', () => {
  const splits = buildSplits(digits, { tasks: 8, seed: 1 });

  it('are disjoint: no image in two splits, no image in two tasks', () => {
    const owner = new Map<number, string>();
    const claim = (indices: Int32Array, name: string) =>
      indices.forEach((i) => {
        expect(owner.get(i), `image ${i} in ${name} and ${owner.get(i)}`).toBeUndefined();
        owner.set(i, name);
      });
    claim(splits.pretrain, 'pretrain');
    splits.taskTrain.forEach((t, k) => claim(t, `task ${k}`));
    claim(splits.statistics, 'statistics');
    claim(splits.validation, 'validation');
    claim(splits.test, 'test');
    expect(owner.size).toBe(digits.count);
  });

  it('are stratified (each split has every class in proportion) and deterministic', () => {
    const classShare = (indices: Int32Array, digit: number) => Array.from(indices).filter((i) => digits.labels[i] === digit).length / indices.length;
    for (let d = 0; d < 10; d++) {
      const overall = digits.byClass[d].length / digits.count;
      for (const split of [splits.pretrain, splits.statistics, splits.validation, splits.test, ...splits.taskTrain]) {
        expect(Math.abs(classShare(split, d) - overall)).toBeLessThan(0.02);
      }
    }
    const again = buildSplits(digits, { tasks: 8, seed: 1 });
    expect(Array.from(again.test)).toEqual(Array.from(splits.test));
    const other = buildSplits(digits, { tasks: 8, seed: 2 });
    expect(Array.from(other.test)).not.toEqual(Array.from(splits.test));
  });

  it('a fraction of the data gives proportionally smaller splits', () => {
    const small = buildSplits(digits, { tasks: 3, seed: 1, fractionUsed: 0.1 });
    expect(small.test.length).toBeGreaterThan(150);
    expect(small.test.length).toBeLessThan(250);
    expect(small.taskTrain).toHaveLength(3);
    expect(() => buildSplits(digits, { tasks: 2, seed: 1, fractions: { pretrain: 0.6, taskTrain: 0.5, statistics: 0, validation: 0, test: 0 } })).toThrow(/add up to at most 1/);
  });
});

describe('image transforms', () => {
  const seeds = fc.nat();

  it('are permutations or involutions where geometry says so', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const x = image(seed);
        const turned = [1, 2, 3, 4].reduce((img) => apply(rotate90, img), x);
        expect(Array.from(turned)).toEqual(Array.from(x));
        expect(Array.from(apply(rotate90, apply(rotate90, x)))).toEqual(Array.from(apply(rotate180, x)));
        expect(Array.from(apply(flipHorizontal, apply(flipHorizontal, x)))).toEqual(Array.from(x));
        expect(Array.from(apply(invert, apply(invert, x))).map((v, i) => Math.abs(v - x[i]) < 1e-6)).not.toContain(false);
        expect(Array.from(apply(identity, x))).toEqual(Array.from(x));
      }),
      { numRuns: 20 },
    );
  });

  it('keep pixels in [0, 1]; blur only loses ink at the border, pixelate keeps it, dilate adds', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const x = image(seed);
        for (const task of TASKS) {
          const y = apply(task.transform, x);
          expect(Math.min(...y), task.name).toBeGreaterThanOrEqual(0);
          expect(Math.max(...y), task.name).toBeLessThanOrEqual(1 + 1e-6);
        }
        const ink = (img: Float32Array) => img.reduce((s, v) => s + v, 0);
        const blurred = ink(apply(gaussianBlur(1.5), x));
        expect(blurred).toBeLessThanOrEqual(ink(x) * (1 + 1e-5));
        expect(blurred).toBeGreaterThan(0.9 * ink(x));
        expect(Math.abs(ink(apply(pixelate(4), x)) - ink(x))).toBeLessThan(1e-4 * ink(x));
        expect(ink(apply(dilate, x))).toBeGreaterThanOrEqual(ink(x));
      }),
      { numRuns: 20 },
    );
  });

  it('shift moves pixels by (right, down) and fills with background', () => {
    const x = new Float32Array(IMAGE_PIXELS);
    x[3 * 28 + 4] = 1;
    const y = apply(shift(5, 2), x);
    expect(y[5 * 28 + 9]).toBe(1);
    expect(y.reduce((s, v) => s + v, 0)).toBe(1);
  });

  it('transformImages applies the task to the chosen images and keeps their labels', () => {
    const indices = Int32Array.from([0, 5000, 9999]);
    const data = transformImages(digits, indices, rotate90);
    expect(data.count).toBe(3);
    expect(Array.from(data.labels)).toEqual(Array.from(indices, (i) => digits.labels[i]));
    expect(Array.from(data.inputs.subarray(IMAGE_PIXELS, 2 * IMAGE_PIXELS))).toEqual(Array.from(apply(rotate90, image(5000))));
  });

  it('selectTasks names the unknown task and the known ones', () => {
    expect(selectTasks(['flip', 'blur']).map((t) => t.name)).toEqual(['flip', 'blur']);
    expect(() => selectTasks(['rotate45'])).toThrow(/unknown task "rotate45"; known tasks: rotate90, rotate180/);
  });
});
