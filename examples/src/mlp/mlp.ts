import type { CpuBackend, CpuTensor } from '@mats/backend-cpu';
import type { SeededRandom } from '@mats/merge';

/** One linear layer y = W a + b, PyTorch nn.Linear's convention (DESIGN.md §3). */
export interface LinearLayer {
  readonly weight: CpuTensor; // [out, in]
  readonly bias: CpuTensor; // [out]
}

/** A named host copy of a parameter, the form checkpoints are read and written in. */
export interface NamedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** Checkpoint names of layer i's parameters, as an nn.Sequential of nn.Linear would name them. */
export function weightName(layer: number): string {
  return `layers.${layer}.weight`;
}
export function biasName(layer: number): string {
  return `layers.${layer}.bias`;
}

/**
 * A multilayer perceptron: linear layers with ReLU between them and logits at the end
 * (softmax cross-entropy is applied by the loss). sizes = [784, 128, 64, 10] has three layers.
 * Parameters live in tensors of a CPU backend; they are mutable only through training.
 */
export class Mlp {
  constructor(
    readonly backend: CpuBackend,
    readonly layers: readonly LinearLayer[],
  ) {
    layers.forEach((layer, i) => {
      const [out, inputs] = layer.weight.shape;
      if (i > 0 && inputs !== layers[i - 1].weight.shape[0]) {
        throw new RangeError(`${weightName(i)}: [${out}, ${inputs}] does not take the ${layers[i - 1].weight.shape[0]} outputs of layer ${i - 1}`);
      }
      if (layer.bias.shape.length !== 1 || layer.bias.shape[0] !== out) {
        throw new RangeError(`${biasName(i)}: shape [${layer.bias.shape.join(', ')}], expected [${out}]`);
      }
    });
  }

  /** Layer widths, inputs first: [in, hidden..., classes]. */
  get sizes(): number[] {
    return [this.layers[0].weight.shape[1], ...this.layers.map((l) => l.weight.shape[0])];
  }

  get parameterCount(): number {
    return this.layers.reduce((s, l) => s + l.weight.size + l.bias.size, 0);
  }

  /**
   * PyTorch's default nn.Linear initialisation, seeded: W and b uniform in
   * (-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)).
   */
  static initialize(backend: CpuBackend, sizes: readonly number[], random: SeededRandom): Mlp {
    if (sizes.length < 2) throw new RangeError(`an MLP needs at least an input and an output size, got [${sizes.join(', ')}]`);
    const layers: LinearLayer[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [inputs, out] = [sizes[i], sizes[i + 1]];
      const bound = 1 / Math.sqrt(inputs);
      const weight = Float64Array.from({ length: out * inputs }, () => random.uniformIn(-bound, bound));
      const bias = Float64Array.from({ length: out }, () => random.uniformIn(-bound, bound));
      layers.push({ weight: backend.fromArray(weight, [out, inputs]) as CpuTensor, bias: backend.fromArray(bias, [out]) as CpuTensor });
    }
    return new Mlp(backend, layers);
  }

  /**
   * An MLP from named parameters (a checkpoint): layers.0.weight, layers.0.bias, ... in order
   * until a weight is missing. Names a missing bias or a wrong shape.
   */
  static fromNamedArrays(backend: CpuBackend, parameters: ReadonlyMap<string, NamedArray>, source = 'checkpoint'): Mlp {
    const layers: LinearLayer[] = [];
    for (let i = 0; parameters.has(weightName(i)); i++) {
      const weight = parameters.get(weightName(i))!;
      const bias = parameters.get(biasName(i));
      if (bias === undefined) throw new RangeError(`${source}: ${biasName(i)} is missing`);
      if (weight.shape.length !== 2) throw new RangeError(`${source}: ${weightName(i)} has shape [${weight.shape.join(', ')}], expected [out, in]`);
      layers.push({ weight: backend.fromArray(weight.data, weight.shape) as CpuTensor, bias: backend.fromArray(bias.data, bias.shape) as CpuTensor });
    }
    if (layers.length === 0) throw new RangeError(`${source}: no ${weightName(0)}; not an MLP checkpoint of this demo`);
    return new Mlp(backend, layers);
  }

  /** Host copies of every parameter, by checkpoint name. */
  toNamedArrays(): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    this.layers.forEach((layer, i) => {
      out.set(weightName(i), { shape: [...layer.weight.shape], data: this.backend.toArray(layer.weight) });
      out.set(biasName(i), { shape: [...layer.bias.shape], data: this.backend.toArray(layer.bias) });
    });
    return out;
  }

  /** An independent copy (fine-tuning starts from a copy of the base). */
  clone(): Mlp {
    return Mlp.fromNamedArrays(this.backend, this.toNamedArrays());
  }
}
