/**
 * The PyTorch estimator (examples/torch/mats_statistics.py) agrees with the TypeScript one
 * (examples/src/zoo/estimate-statistics.ts on @mats/merge's accumulators): the demo's MLP with
 * the same weights and the same data, statistics estimated on both sides, every key compared.
 * Also runs the estimator's own Python tests (against one-example-at-a-time autograd).
 * Needs a Python with torch (torch-python.ts); skipped, saying so, where there is none.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend, type CpuTensor } from '@mats/backend-cpu';
import { randomArray } from '@mats/core/testing';
import { SafetensorsFile, SeededRandom, writeSafetensorsFile, writeStatisticsFile, type TensorData } from '@mats/merge';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LabelledImages } from '../src/data/labelled-images.js';
import { Mlp } from '../src/mlp/mlp.js';
import { forward } from '../src/mlp/forward-backward.js';
import { weightName } from '../src/mlp/mlp.js';
import { estimateStatistics } from '../src/zoo/estimate-statistics.js';
import { describeWithTorch, runPython } from './torch-python.js';

const SIZES = [12, 9, 7, 4]; // inputs, two hidden layers, classes
const EXAMPLES = 45;

interface StatisticsFile {
  readonly tensors: Map<string, { shape: readonly number[]; data: Float64Array }>;
  readonly metadata: Readonly<Record<string, string>>;
}

async function readStatistics(path: string): Promise<StatisticsFile> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, { shape: readonly number[]; data: Float64Array }>();
    for (const t of file.tensors) tensors.set(t.name, { shape: t.shape, data: (await file.readFloats(t.name, 'float64')) as Float64Array });
    return { tensors, metadata: file.metadata };
  } finally {
    await file.close();
  }
}

/**
 * Every key of both files, same shapes, and |py - ts| <= rtol * max |ts| per tensor, with a floor
 * of rtol times the largest entry of any statistic (entries that are 0 by structure are noise).
 */
function expectSameStatistics(py: StatisticsFile, ts: StatisticsFile, rtol: number): void {
  expect([...py.tensors.keys()].sort()).toEqual([...ts.tensors.keys()].sort());
  const scale = (data: Float64Array) => data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const floor = rtol * Math.max(...[...ts.tensors.values()].map((t) => scale(t.data)));
  for (const [key, expected] of ts.tensors) {
    const actual = py.tensors.get(key)!;
    expect(actual.shape, key).toEqual(expected.shape);
    let error = 0;
    for (let i = 0; i < expected.data.length; i++) error = Math.max(error, Math.abs(actual.data[i] - expected.data[i]));
    expect(error, `${key}: max error ${error} against max entry ${scale(expected.data)}`).toBeLessThanOrEqual(rtol * scale(expected.data) + floor);
  }
  expect(py.metadata.n_examples).toBe(ts.metadata.n_examples);
}

/** The mean of each column of a row-major [rows, columns] matrix. */
function columnMeans(data: ArrayLike<number>, rows: number, columns: number): Float64Array {
  const mean = new Float64Array(columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) mean[c] += data[r * columns + c] / rows;
  return mean;
}

describeWithTorch('PyTorch statistics estimator (examples/torch)', () => {
  let dir: string;
  let ts: StatisticsFile;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mats-torch-'));
    const backend = createCpuBackend('float64');
    const mlp = Mlp.initialize(backend, SIZES, new SeededRandom(17));
    const random = new SeededRandom(5);
    const data: LabelledImages = {
      inputs: Float32Array.from(randomArray(EXAMPLES * SIZES[0], 23)),
      labels: Uint8Array.from({ length: EXAMPLES }, () => random.below(SIZES.at(-1)!)),
      count: EXAMPLES,
    };
    // The model and the batch for PyTorch, in one file (labels as F32: the writer writes floats).
    const tensors: TensorData[] = [...mlp.toNamedArrays()].map(([name, t]) => ({ name, dtype: 'F64', shape: t.shape, data: t.data }));
    tensors.push({ name: 'data.inputs', dtype: 'F32', shape: [EXAMPLES, SIZES[0]], data: data.inputs });
    tensors.push({ name: 'data.labels', dtype: 'F32', shape: [EXAMPLES], data: Float32Array.from(data.labels) });
    await writeSafetensorsFile(join(dir, 'mlp.safetensors'), tensors, { sizes: SIZES.join(',') });

    const statistics = estimateStatistics(mlp, data, { examples: EXAMPLES, fisher: 'empirical', random: new SeededRandom(0), batchSize: 16 });
    await writeStatisticsFile(join(dir, 'ts.stats.safetensors'), statistics, { dtype: 'F64' });
    statistics.dispose();
    ts = await readStatistics(join(dir, 'ts.stats.safetensors'));
    // Accumulators without bias folding write no `::input_mean`; then the TypeScript value is the
    // mean of each layer's inputs a_l over the examples, from the demo's own forward pass.
    if (![...ts.tensors.keys()].some((key) => key.endsWith('::input_mean'))) {
      const pass = forward(mlp, backend.fromArray(Float64Array.from(data.inputs), [EXAMPLES, SIZES[0]]) as CpuTensor);
      pass.inputs.forEach((a, l) => ts.tensors.set(`${weightName(l)}::input_mean`, { shape: [a.shape[1]], data: columnMeans(a.data, a.shape[0], a.shape[1]) }));
    }
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function estimateInPyTorch(dtype: 'float32' | 'float64', batchSize: number): Promise<StatisticsFile> {
    const out = join(dir, `py-${dtype}-${batchSize}.stats.safetensors`);
    const args = ['tests/agreement.py', join(dir, 'mlp.safetensors'), out, '--dtype', dtype, '--batch-size', String(batchSize)];
    const { code, output } = await runPython([...args, '--rewrite', join(dir, 'rewritten.safetensors')]);
    expect(code, output).toBe(0);
    return readStatistics(out);
  }

  it('agrees with the TypeScript estimator on every statistic: a float64 model to 1e-10', async () => {
    const py = await estimateInPyTorch('float64', 7);
    expect([...ts.tensors.keys()]).toEqual(expect.arrayContaining(['layers.0.weight::input_gram', 'layers.2.weight::grad_gram', 'layers.1.bias::fisher_block', 'layers.2.weight::fisher', 'layers.1.weight::input_mean']));
    expectSameStatistics(py, ts, 1e-10);
  });

  it('agrees to float32 precision with the model in float32', async () => {
    expectSameStatistics(await estimateInPyTorch('float32', 45), ts, 1e-4);
  });

  it('writes safetensors byte for byte as @mats/merge does', async () => {
    await estimateInPyTorch('float64', 45);
    const [ours, theirs] = await Promise.all([readFile(join(dir, 'rewritten.safetensors')), readFile(join(dir, 'mlp.safetensors'))]);
    expect(ours.length).toBe(theirs.length);
    expect(ours.equals(theirs)).toBe(true);
  });

  it("passes its own tests (against one-example-at-a-time autograd, the safetensors rules)", async () => {
    const { code, output } = await runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-p', 'test_*.py']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^OK/m);
  });
});
