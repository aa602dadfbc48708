import type { CpuBackend, CpuTensor } from '@mats/backend-cpu';
import type { LabelledImages } from '../data/labelled-images.js';

/** One minibatch on the backend: x [batch, features] and its labels. */
export interface Batch {
  readonly x: CpuTensor;
  readonly labels: Int32Array;
}

/** Gathers the examples at `indices` (a slice of a permutation, or a range) into a batch. */
export function gatherBatch(backend: CpuBackend, data: LabelledImages, indices: ArrayLike<number>): Batch {
  const features = data.inputs.length / data.count;
  const x = backend.zeros([indices.length, features]) as CpuTensor;
  const labels = new Int32Array(indices.length);
  const dst = x.data;
  for (let r = 0; r < indices.length; r++) {
    const n = indices[r];
    dst.set(data.inputs.subarray(n * features, (n + 1) * features), r * features);
    labels[r] = data.labels[n];
  }
  return { x, labels };
}

/** Consecutive index ranges [start, end) of at most `size` examples covering [0, count). */
export function* batchRanges(count: number, size: number): Generator<[number, number]> {
  for (let start = 0; start < count; start += size) yield [start, Math.min(count, start + size)];
}

/** [start, end) as an index array. */
export function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}
