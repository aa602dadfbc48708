import { createCpuBackend, type CpuTensor } from '@mats/backend-cpu';
import { randomArray } from '@mats/core/testing';
import { SeededRandom } from '@mats/merge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossEntropy } from '../src/mlp/cross-entropy.js';
import { backward, forward } from '../src/mlp/forward-backward.js';
import { Mlp } from '../src/mlp/mlp.js';

const backend = createCpuBackend('float64');

function loss(mlp: Mlp, x: Float64Array, labels: Int32Array): number {
  const input = backend.fromArray(x, [labels.length, mlp.sizes[0]]) as CpuTensor;
  const pass = forward(mlp, input);
  return crossEntropy(backend, pass.outputs.at(-1)!, labels).loss;
}

describe('MLP backward pass', () => {
  it('matches central differences of the mean cross-entropy for every parameter', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 2 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer(),
        (hidden, batch, seed) => {
          const sizes = [4, ...hidden, 3];
          const mlp = Mlp.initialize(backend, sizes, new SeededRandom(seed >>> 0));
          const x = randomArray(batch * sizes[0], seed);
          const random = new SeededRandom((seed >>> 0) + 1);
          const labels = Int32Array.from({ length: batch }, () => random.below(3));
          const pass = forward(mlp, backend.fromArray(x, [batch, sizes[0]]) as CpuTensor);
          const { gradient } = crossEntropy(backend, pass.outputs.at(-1)!, labels);
          const { parameters } = backward(mlp, pass, gradient, true);
          const h = 1e-6;
          mlp.layers.forEach((layer, l) => {
            for (const [tensor, analytic] of [
              [layer.weight, parameters!.weights[l]],
              [layer.bias, parameters!.biases[l]],
            ] as const) {
              for (let i = 0; i < tensor.size; i++) {
                const saved = tensor.data[i];
                tensor.data[i] = saved + h;
                const plus = loss(mlp, x, labels);
                tensor.data[i] = saved - h;
                const minus = loss(mlp, x, labels);
                tensor.data[i] = saved;
                const numeric = (plus - minus) / (2 * h);
                // Central differences: error O(h^2) plus rounding O(u / h); a ReLU kink within
                // h of a pre-activation is vanishingly unlikely with random float64 data.
                expect(Math.abs(analytic.data[i] - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
              }
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is deterministic: the same seed gives bitwise the same initialisation', () => {
    const a = Mlp.initialize(backend, [6, 5, 3], new SeededRandom(3)).toNamedArrays();
    const b = Mlp.initialize(backend, [6, 5, 3], new SeededRandom(3)).toNamedArrays();
    const c = Mlp.initialize(backend, [6, 5, 3], new SeededRandom(4)).toNamedArrays();
    expect([...a.keys()]).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    for (const [name, value] of a) {
      expect(Array.from(b.get(name)!.data)).toEqual(Array.from(value.data));
      expect(Array.from(c.get(name)!.data)).not.toEqual(Array.from(value.data));
    }
  });

  it('refuses a checkpoint with a missing bias or mismatched layer sizes, naming the tensor', () => {
    const named = Mlp.initialize(backend, [4, 3, 2], new SeededRandom(1)).toNamedArrays();
    const noBias = new Map(named);
    noBias.delete('layers.1.bias');
    expect(() => Mlp.fromNamedArrays(backend, noBias, 'task.safetensors')).toThrow(/task\.safetensors: layers\.1\.bias is missing/);
    const wrong = new Map(named);
    wrong.set('layers.1.weight', { shape: [2, 5], data: new Float64Array(10) });
    expect(() => Mlp.fromNamedArrays(backend, wrong)).toThrow(/layers\.1\.weight: \[2, 5\] does not take the 3 outputs of layer 0/);
  });
});
