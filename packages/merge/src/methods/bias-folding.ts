/**
 * Bias folding (homogeneous coordinates): a linear layer y = W a + b is one block [W | b]
 * acting on [a; 1]. Its input Gram over [a; 1] is
 *
 *   A~ = [[A, m], [m^T, 1]],   m = (1/T) sum_t a_t  (the statistic `<weight>::input_mean`),
 *
 * so RegMean and the Gram and K-FAC subspaces merge W and b together, as one system
 * (C_i = I (x) A~_i or G_i (x) A~_i): RegMean then fits every task's outputs, bias included,
 * by least squares on its inputs (METHODS.md). The bias folded with weight `X.weight` is its
 * sibling `X.bias` (shape [out]). Statistics files without input_mean keep working: no folding.
 *
 * The pipeline hands the two tensors over one at a time (bias first in name order). The first
 * of the pair solves the folded system; the other's part is kept on the other's job (the very
 * object the pipeline will hand over: TensorJob.sibling) until the method is asked for it.
 */
import type { FloatArray, Precision } from '../safetensors/decode.js';
import type { PlannedTensorInfo, StatisticKind, TensorJob, TensorResult } from './method.js';
import { modelsLacking, selectSubspace, type SubspaceChoice } from './subspace.js';

/** The names of a weight and the bias folded with it, for either of the two names. */
export function foldedNames(name: string): { readonly weight: string; readonly bias: string } | undefined {
  const stem = (suffix: string) => name.slice(0, name.length - suffix.length);
  if (name === 'weight' || name.endsWith('.weight')) return { weight: name, bias: `${stem('weight')}bias` };
  if (name === 'bias' || name.endsWith('.bias')) return { weight: `${stem('bias')}weight`, bias: name };
  return undefined;
}

export interface FoldPair<T extends PlannedTensorInfo> {
  readonly weight: T; // [out, in]
  readonly bias: T; // [out]
}

/** Whether a tensor is folded with its sibling, or why not (a note only when it matters). */
export type FoldDecision<T extends PlannedTensorInfo> = { readonly pair: FoldPair<T> } | { readonly note?: string };

/**
 * The pair a tensor is merged in, when: both tensors are merged whole in this plan, W is
 * [out, in] and b [out], the weight's subspace (its own settings) is gram or kfac, and every
 * active model has the weight's input_mean. A pair whose input means only some models have
 * gets a note that says which models lack them.
 */
export function foldDecision<T extends PlannedTensorInfo>(tensor: T, subspaceOf: (name: string) => SubspaceChoice, models: readonly number[]): FoldDecision<T> {
  const names = foldedNames(tensor.name);
  if (names === undefined) return {};
  const weight = (names.weight === tensor.name ? tensor : tensor.sibling?.(names.weight)) as T | undefined;
  const bias = (names.bias === tensor.name ? tensor : tensor.sibling?.(names.bias)) as T | undefined;
  if (weight === undefined || bias === undefined) return {};
  if (weight.shape.length !== 2 || bias.shape.length !== 1 || bias.shape[0] !== weight.shape[0]) return {};
  const selection = selectSubspace(weight, subspaceOf(weight.name), models);
  if (!('subspace' in selection) || (selection.subspace !== 'gram' && selection.subspace !== 'kfac')) return {};
  const lacking = modelsLacking(weight, 'input_mean', models);
  if (lacking === undefined) return { pair: { weight, bias } };
  // Old statistics files have no input means at all: nothing to say.
  return lacking.startsWith('no model') ? {} : { note: `bias not folded: ${lacking} for ${weight.name}` };
}

/**
 * The folded block as a job of shape [out, in + 1]: model and base values [W | b], input Gram
 * [[A, m], [m^T, 1]], the weight's output-gradient Gram. Only what the Gram and K-FAC systems
 * read is offered (hasStatistic says so for anything else).
 */
export class FoldedJob implements TensorJob {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: TensorJob['dtype'];
  readonly index: number;
  readonly offset = 0;
  readonly length: number;
  readonly precision: Precision;
  readonly modelCount: number;
  readonly weights: readonly number[];
  readonly hasBase: boolean;
  private readonly out: number;
  private readonly inp: number;

  constructor(readonly pair: FoldPair<TensorJob>) {
    const { weight } = pair;
    [this.out, this.inp] = weight.shape;
    this.name = `${weight.name} + ${pair.bias.name}`;
    this.shape = [this.out, this.inp + 1];
    this.size = this.out * (this.inp + 1);
    this.length = this.size;
    this.dtype = weight.dtype;
    this.index = Math.min(weight.index, pair.bias.index);
    this.precision = weight.precision;
    this.modelCount = weight.modelCount;
    this.weights = weight.weights;
    this.hasBase = weight.hasBase;
  }

  async base(): Promise<FloatArray> {
    const [w, b] = await Promise.all([this.pair.weight.base(), this.pair.bias.base()]);
    return this.join([w, b]);
  }

  async model(i: number): Promise<FloatArray> {
    const [w, b] = await Promise.all([this.pair.weight.model(i), this.pair.bias.model(i)]);
    return this.join([w, b]);
  }

  hasStatistic(i: number, kind: StatisticKind): boolean {
    const weight = this.pair.weight;
    if (kind === 'input_gram') return weight.hasStatistic(i, 'input_gram') && weight.hasStatistic(i, 'input_mean');
    return kind === 'grad_gram' && weight.hasStatistic(i, 'grad_gram');
  }

  async statistic(i: number, kind: StatisticKind): Promise<FloatArray> {
    if (!this.hasStatistic(i, kind)) throw new Error(`tensor ${this.name}: model ${i} has no ${kind} for the folded block`);
    if (kind === 'grad_gram') return this.pair.weight.statistic(i, 'grad_gram');
    const [a, m] = await Promise.all([this.pair.weight.statistic(i, 'input_gram'), this.pair.weight.statistic(i, 'input_mean')]);
    return augmentedGram(a, m, this.inp);
  }

  /** [W | b] from W [out, in] and b [out]. */
  join([w, b]: readonly FloatArray[]): FloatArray {
    const { out, inp } = this;
    const x = this.precision === 'float64' ? new Float64Array(out * (inp + 1)) : new Float32Array(out * (inp + 1));
    for (let r = 0; r < out; r++) {
      x.set(w.subarray(r * inp, (r + 1) * inp), r * (inp + 1));
      x[r * (inp + 1) + inp] = b[r];
    }
    return x;
  }

  /** W [out, in] and b [out] from [W | b] [out, in + 1]. */
  split(x: FloatArray): { readonly weight: Float64Array; readonly bias: Float64Array } {
    const { out, inp } = this;
    const weight = new Float64Array(out * inp);
    const bias = new Float64Array(out);
    for (let r = 0; r < out; r++) {
      weight.set(x.subarray(r * (inp + 1), r * (inp + 1) + inp), r * inp);
      bias[r] = x[r * (inp + 1) + inp];
    }
    return { weight, bias };
  }
}

/** [[A, m], [m^T, 1]] [n + 1, n + 1] from A [n, n] and m [n]: the Gram of [a; 1]. */
export function augmentedGram(a: FloatArray, m: FloatArray, n: number): Float64Array {
  const k = n + 1;
  const out = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * k + j] = a[i * n + j];
    out[i * k + n] = m[i];
    out[n * k + i] = m[i];
  }
  out[n * k + n] = 1;
  return out;
}

/**
 * Results computed for a job before the pipeline reached it (the second tensor of a folded
 * pair), per method binding (`owner`: its parameters object). Held by the job object itself, so
 * nothing outlives the merge.
 */
const early = new WeakMap<TensorJob, Map<object, TensorResult>>();

export function keepEarlyResult(job: TensorJob, owner: object, result: TensorResult): void {
  let byOwner = early.get(job);
  if (byOwner === undefined) early.set(job, (byOwner = new Map()));
  byOwner.set(owner, result);
}

/** The result kept for this job and owner, removed as it is taken. */
export function takeEarlyResult(job: TensorJob, owner: object): TensorResult | undefined {
  const byOwner = early.get(job);
  const result = byOwner?.get(owner);
  if (result !== undefined) byOwner!.delete(owner);
  return result;
}
