import type { LabelledImages } from '../data/labelled-images.js';
import { batchRanges, gatherBatch, range } from './batches.js';
import { forward } from './forward-backward.js';
import type { Mlp } from './mlp.js';

/** The argmax class of every example (ties to the lower class). */
export function predict(mlp: Mlp, data: LabelledImages, batchSize = 512): Uint8Array {
  const predictions = new Uint8Array(data.count);
  for (const [start, end] of batchRanges(data.count, batchSize)) {
    const batch = gatherBatch(mlp.backend, data, range(start, end));
    const logits = forward(mlp, batch.x).outputs.at(-1)!;
    const classes = logits.shape[1];
    const z = logits.data;
    for (let r = 0; r < end - start; r++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (z[r * classes + c] > z[r * classes + best]) best = c;
      predictions[start + r] = best;
    }
  }
  return predictions;
}

/** Fraction of examples classified correctly. */
export function accuracy(mlp: Mlp, data: LabelledImages): number {
  const predictions = predict(mlp, data);
  let correct = 0;
  for (let n = 0; n < data.count; n++) if (predictions[n] === data.labels[n]) correct++;
  return correct / data.count;
}
