import type { CpuTensor } from '@mats/backend-cpu';
import type { SeededRandom } from '@mats/merge';
import type { LabelledImages } from '../data/labelled-images.js';
import { gatherBatch } from './batches.js';
import { crossEntropy } from './cross-entropy.js';
import { backward, forward } from './forward-backward.js';
import type { Mlp } from './mlp.js';

export interface TrainingOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate of SGD; it decays to 0 along a cosine over all steps. */
  readonly learningRate: number;
  /** Heavy-ball momentum: v <- momentum v + g, theta <- theta - lr v. */
  readonly momentum: number;
  /**
   * Rescales a step's gradient to this global L2 norm when it is larger (gradient clipping):
   * fine-tuning starts from confidently wrong predictions on some tasks (inverted digits),
   * whose first gradients would otherwise throw the weights far away. Infinity: no clipping.
   */
  readonly clipNorm?: number;
  /** Shuffles each epoch; derived streams per epoch, so a run is a pure function of the seed. */
  readonly random: SeededRandom;
  /** Called after each epoch with its mean training loss. */
  readonly onEpoch?: (epoch: number, meanLoss: number) => void;
}

export interface TrainingReport {
  readonly steps: number;
  readonly examples: number;
  readonly seconds: number;
  /** Mean training loss over the last epoch. */
  readonly finalLoss: number;
}

/** Minibatch SGD with momentum and a cosine learning-rate schedule, in place on mlp. */
export function train(mlp: Mlp, data: LabelledImages, options: TrainingOptions): TrainingReport {
  const { epochs, batchSize, learningRate, momentum, random } = options;
  const clipNorm = options.clipNorm ?? Infinity;
  const b = mlp.backend;
  const velocities = mlp.layers.map((layer) => ({ weight: b.zeros(layer.weight.shape) as CpuTensor, bias: b.zeros(layer.bias.shape) as CpuTensor }));
  const stepsPerEpoch = Math.ceil(data.count / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const start = performance.now();
  let step = 0;
  let finalLoss = NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = random.derive(`epoch-${epoch}`).permutation(data.count);
    let lossSum = 0;
    for (let s = 0; s < data.count; s += batchSize) {
      const batch = gatherBatch(b, data, order.subarray(s, Math.min(data.count, s + batchSize)));
      const pass = forward(mlp, batch.x);
      const { loss, gradient } = crossEntropy(b, pass.outputs[pass.outputs.length - 1], batch.labels);
      const { parameters } = backward(mlp, pass, gradient, true);
      const rate = 0.5 * learningRate * (1 + Math.cos((Math.PI * step) / totalSteps));
      const grads = [...parameters!.weights, ...parameters!.biases];
      const norm = Math.hypot(...grads.map((g) => b.nrm2(g)));
      if (norm > clipNorm) for (const g of grads) b.scal(clipNorm / norm, g);
      mlp.layers.forEach((layer, l) => {
        b.axpby(1, parameters!.weights[l], momentum, velocities[l].weight);
        b.axpby(1, parameters!.biases[l], momentum, velocities[l].bias);
        b.axpy(-rate, velocities[l].weight, layer.weight);
        b.axpy(-rate, velocities[l].bias, layer.bias);
      });
      lossSum += loss * batch.labels.length;
      step++;
    }
    finalLoss = lossSum / data.count;
    options.onEpoch?.(epoch, finalLoss);
  }
  return { steps: totalSteps, examples: epochs * data.count, seconds: (performance.now() - start) / 1000, finalLoss };
}
