import type { Backend, Tensor } from '@mats/core';
import { DiagonalFisherAccumulator } from './diagonal-fisher-accumulator.js';
import { countRows, type FloatBatch } from './float-batch.js';
import { GramAccumulator } from './gram-accumulator.js';
import type { NamedStatistic, StatisticsSource } from './named-statistic.js';
import { statisticKey } from './statistic-keys.js';
import { defaultStatisticsBackend } from './statistics-backend.js';

export interface LinearLayerStatisticsOptions {
  /** Name of the weight W [out, in] in the checkpoint, e.g. `layers.0.weight`. */
  readonly weight: string;
  /** Name of the bias b [out], when the layer has one. */
  readonly bias?: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Diagonal Fisher of W (and of b). Default true. */
  readonly fisher?: boolean;
  /** K-FAC factors: input Gram A [in, in] and output-gradient Gram G [out, out]. Default true. */
  readonly kfac?: boolean;
  /** Full Fisher block [out, out] of the bias. Default true when there is a bias. */
  readonly biasBlock?: boolean;
  /**
   * Mean input m = (1/T) sum_t a_t [in] (`<weight>::input_mean`), over the same tokens as A, so
   * that a merge can fold the bias into the weight ([W | b] over [a; 1]). Default true when
   * there is a bias and the K-FAC factors are estimated.
   */
  readonly inputMean?: boolean;
  /** Where the sums accumulate; a float64 CPU backend by default. */
  readonly backend?: Backend;
}

/**
 * Every statistic of one linear layer y_t = W a_t + b, estimated from what any framework can
 * hand over: per-token layer inputs a_t [in] and output gradients g_t = d log p / d y_t [out]
 * (a forward hook and a backward hook in PyTorch). DESIGN.md §3 conventions:
 *
 * - input Gram     A = (1/T) sum_t a_t a_t^T                      [in, in]
 * - gradient Gram  G = (1/T) sum_t g_t g_t^T                      [out, out]
 *   so that G W A approximates the Fisher of W (K-FAC, Martens and Grosse 2015);
 * - diagonal Fisher of W: (1/N) sum_n (dW_n)^2, elementwise, with the per-example gradient
 *   dW_n = sum_{t in n} g_t a_t^T [out, in]. It is not diag(G) diag(A)^T: K-FAC's
 *   factorisation is an approximation, this is the exact diagonal;
 * - bias: db_n = sum_{t in n} g_t, Fisher (1/N) sum_n db_n^2, block (1/N) sum_n db_n db_n^T;
 * - input mean     m = (1/T) sum_t a_t                             [in]
 *   so that [[A, m], [m^T, 1]] is the input Gram of [a; 1] (bias folding).
 *
 * T counts tokens (rows), N examples. With one row per example (an MLP on images) T = N and
 * the weight's diagonal Fisher is one product: (1/N) (g .* g)^T (a .* a).
 */
export class LinearLayerStatistics implements StatisticsSource {
  readonly weight: string;
  readonly bias: string | undefined;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly backend: Backend;
  private readonly inputGram: GramAccumulator | undefined;
  private readonly gradGram: GramAccumulator | undefined;
  private readonly weightFisherSum: Tensor | undefined; // [out, in], sum_n (dW_n)^2
  private readonly biasFisher: DiagonalFisherAccumulator | undefined;
  private readonly biasBlock: GramAccumulator | undefined;
  private readonly inputSum: Float64Array | undefined; // [in], sum_t a_t
  private exampleCount = 0;
  private tokenCount = 0;

  constructor(options: LinearLayerStatisticsOptions) {
    const { weight, bias, inFeatures, outFeatures } = options;
    for (const [label, value] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${weight}: ${label} must be a positive integer, got ${value}`);
    }
    this.weight = weight;
    this.bias = bias;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.backend = options.backend ?? defaultStatisticsBackend();
    const fisher = options.fisher ?? true;
    if (options.kfac ?? true) {
      this.inputGram = new GramAccumulator(inFeatures, statisticKey(weight, 'input_gram'), this.backend);
      this.gradGram = new GramAccumulator(outFeatures, statisticKey(weight, 'grad_gram'), this.backend);
    }
    if (fisher) this.weightFisherSum = this.backend.zeros([outFeatures, inFeatures]);
    if (bias !== undefined) {
      if (fisher) this.biasFisher = new DiagonalFisherAccumulator([outFeatures], statisticKey(bias, 'fisher'));
      if (options.biasBlock ?? true) this.biasBlock = new GramAccumulator(outFeatures, statisticKey(bias, 'fisher_block'), this.backend);
    }
    if (options.inputMean ?? (bias !== undefined && this.inputGram !== undefined)) this.inputSum = new Float64Array(inFeatures);
  }

  get examples(): number {
    return this.exampleCount;
  }

  get tokens(): number {
    return this.tokenCount;
  }

  /**
   * Adds a batch: inputs [T, in] and outputGradients [T, out], row t of both from the same
   * token. tokensPerExample splits the T rows into consecutive examples (a sequence model's
   * tokens, padding already removed); without it every row is its own example.
   */
  add(inputs: FloatBatch, outputGradients: FloatBatch, tokensPerExample?: ArrayLike<number>): void {
    const rows = countRows(inputs, this.inFeatures, `${this.weight}: inputs`);
    const gradRows = countRows(outputGradients, this.outFeatures, `${this.weight}: output gradients`);
    if (rows !== gradRows) {
      throw new RangeError(`${this.weight}: ${rows} rows of inputs [T, ${this.inFeatures}] but ${gradRows} rows of output gradients [T, ${this.outFeatures}]`);
    }
    const segments = tokensPerExample === undefined ? undefined : checkSegments(tokensPerExample, rows, this.weight);
    if (rows === 0) return;
    const examples = segments === undefined ? rows : segments.length;

    this.inputGram?.add(inputs);
    this.gradGram?.add(outputGradients);
    if (this.inputSum !== undefined) addRows(this.inputSum, inputs, rows);
    if (this.weightFisherSum !== undefined) {
      if (segments === undefined) this.addSingleTokenWeightFisher(inputs, outputGradients, rows);
      else this.addSegmentedWeightFisher(inputs, outputGradients, segments);
    }
    if (this.biasFisher !== undefined || this.biasBlock !== undefined) {
      const biasGradients = segments === undefined ? outputGradients : sumSegments(outputGradients, this.outFeatures, segments);
      this.biasFisher?.add(biasGradients);
      this.biasBlock?.add(biasGradients);
    }
    this.exampleCount += examples;
    this.tokenCount += rows;
  }

  statistics(): NamedStatistic[] {
    if (this.exampleCount === 0) throw new RangeError(`${this.weight}: no examples were added`);
    const out: NamedStatistic[] = [];
    const { weight, bias, inFeatures: n, outFeatures: m } = this;
    if (this.weightFisherSum !== undefined) {
      const data = Float64Array.from(this.backend.toArray(this.weightFisherSum), (v) => v / this.exampleCount);
      out.push(entry(weight, 'fisher', [m, n], data));
    }
    if (this.inputGram !== undefined) out.push(entry(weight, 'input_gram', [n, n], this.inputGram.mean()));
    if (this.gradGram !== undefined) out.push(entry(weight, 'grad_gram', [m, m], this.gradGram.mean()));
    if (this.inputSum !== undefined) out.push(entry(weight, 'input_mean', [n], Float64Array.from(this.inputSum, (v) => v / this.tokenCount)));
    if (bias !== undefined) {
      if (this.biasFisher !== undefined) out.push(entry(bias, 'fisher', [m], this.biasFisher.mean()));
      if (this.biasBlock !== undefined) out.push(entry(bias, 'fisher_block', [m, m], this.biasBlock.mean()));
    }
    return out;
  }

  /** Releases backend storage. */
  dispose(): void {
    this.inputGram?.dispose();
    this.gradGram?.dispose();
    this.biasBlock?.dispose();
    if (this.weightFisherSum !== undefined) this.backend.dispose(this.weightFisherSum);
  }

  /** One token per example: sum_n (g_n a_n^T)^2 = (g .* g)^T (a .* a), one gemm. */
  private addSingleTokenWeightFisher(inputs: FloatBatch, outputGradients: FloatBatch, rows: number): void {
    const b = this.backend;
    const a2 = b.fromArray(squares(inputs), [rows, this.inFeatures]);
    const g2 = b.fromArray(squares(outputGradients), [rows, this.outFeatures]);
    b.gemm('T', 'N', 1, g2, a2, 1, this.weightFisherSum!);
    b.dispose(a2);
    b.dispose(g2);
  }

  /** Several tokens per example: dW_n = g_n^T a_n (one gemm per example), then square. */
  private addSegmentedWeightFisher(inputs: FloatBatch, outputGradients: FloatBatch, segments: Int32Array): void {
    const b = this.backend;
    const { inFeatures: n, outFeatures: m } = this;
    const perExample = b.zeros([m, n]);
    let row = 0;
    for (const length of segments) {
      const a = b.fromArray(inputs.subarray(row * n, (row + length) * n), [length, n]);
      const g = b.fromArray(outputGradients.subarray(row * m, (row + length) * m), [length, m]);
      b.gemm('T', 'N', 1, g, a, 0, perExample);
      b.mul(perExample, perExample, perExample);
      b.axpy(1, perExample, this.weightFisherSum!);
      b.dispose(a);
      b.dispose(g);
      row += length;
    }
    b.dispose(perExample);
  }
}

function entry(parameter: string, kind: NamedStatistic['kind'], shape: number[], data: Float64Array): NamedStatistic {
  return { key: statisticKey(parameter, kind), parameter, kind, shape, data };
}

/** sum[j] += x[t, j] over the rows t of x [rows, sum.length]. */
function addRows(sum: Float64Array, x: FloatBatch, rows: number): void {
  const n = sum.length;
  for (let t = 0; t < rows; t++) for (let j = 0; j < n; j++) sum[j] += x[t * n + j];
}

function squares(x: FloatBatch): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * x[i];
  return out;
}

function checkSegments(tokensPerExample: ArrayLike<number>, rows: number, name: string): Int32Array {
  const segments = new Int32Array(tokensPerExample.length);
  let total = 0;
  for (let i = 0; i < tokensPerExample.length; i++) {
    const length = tokensPerExample[i];
    if (!Number.isInteger(length) || length <= 0) {
      throw new RangeError(`${name}: tokensPerExample[${i}] = ${length}; every example needs a positive whole number of tokens`);
    }
    segments[i] = length;
    total += length;
  }
  if (total !== rows) throw new RangeError(`${name}: tokensPerExample adds up to ${total} tokens but the batch has ${rows} rows`);
  return segments;
}

/** Per-example sums of consecutive rows: [T, width] -> [examples, width]. */
function sumSegments(rows: FloatBatch, width: number, segments: Int32Array): Float64Array {
  const out = new Float64Array(segments.length * width);
  let row = 0;
  for (let e = 0; e < segments.length; e++) {
    for (let t = 0; t < segments[e]; t++, row++) {
      for (let j = 0; j < width; j++) out[e * width + j] += rows[row * width + j];
    }
  }
  return out;
}
