/**
 * Random small merge problems with statistics, for the task-subspace methods, and plain float64
 * references of what they compute (METHODS.md), written here from the formulas: dense matrices
 * and core's reference Cholesky solve, nothing from the code under test.
 */
import fc from 'fast-check';
import { randomSpd, referenceKronecker, referenceMatmul, referenceMatVec, referenceSpdSolve } from '@mats/core/testing';
import { randomValues, type Fixture } from './fixtures.js';

export interface ProblemSpec {
  readonly seed: number;
  readonly models: number;
  readonly out: number;
  readonly inp: number;
  readonly weights: readonly number[];
}

/** Model i's tensors and statistics, as float64 arrays. */
export interface TaskData {
  readonly weight: Float64Array; // [out, inp]
  readonly bias: Float64Array; // [out]
  readonly fisherWeight: Float64Array; // [out, inp]
  readonly fisherBias: Float64Array; // [out]
  readonly inputGram: Float64Array; // [inp, inp]
  readonly gradGram: Float64Array; // [out, out]
  readonly fisherBlock: Float64Array; // [out, out]
}

export interface Problem extends ProblemSpec {
  readonly base: TaskData;
  readonly tasks: readonly TaskData[];
}

export const specArb: fc.Arbitrary<ProblemSpec> = fc.integer({ min: 1, max: 3 }).chain((models) =>
  fc.record({
    seed: fc.integer({ min: 1, max: 1e6 }),
    models: fc.constant(models),
    out: fc.integer({ min: 1, max: 4 }),
    inp: fc.integer({ min: 1, max: 4 }),
    weights: fc.array(fc.constantFrom(1, 0.5, 2), { minLength: models, maxLength: models }),
  }),
);

/** Positive, float32-exact, spread over a decade: Fishers of distinct scale per entry. */
function positive(n: number, seed: number): Float64Array {
  return Float64Array.from(randomValues(n, seed), (v) => Math.fround(0.1 + (v + 1) * 2));
}

function task(spec: ProblemSpec, k: number): TaskData {
  const s = spec.seed * 100 + k * 10;
  const { out, inp } = spec;
  return {
    weight: Float64Array.from(randomValues(out * inp, s)),
    bias: Float64Array.from(randomValues(out, s + 1)),
    fisherWeight: positive(out * inp, s + 2),
    fisherBias: positive(out, s + 3),
    inputGram: randomSpd(inp, s + 4, 0.3),
    gradGram: randomSpd(out, s + 5, 0.3),
    fisherBlock: randomSpd(out, s + 6, 0.3),
  };
}

export function makeProblem(spec: ProblemSpec): Problem {
  return { ...spec, base: task(spec, 0), tasks: Array.from({ length: spec.models }, (_, i) => task(spec, i + 1)) };
}

/** The same problem with every model equal to the first (statistics unchanged). */
export function identicalModels(p: Problem): Problem {
  return { ...p, tasks: p.tasks.map((t) => ({ ...t, weight: p.tasks[0].weight, bias: p.tasks[0].bias })) };
}

export type StatisticName = 'fisher' | 'input_gram' | 'grad_gram' | 'fisher_block';

export function modelFixture(t: TaskData, out: number, inp: number): Fixture {
  return {
    'layer.weight': { dtype: 'F32', shape: [out, inp], data: Float32Array.from(t.weight) },
    'layer.bias': { dtype: 'F32', shape: [out], data: Float32Array.from(t.bias) },
  };
}

/** A statistics file with the given kinds (fisher covers both tensors, fisher_block the bias). */
export function statsFixture(t: TaskData, out: number, inp: number, kinds: readonly StatisticName[]): Fixture {
  const f: Fixture = {};
  if (kinds.includes('fisher')) {
    f['layer.weight::fisher'] = { dtype: 'F64', shape: [out, inp], data: t.fisherWeight };
    f['layer.bias::fisher'] = { dtype: 'F64', shape: [out], data: t.fisherBias };
  }
  if (kinds.includes('input_gram')) f['layer.weight::input_gram'] = { dtype: 'F64', shape: [inp, inp], data: t.inputGram };
  if (kinds.includes('grad_gram')) f['layer.weight::grad_gram'] = { dtype: 'F64', shape: [out, out], data: t.gradGram };
  if (kinds.includes('fisher_block')) f['layer.bias::fisher_block'] = { dtype: 'F64', shape: [out, out], data: t.fisherBlock };
  return f;
}

/** Inputs of mergeInMemory for a problem: base, models, weights and statistics files. */
export function harnessInputs(p: Problem, kinds: readonly StatisticName[] | ((i: number) => readonly StatisticName[])) {
  const kindsOf = typeof kinds === 'function' ? kinds : () => kinds;
  return {
    base: modelFixture(p.base, p.out, p.inp),
    models: p.tasks.map((t) => modelFixture(t, p.out, p.inp)),
    weights: p.weights,
    stats: p.tasks.map((t, i) => statsFixture(t, p.out, p.inp, kindsOf(i))),
    precision: 'float64' as const,
  };
}

// ---- references (float64, plain loops) ----

const sumOver = (n: number, p: Problem, term: (t: TaskData, w: number) => ArrayLike<number>): Float64Array => {
  const s = new Float64Array(n);
  p.tasks.forEach((t, i) => {
    const v = term(t, p.weights[i]);
    for (let j = 0; j < n; j++) s[j] += v[j];
  });
  return s;
};

export function referenceAverage(p: Problem, pick: (t: TaskData) => Float64Array): Float64Array {
  const total = p.weights.reduce((a, b) => a + b, 0);
  return sumOver(pick(p.tasks[0]).length, p, (t, w) => pick(t).map((v) => (w * v) / total));
}

/** sum_i w_i max(F_i, floor) theta_i / sum_i w_i max(F_i, floor) */
export function referenceFisher(p: Problem, pick: (t: TaskData) => Float64Array, fisherOf: (t: TaskData) => Float64Array, floor = 1e-8): Float64Array {
  const n = pick(p.tasks[0]).length;
  const f = (t: TaskData) => fisherOf(t).map((v) => Math.max(v, floor));
  const num = sumOver(n, p, (t, w) => pick(t).map((v, j) => w * f(t)[j] * v));
  const den = sumOver(n, p, (t, w) => f(t).map((v) => w * v));
  return num.map((v, j) => v / den[j]);
}

/** s M + (1 - s) Diag(M) */
export function shrunk(m: Float64Array, n: number, s: number): Float64Array {
  return m.map((v, k) => (k % (n + 1) === 0 ? v : s * v));
}

/** W = (sum_i w_i W_i A_i)(sum_i w_i A_i)^-1, row by row: (sum A) w_r = b_r (A symmetric). */
export function referenceRegmean(p: Problem, shrink = 1): Float64Array {
  const { out, inp } = p;
  const a = (t: TaskData) => shrunk(t.inputGram, inp, shrink);
  const sumA = sumOver(inp * inp, p, (t, w) => a(t).map((v) => w * v));
  const rhs = sumOver(out * inp, p, (t, w) => referenceMatmul(t.weight, a(t), out, inp, inp).map((v) => w * v));
  const result = new Float64Array(out * inp);
  for (let r = 0; r < out; r++) result.set(referenceSpdSolve(sumA, rhs.subarray(r * inp, (r + 1) * inp), inp), r * inp);
  return result;
}

/**
 * How a reference factor is damped: F_i -> F_i / (tr F_i / n) if normalize, then
 * + (relative tr(F_i) / n + shared mean_j tr(F_j) / n + absolute) I.
 */
export interface ReferenceDamping {
  readonly relative?: number;
  readonly absolute?: number;
  readonly shared?: number;
  readonly normalize?: boolean;
}

const traceOf = (m: Float64Array, n: number) => Array.from({ length: n }, (_, i) => m[i * (n + 1)]).reduce((a, b) => a + b, 0);

/** The formula of a damped factor, written out: normalise, then add the shift to the diagonal. */
export function dampedFactor(m: Float64Array, n: number, d: ReferenceDamping = {}, tasksMean = 0): Float64Array {
  const trace = traceOf(m, n);
  const normalized = d.normalize && trace > 0 ? m.map((v) => (v * n) / trace) : m;
  const shift = (d.relative ?? 0) * (d.normalize && trace > 0 ? 1 : trace / n) + (d.shared ?? 0) * tasksMean + (d.absolute ?? 0);
  return normalized.map((v, k) => (k % (n + 1) === 0 ? v + shift : v));
}

/** mean_j tr(F_j) / n over the tasks' factors (1 each when normalised). */
function tasksMean(factors: readonly Float64Array[], n: number, normalize = false): number {
  return factors.reduce((s, m) => s + (normalize && traceOf(m, n) > 0 ? 1 : traceOf(m, n) / n), 0) / factors.length;
}

/** The dense solve of (sum_i w_i G_i (x) A_i) vec(W) = sum_i w_i vec(G_i W_i A_i), factors shrunk then damped. */
export function referenceKfac(p: Problem, shrink = 1, damping: { readonly grad?: ReferenceDamping; readonly input?: ReferenceDamping } = {}): Float64Array {
  const { out, inp } = p;
  const n = out * inp;
  const gMean = tasksMean(p.tasks.map((t) => t.gradGram), out, damping.grad?.normalize);
  const aMean = tasksMean(p.tasks.map((t) => t.inputGram), inp);
  const g = (t: TaskData) => dampedFactor(shrunk(t.gradGram, out, shrink), out, damping.grad, gMean);
  const a = (t: TaskData) => dampedFactor(shrunk(t.inputGram, inp, shrink), inp, damping.input, aMean);
  const system = sumOver(n * n, p, (t, w) => referenceKronecker(g(t), a(t), out, inp).map((v) => w * v));
  const rhs = sumOver(n, p, (t, w) => referenceMatVec(referenceKronecker(g(t), a(t), out, inp), t.weight, n).map((v) => w * v));
  return referenceSpdSolve(system, rhs, n);
}

/** The dense solve of (sum_i w_i F_i) b = sum_i w_i F_i b_i for the bias's Fisher blocks. */
export function referenceBlock(p: Problem): Float64Array {
  const { out } = p;
  const system = sumOver(out * out, p, (t, w) => t.fisherBlock.map((v) => w * v));
  const rhs = sumOver(out, p, (t, w) => referenceMatVec(t.fisherBlock, t.bias, out).map((v) => w * v));
  return referenceSpdSolve(system, rhs, out);
}

/** |actual - expected| <= tolerance * max(1, max |expected|), elementwise, with a readable failure. */
export function closeTo(actual: ArrayLike<number> | undefined, expected: ArrayLike<number>, tolerance: number): boolean {
  if (actual === undefined || actual.length !== expected.length) return false;
  let scale = 1;
  for (let j = 0; j < expected.length; j++) scale = Math.max(scale, Math.abs(expected[j]));
  for (let j = 0; j < expected.length; j++) if (!(Math.abs(actual[j] - expected[j]) <= tolerance * scale)) return false;
  return true;
}
