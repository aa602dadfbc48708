import { IMAGE_PIXELS, IMAGE_SIDE } from './mnist-digits.js';

/**
 * Deterministic transformations of one 28 x 28 image (row-major, values in [0, 1]): each
 * writes dst from src and never reads dst. One of these defines each task of the model zoo.
 */
export type ImageTransform = (src: Float32Array, dst: Float32Array) => void;

const S = IMAGE_SIDE;

/** dst[r, c] = src[source(r, c)], 0 where the source pixel lies outside the image. */
function remap(source: (r: number, c: number) => [number, number]): ImageTransform {
  return (src, dst) => {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const [sr, sc] = source(r, c);
        dst[r * S + c] = sr >= 0 && sr < S && sc >= 0 && sc < S ? src[sr * S + sc] : 0;
      }
    }
  };
}

/** A quarter turn counterclockwise. */
export const rotate90: ImageTransform = remap((r, c) => [c, S - 1 - r]);
/** A half turn. */
export const rotate180: ImageTransform = remap((r, c) => [S - 1 - r, S - 1 - c]);
/** Mirror left to right. */
export const flipHorizontal: ImageTransform = remap((r, c) => [r, S - 1 - c]);
/** Mirror top to bottom. */
export const flipVertical: ImageTransform = remap((r, c) => [S - 1 - r, c]);

/** Moves the digit by (right, down) pixels, filling with background. */
export function shift(right: number, down: number): ImageTransform {
  return remap((r, c) => [r - down, c - right]);
}

/** White digits on black become black on white: 1 - x. */
export const invert: ImageTransform = (src, dst) => {
  for (let i = 0; i < IMAGE_PIXELS; i++) dst[i] = 1 - src[i];
};

/** Separable Gaussian blur with standard deviation sigma, zero outside the image. */
export function gaussianBlur(sigma: number): ImageTransform {
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((s, k) => s + k, 0);
  const weights = kernel.map((k) => k / total);
  const rows = new Float32Array(IMAGE_PIXELS);
  return (src, dst) => {
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) if (c + k >= 0 && c + k < S) s += weights[k + radius] * src[r * S + c + k];
        rows[r * S + c] = s;
      }
    }
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) if (r + k >= 0 && r + k < S) s += weights[k + radius] * rows[(r + k) * S + c];
        dst[r * S + c] = s;
      }
    }
  };
}

/** Thicker strokes: the maximum over each pixel's 3 x 3 neighbourhood (morphological dilation). */
export const dilate: ImageTransform = (src, dst) => {
  for (let r = 0; r < S; r++) {
    for (let c = 0; c < S; c++) {
      let m = 0;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          const rr = r + dr;
          const cc = c + dc;
          if (rr >= 0 && rr < S && cc >= 0 && cc < S) m = Math.max(m, src[rr * S + cc]);
        }
      }
      dst[r * S + c] = m;
    }
  }
};

/** Coarser resolution: each block x block tile replaced by its mean (28 is divisible by 2, 4, 7). */
export function pixelate(block: number): ImageTransform {
  if (S % block !== 0) throw new RangeError(`pixelate: block ${block} does not divide ${S}`);
  return (src, dst) => {
    for (let r0 = 0; r0 < S; r0 += block) {
      for (let c0 = 0; c0 < S; c0 += block) {
        let s = 0;
        for (let r = r0; r < r0 + block; r++) for (let c = c0; c < c0 + block; c++) s += src[r * S + c];
        const mean = s / (block * block);
        for (let r = r0; r < r0 + block; r++) for (let c = c0; c < c0 + block; c++) dst[r * S + c] = mean;
      }
    }
  };
}

/** The identity: the base model's plain digits. */
export const identity: ImageTransform = (src, dst) => {
  dst.set(src.subarray(0, IMAGE_PIXELS));
};
