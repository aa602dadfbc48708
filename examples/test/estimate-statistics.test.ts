import { createCpuBackend, type CpuTensor } from '@mats/backend-cpu';
import { assertClose, randomArray } from '@mats/core/testing';
import { SeededRandom } from '@mats/merge';
import { describe, expect, it } from 'vitest';
import type { LabelledImages } from '../src/data/labelled-images.js';
import { crossEntropy } from '../src/mlp/cross-entropy.js';
import { backward, forward } from '../src/mlp/forward-backward.js';
import { Mlp } from '../src/mlp/mlp.js';
import { estimateStatistics } from '../src/zoo/estimate-statistics.js';

const backend = createCpuBackend('float64');

function randomData(count: number, features: number, classes: number, seed: number): LabelledImages {
  const random = new SeededRandom(seed);
  return {
    inputs: Float32Array.from(randomArray(count * features, seed)),
    labels: Uint8Array.from({ length: count }, () => random.below(classes)),
    count,
  };
}

describe('estimateStatistics', () => {
  const mlp = Mlp.initialize(backend, [6, 5, 4, 3], new SeededRandom(7));
  const data = randomData(23, 6, 3, 11);

  it('gives the empirical Fisher of per-example gradients computed one example at a time (the reference code\'s batch size 1)', () => {
    const statistics = new Map(
      estimateStatistics(mlp, data, { examples: 100, fisher: 'empirical', random: new SeededRandom(0), batchSize: 8 })
        .statistics()
        .map((s) => [s.key, s.data]),
    );
    const sums = new Map<string, Float64Array>();
    for (let n = 0; n < data.count; n++) {
      const x = backend.fromArray(data.inputs.subarray(n * 6, (n + 1) * 6), [1, 6]) as CpuTensor;
      const pass = forward(mlp, x);
      // Batch of one: the loss gradient is minus the log-likelihood gradient; squares agree.
      const { gradient } = crossEntropy(backend, pass.outputs.at(-1)!, Int32Array.of(data.labels[n]));
      const { parameters } = backward(mlp, pass, gradient, true);
      mlp.layers.forEach((_, l) => {
        for (const [name, g] of [
          [`layers.${l}.weight`, parameters!.weights[l]],
          [`layers.${l}.bias`, parameters!.biases[l]],
        ] as const) {
          const sum = sums.get(name) ?? new Float64Array(g.size);
          g.data.forEach((v, i) => (sum[i] += v * v));
          sums.set(name, sum);
        }
      });
    }
    for (const [name, sum] of sums) {
      assertClose(statistics.get(`${name}::fisher`)!, sum.map((v) => v / data.count), 1e-10, 1e-14, name);
    }
    expect([...statistics.keys()]).toContain('layers.2.weight::grad_gram');
    expect([...statistics.keys()]).toContain('layers.0.bias::fisher_block');
  });

  it('does not depend on the batch size, and the "true" Fisher is reproducible from its seed', () => {
    const run = (batchSize: number, fisher: 'true' | 'empirical', seed: number) =>
      estimateStatistics(mlp, data, { examples: 20, fisher, random: new SeededRandom(seed), batchSize }).statistics();
    for (const fisher of ['true', 'empirical'] as const) {
      const small = run(3, fisher, 5);
      const large = run(64, fisher, 5);
      small.forEach((s, i) => assertClose(s.data, large[i].data, 1e-10, 1e-14, s.key));
    }
    const other = run(64, 'true', 6);
    expect(other.some((s, i) => s.data.some((v, j) => v !== run(64, 'true', 5)[i].data[j]))).toBe(true);
    expect(new Set(run(64, 'true', 5).map((s) => s.shape.join('x')))).toContain('5x6');
  });
});
