import { countRows, type FloatBatch } from './float-batch.js';

/**
 * The diagonal Fisher from per-example gradients: F = (1/N) sum_n g_n .* g_n, where g_n is
 * the gradient of log p(y_n | x_n) for one example (METHODS.md, "Statistics"). The gradients
 * of a batch come as [n, ...shape], row-major: example after example, each flattened the way
 * the parameter is stored.
 */
export class DiagonalFisherAccumulator {
  private readonly sumOfSquares: Float64Array;
  private examples = 0;
  readonly size: number;

  constructor(
    readonly shape: readonly number[],
    /** Names this accumulator in errors, e.g. `layers.0.bias::fisher`. */
    readonly name = 'fisher',
  ) {
    let size = 1;
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new RangeError(`${name}: invalid parameter shape [${shape.join(', ')}]`);
      size *= d;
    }
    this.size = size;
    this.sumOfSquares = new Float64Array(size);
  }

  /** Number of examples accumulated so far. */
  get count(): number {
    return this.examples;
  }

  /** Adds per-example gradients [n, ...shape]. */
  add(gradients: FloatBatch): void {
    const n = countRows(gradients, this.size, `${this.name}: per-example gradients`);
    const sum = this.sumOfSquares;
    const size = this.size;
    for (let e = 0; e < n; e++) {
      const offset = e * size;
      for (let i = 0; i < size; i++) {
        const g = gradients[offset + i];
        sum[i] += g * g;
      }
    }
    this.examples += n;
  }

  /** The mean over examples, in the parameter's shape (flattened row-major). */
  mean(): Float64Array {
    if (this.examples === 0) throw new RangeError(`${this.name}: no examples were accumulated`);
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.sumOfSquares[i] / this.examples;
    return out;
  }
}
