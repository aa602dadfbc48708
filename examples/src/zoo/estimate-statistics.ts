import type { CpuTensor } from '@mats/backend-cpu';
import { logLikelihoodGradients, ModelStatistics, sampleLabels, type SeededRandom } from '@mats/merge';
import type { LabelledImages } from '../data/labelled-images.js';
import { batchRanges, gatherBatch, range } from '../mlp/batches.js';
import { backward, forward } from '../mlp/forward-backward.js';
import { biasName, weightName, type Mlp } from '../mlp/mlp.js';

export interface StatisticsOptions {
  /** At most this many examples (a prefix of the data). */
  readonly examples: number;
  /** 'true' samples each example's label from the model; 'empirical' uses the gold label. */
  readonly fisher: 'true' | 'empirical';
  /** Draws the sampled labels. */
  readonly random: SeededRandom;
  readonly batchSize?: number;
}

/**
 * A model's statistics, the way a user of another framework would compute them: a forward
 * pass records each linear layer's inputs a_t, a backward pass of log p(y | x) its output
 * gradients g_t, and @mats/merge's accumulators turn them into diagonal Fishers, K-FAC factors
 * and bias blocks. Batching changes nothing: every row is one example, and the accumulators
 * work per row (the reference code's batch size 1 gives the same numbers).
 */
export function estimateStatistics(mlp: Mlp, data: LabelledImages, options: StatisticsOptions): ModelStatistics {
  const b = mlp.backend;
  const statistics = new ModelStatistics();
  const layers = mlp.layers.map((layer, l) =>
    statistics.linear({ weight: weightName(l), bias: biasName(l), inFeatures: layer.weight.shape[1], outFeatures: layer.weight.shape[0] }),
  );
  const count = Math.min(options.examples, data.count);
  const classes = mlp.sizes.at(-1)!;
  for (const [start, end] of batchRanges(count, options.batchSize ?? 128)) {
    const batch = gatherBatch(b, data, range(start, end));
    const pass = forward(mlp, batch.x);
    const logits = pass.outputs.at(-1)!;
    const labels = options.fisher === 'true' ? sampleLabels(logits.data, classes, options.random) : batch.labels;
    const g = b.fromArray(logLikelihoodGradients(logits.data, classes, labels), logits.shape) as CpuTensor;
    const { outputGradients } = backward(mlp, pass, g, false);
    layers.forEach((layer, l) => layer.add(pass.inputs[l].data, outputGradients[l].data));
  }
  return statistics;
}
