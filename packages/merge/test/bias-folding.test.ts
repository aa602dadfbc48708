/**
 * Bias folding (METHODS.md): with input means in the statistics (estimated here by the real
 * accumulators from raw layer inputs), a weight and its bias are merged as one block [W | b]
 * over [a; 1]. RegMean then IS the least-squares fit of every task's outputs on its inputs,
 * bias included: checked against a Householder QR least-squares solve of the raw data.
 */
import { referenceKronecker, referenceMatVec, referenceSpdSolve } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { LinearLayerStatistics } from '../src/statistics/linear-layer-statistics.js';
import type { TensorReport } from '../src/methods/method.js';
import type { MergeEvent } from '../src/pipeline/run.js';
import type { Fixture } from './fixtures.js';
import { randomValues } from './fixtures.js';
import { mergeInMemory, type HarnessResult } from './merge-harness.js';
import { closeTo, referenceAverage, referenceRegmean, type Problem, type TaskData } from './subspace-fixtures.js';

const OUT = 3;
const IN = 4;

interface Task {
  readonly weight: Float64Array; // [OUT, IN]
  readonly bias: Float64Array; // [OUT]
  readonly inputs: Float64Array; // [T, IN]
  readonly grads: Float64Array; // [T, OUT]
  readonly tokens: number;
  readonly modelWeight: number;
}

/** Task k: its own weight and bias, and inputs with a mean far from 0 (a bias matters). */
function task(k: number, tokens: number, modelWeight = 1): Task {
  const inputs = Float64Array.from(randomValues(tokens * IN, 1000 + k), (v, j) => v + 0.5 * ((j % IN) - 1) + 0.3 * k);
  return {
    weight: Float64Array.from(randomValues(OUT * IN, 2000 + k)),
    bias: Float64Array.from(randomValues(OUT, 3000 + k), (v) => 2 * v),
    inputs,
    grads: Float64Array.from(randomValues(tokens * OUT, 4000 + k)),
    tokens,
    modelWeight,
  };
}

/** The statistics file the accumulators write for a task (input_mean included unless dropped). */
function statsOf(t: Task, drop: readonly string[] = []): Fixture {
  const layer = new LinearLayerStatistics({ weight: 'layer.weight', bias: 'layer.bias', inFeatures: IN, outFeatures: OUT });
  layer.add(t.inputs, t.grads);
  const f: Fixture = {};
  for (const s of layer.statistics()) if (!drop.includes(s.kind)) f[s.key] = { dtype: 'F64', shape: [...s.shape], data: s.data };
  return f;
}

const modelOf = (t: { weight: Float64Array; bias: Float64Array }): Fixture => ({
  'layer.weight': { dtype: 'F64', shape: [OUT, IN], data: t.weight },
  'layer.bias': { dtype: 'F64', shape: [OUT], data: t.bias },
});

function merge(method: string, parameters: Record<string, unknown>, tasks: readonly Task[], stats = tasks.map((t) => statsOf(t))): Promise<HarnessResult> {
  return mergeInMemory({
    method,
    parameters,
    base: modelOf({ weight: new Float64Array(OUT * IN), bias: new Float64Array(OUT) }),
    models: tasks.map(modelOf),
    weights: tasks.map((t) => t.modelWeight),
    stats,
    precision: 'float64',
  });
}

const reportOf = (r: HarnessResult, name: string): TensorReport | undefined =>
  r.events.find((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor' && e.name === name)?.report;

/**
 * min over [W | b] of sum_i (w_i / T_i) sum_t ||W x_t + b - (W_i x_t + b_i)||^2, by Householder
 * QR of the stacked rows sqrt(w_i / T_i) [x_t, 1], one least-squares problem per output row.
 */
function leastSquaresFit(tasks: readonly Task[]): { weight: Float64Array; bias: Float64Array } {
  const k = IN + 1;
  const rows: number[][] = [];
  const targets: number[][] = [];
  for (const t of tasks) {
    const s = Math.sqrt(t.modelWeight / t.tokens);
    for (let r = 0; r < t.tokens; r++) {
      const x = Array.from(t.inputs.subarray(r * IN, (r + 1) * IN));
      rows.push([...x, 1].map((v) => s * v));
      targets.push(Array.from({ length: OUT }, (_, o) => s * (x.reduce((acc, v, j) => acc + t.weight[o * IN + j] * v, 0) + t.bias[o])));
    }
  }
  const solution = householderLeastSquares(rows, targets, k, OUT);
  const weight = new Float64Array(OUT * IN);
  const bias = new Float64Array(OUT);
  for (let o = 0; o < OUT; o++) {
    for (let j = 0; j < IN; j++) weight[o * IN + j] = solution[j][o];
    bias[o] = solution[IN][o];
  }
  return { weight, bias };
}

/** Solves min ||A X - B|| for A [m, k] (full column rank), B [m, c] by Householder QR; X [k][c]. */
function householderLeastSquares(a: number[][], b: number[][], k: number, c: number): number[][] {
  const m = a.length;
  const r = a.map((row) => [...row]);
  const y = b.map((row) => [...row]);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += r[i][j] ** 2;
    norm = Math.sqrt(norm);
    const alpha = r[j][j] > 0 ? -norm : norm;
    const v = Array.from({ length: m }, (_, i) => (i < j ? 0 : r[i][j]));
    v[j] -= alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    if (vv === 0) continue;
    const reflect = (col: (i: number) => number, set: (i: number, value: number) => void) => {
      let d = 0;
      for (let i = j; i < m; i++) d += v[i] * col(i);
      for (let i = j; i < m; i++) set(i, col(i) - (2 * d * v[i]) / vv);
    };
    for (let q = j; q < k; q++) reflect((i) => r[i][q], (i, value) => (r[i][q] = value));
    for (let q = 0; q < c; q++) reflect((i) => y[i][q], (i, value) => (y[i][q] = value));
  }
  const x = Array.from({ length: k }, () => new Array<number>(c).fill(0));
  for (let q = 0; q < c; q++) {
    for (let j = k - 1; j >= 0; j--) {
      let s = y[j][q];
      for (let p = j + 1; p < k; p++) s -= r[j][p] * x[p][q];
      x[j][q] = s / r[j][j];
    }
  }
  return x;
}

/** The folded problem as the subspace fixtures describe one: weight [W | b], input Gram of [a; 1]. */
function foldedProblem(tasks: readonly Task[]): Problem {
  const data = (t: Task): TaskData => {
    const stats = statsOf(t);
    const a = stats['layer.weight::input_gram'].data as Float64Array;
    const mean = stats['layer.weight::input_mean'].data as Float64Array;
    const k = IN + 1;
    const augmented = new Float64Array(k * k);
    for (let i = 0; i < IN; i++) {
      for (let j = 0; j < IN; j++) augmented[i * k + j] = a[i * IN + j];
      augmented[i * k + IN] = augmented[IN * k + i] = mean[i];
    }
    augmented[k * k - 1] = 1;
    const weight = new Float64Array(OUT * k);
    for (let o = 0; o < OUT; o++) {
      weight.set(t.weight.subarray(o * IN, (o + 1) * IN), o * k);
      weight[o * k + IN] = t.bias[o];
    }
    const empty = new Float64Array(0);
    return { weight, bias: empty, fisherWeight: empty, fisherBias: empty, inputGram: augmented, gradGram: stats['layer.weight::grad_gram'].data as Float64Array, fisherBlock: empty };
  };
  const folded = tasks.map(data);
  return { seed: 0, models: tasks.length, out: OUT, inp: IN + 1, weights: tasks.map((t) => t.modelWeight), base: folded[0], tasks: folded };
}

/** [W | b] of a merge, flattened as the folded problem's weight. */
function joined(r: HarnessResult): Float64Array {
  const w = r.tensors.get('layer.weight')!;
  const b = r.tensors.get('layer.bias')!;
  const k = IN + 1;
  const out = new Float64Array(OUT * k);
  for (let o = 0; o < OUT; o++) {
    out.set(w.subarray(o * IN, (o + 1) * IN), o * k);
    out[o * k + IN] = b[o];
  }
  return out;
}

describe('bias folding', () => {
  const tasks = [task(1, 9), task(2, 14, 2), task(3, 11, 0.5)];

  it('RegMean with folding equals the dense least-squares fit of every task\'s outputs on its inputs', async () => {
    const r = await merge('regmean', {}, tasks);
    const fit = leastSquaresFit(tasks);
    expect(closeTo(r.tensors.get('layer.weight'), fit.weight, 1e-9)).toBe(true);
    expect(closeTo(r.tensors.get('layer.bias'), fit.bias, 1e-9)).toBe(true);
    expect(reportOf(r, 'layer.weight')?.details?.bias_folding).toBe('[layer.weight | layer.bias] over [a; 1]');
    expect(reportOf(r, 'layer.bias')?.details?.bias_folding).toBe('[layer.weight | layer.bias] over [a; 1]: solved with layer.weight');
    // Without folding the bias is averaged and the weight is plain RegMean: a different, worse fit.
    const unfolded = await merge('regmean', { fold_bias: false }, tasks);
    expect(closeTo(unfolded.tensors.get('layer.bias'), referenceAverage({ ...foldedProblem(tasks), tasks: tasks.map((t) => ({ bias: t.bias }) as TaskData) }, (t) => t.bias), 1e-12)).toBe(true);
    expect(closeTo(unfolded.tensors.get('layer.bias'), fit.bias, 1e-3)).toBe(false);
  });

  it('mats gram and kfac, converged, solve the folded systems I (x) A~_i and G_i (x) A~_i', async () => {
    const p = foldedProblem(tasks);
    const converged = { rtol: 1e-13, iterations: 1000, init: 'zeros' };
    const gram = await merge('mats', { subspace: 'gram', ...converged }, tasks);
    expect(closeTo(joined(gram), referenceRegmean(p), 1e-9)).toBe(true);
    for (const grad_damping of [0, 1]) {
      const kfac = await merge('mats', { subspace: 'kfac', grad_damping, ...converged }, tasks);
      const n = OUT * (IN + 1);
      const g = (t: TaskData) => t.gradGram.map((v, k) => (k % (OUT + 1) === 0 ? v + (grad_damping * Array.from({ length: OUT }, (_, i) => t.gradGram[i * (OUT + 1)]).reduce((a, b) => a + b, 0)) / OUT : v));
      const system = new Float64Array(n * n);
      const rhs = new Float64Array(n);
      p.tasks.forEach((t, i) => {
        const c = referenceKronecker(g(t), t.inputGram, OUT, IN + 1);
        const ct = referenceMatVec(c, t.weight, n);
        for (let j = 0; j < n * n; j++) system[j] += p.weights[i] * c[j];
        for (let j = 0; j < n; j++) rhs[j] += p.weights[i] * ct[j];
      });
      expect(closeTo(joined(kfac), referenceSpdSolve(system, rhs, n), 1e-9)).toBe(true);
      expect(reportOf(kfac, 'layer.weight')).toMatchObject({ status: 'converged', details: { subspace: 'kfac', bias_folding: '[layer.weight | layer.bias] over [a; 1]' } });
    }
  });

  it('files without input means keep working (no folding); a pair whose means only some models have is not folded, and the report says which', async () => {
    const old = await merge('regmean', {}, tasks, tasks.map((t) => statsOf(t, ['input_mean'])));
    const plain: Problem = { ...foldedProblem(tasks), inp: IN, tasks: tasks.map((t) => ({ weight: t.weight, inputGram: statsOf(t)['layer.weight::input_gram'].data as Float64Array }) as TaskData) };
    expect(closeTo(old.tensors.get('layer.weight'), referenceRegmean(plain), 1e-9)).toBe(true);
    expect(reportOf(old, 'layer.bias')?.details?.bias_folding).toBeUndefined();
    const mixed = await merge('regmean', {}, tasks, tasks.map((t, i) => statsOf(t, i === 1 ? ['input_mean'] : [])));
    expect(closeTo(mixed.tensors.get('layer.weight'), referenceRegmean(plain), 1e-9)).toBe(true);
    expect(reportOf(mixed, 'layer.bias')?.details?.bias_folding).toBe('bias not folded: models[1] has no input_mean for layer.weight');
  });

  it('a wrong input_mean is caught before anything is written: its shape, and a non-finite entry', async () => {
    const stats = tasks.map((t) => statsOf(t));
    stats[0]['layer.weight::input_mean'] = { dtype: 'F64', shape: [IN + 1], data: new Float64Array(IN + 1) };
    stats[2]['layer.weight::input_mean'] = { dtype: 'F64', shape: [IN], data: Float64Array.from([0, -1, NaN, 2]) };
    await expect(merge('regmean', {}, tasks, stats)).rejects.toThrow(/wrong shapes \(1\): layer\.weight::input_mean \[5\], expected \[4\][\s\S]*non-finite values \(1\): layer\.weight::input_mean NaN at \[2\]/);
  });
});
