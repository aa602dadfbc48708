import type { ImageTransform } from './image-transforms.js';
import { IMAGE_PIXELS, type MnistDigits } from './mnist-digits.js';

/** A data set ready for a model: inputs [count, 784] (float32, row-major) and labels [count]. */
export interface LabelledImages {
  readonly inputs: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** The chosen images, each passed through the task's transformation. */
export function transformImages(digits: MnistDigits, indices: Int32Array, transform: ImageTransform): LabelledImages {
  const count = indices.length;
  const inputs = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const image = indices[n];
    transform(digits.images.subarray(image * IMAGE_PIXELS, (image + 1) * IMAGE_PIXELS), inputs.subarray(n * IMAGE_PIXELS, (n + 1) * IMAGE_PIXELS));
    labels[n] = digits.labels[image];
  }
  return { inputs, labels, count };
}

/** Several data sets one after another (the multitask model's training set). */
export function concatenate(parts: readonly LabelledImages[]): LabelledImages {
  const count = parts.reduce((s, p) => s + p.count, 0);
  const inputs = new Float32Array(count * IMAGE_PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const part of parts) {
    inputs.set(part.inputs, offset * IMAGE_PIXELS);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  return { inputs, labels, count };
}

/** The first `count` examples (a smaller evaluation or statistics set). */
export function firstExamples(data: LabelledImages, count: number): LabelledImages {
  const n = Math.min(count, data.count);
  return { inputs: data.inputs.subarray(0, n * IMAGE_PIXELS), labels: data.labels.subarray(0, n), count: n };
}
