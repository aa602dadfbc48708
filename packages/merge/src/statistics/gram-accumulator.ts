import type { Backend, Tensor } from '@mats/core';
import { countRows, type FloatBatch } from './float-batch.js';
import { defaultStatisticsBackend } from './statistics-backend.js';

/**
 * Accumulates the mean outer product of rows, (1/T) sum_t x_t x_t^T, over row-major batches
 * [T, dim]: a layer's input Gram A (x = its inputs a_t), its output-gradient Gram G
 * (x = g_t), or the full Fisher block of a small parameter (x = per-example gradients).
 * Batches may have any number of rows; adding in pieces equals adding all at once.
 */
export class GramAccumulator {
  private readonly sum: Tensor; // [dim, dim], sum_t x_t x_t^T
  private rows = 0;

  constructor(
    readonly dim: number,
    /** Names this accumulator in errors, e.g. `layers.0.weight::input_gram`. */
    readonly name = 'gram',
    private readonly backend: Backend = defaultStatisticsBackend(),
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`${name}: dimension must be a positive integer, got ${dim}`);
    this.sum = backend.zeros([dim, dim]);
  }

  /** Number of rows (tokens or examples) accumulated so far. */
  get count(): number {
    return this.rows;
  }

  /** Adds the rows of a batch: x [rows, dim], row-major. */
  add(batch: FloatBatch): void {
    const rows = countRows(batch, this.dim, `${this.name}: batch`);
    if (rows === 0) return;
    const x = this.backend.fromArray(batch, [rows, this.dim]);
    this.backend.gemm('T', 'N', 1, x, x, 1, this.sum); // sum += x^T x
    this.backend.dispose(x);
    this.rows += rows;
  }

  /** The mean [dim, dim], row-major, exactly symmetric. Throws when nothing was added. */
  mean(): Float64Array {
    if (this.rows === 0) throw new RangeError(`${this.name}: no rows were accumulated`);
    const sum = this.backend.toArray(this.sum);
    const n = this.dim;
    const out = new Float64Array(n * n);
    // Symmetrise: the kernel's summation order need not make (i, j) and (j, i) bitwise equal,
    // and statistics files are checked for symmetry before a merge.
    for (let i = 0; i < n; i++) {
      out[i * n + i] = sum[i * n + i] / this.rows;
      for (let j = i + 1; j < n; j++) {
        const value = (sum[i * n + j] + sum[j * n + i]) / 2 / this.rows;
        out[i * n + j] = value;
        out[j * n + i] = value;
      }
    }
    return out;
  }

  /** Releases the backend storage. */
  dispose(): void {
    this.backend.dispose(this.sum);
  }
}
