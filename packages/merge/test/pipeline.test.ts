/**
 * The pipeline around the methods: validation from headers with every problem at once,
 * statistics needs, nested methods and reports, copies, dtypes, tied weights, sharded output,
 * and the output's safety (temporary folder, --force, failures leave nothing).
 */
import { readdir, readFile, truncate, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { parseConfig } from '../src/config/load.js';
import { ValidationError } from '../src/errors.js';
import { defineMethod, type TensorJob } from '../src/methods/method.js';
import { registerMethod } from '../src/methods/registry.js';
import { planMerge } from '../src/pipeline/plan.js';
import { runMerge, type MergeEvent } from '../src/pipeline/run.js';
import { randomModel, writeModelFile, writeShardedModel, type Fixture } from './fixtures.js';
import { tempFolder } from './helpers.js';
import { floatsOf, mergeInMemory, readAllFloats } from './merge-harness.js';

/** A test method that needs statistics: model 0's values scaled by its input Gram's trace. */
const gramProbe = defineMethod({
  name: 'test_gram_probe',
  summary: 'test only',
  parameters: z.strictObject({ needFisher: z.boolean().default(false) }),
  requiresBase: () => false,
  elementwise: () => false,
  statistics: (tensor, p) =>
    tensor.shape.length === 2
      ? [
          { kind: 'input_gram' as const, shape: [tensor.shape[1], tensor.shape[1]], presence: 'required' as const },
          { kind: 'fisher' as const, shape: tensor.shape, presence: p.needFisher ? ('required' as const) : ('optional' as const) },
        ]
      : [],
  async merge(job: TensorJob) {
    const values = Float64Array.from(await job.model(0));
    if (job.shape.length !== 2) return { values, report: { fallback: 'no statistics for 1-D tensors' } };
    const gram = await job.statistic(0, 'input_gram');
    const n = job.shape[1];
    let trace = 0;
    for (let i = 0; i < n; i++) trace += gram[i * n + i];
    return { values: values.map((v) => v * trace), report: { iterations: 3, status: 'converged', initialResidualNorm: 1, residualNorm: 1e-9, details: { hasFisher: job.hasStatistic(0, 'fisher') } } };
  },
});

/** A test method whose merge is another method's output plus one (a nested call). */
const plusOne = defineMethod({
  name: 'test_plus_one',
  summary: 'test only',
  parameters: z.strictObject({ init: z.strictObject({ method: z.string(), parameters: z.record(z.string(), z.unknown()).optional() }) }),
  requiresBase: () => false,
  elementwise: () => true,
  nested: (p) => ({ init: p.init }),
  async merge(job, { nested }) {
    const inner = await nested.init.merge(job);
    return { values: Float64Array.from(inner.values, (v) => v + 1), report: { details: { nested: nested.init.name } } };
  },
});

/** A test method that fails on one tensor (an internal error mid-merge). */
const failing = defineMethod({
  name: 'test_failing',
  summary: 'test only',
  parameters: z.strictObject({}),
  requiresBase: () => false,
  elementwise: () => false,
  async merge(job) {
    if (job.name === 'layers.1.weight') throw new Error('boom');
    return { values: Float64Array.from(await job.model(0)) };
  },
});

registerMethod(gramProbe);
registerMethod(plusOne);
registerMethod(failing);

async function setup(models: Record<string, Fixture>, config: Record<string, unknown>) {
  const dir = await tempFolder();
  for (const [file, model] of Object.entries(models)) await writeModelFile(join(dir, file), model);
  const parsed = parseConfig(JSON.stringify(config), join(dir, 'config.yaml'), dir);
  return { dir, parsed };
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return [...(error as ValidationError).problems];
}

describe('validation before any tensor is read', () => {
  it('reports every problem at once: names, shapes, dtypes, extras, base, output', async () => {
    const base = randomModel(0);
    const missing = randomModel(1);
    delete (missing as Record<string, unknown>)['layers.1.weight'];
    const reshaped = { ...randomModel(2), 'layers.0.bias': { dtype: 'F32' as const, shape: [7], data: new Float32Array(7) } };
    const retyped = { ...randomModel(3), 'layers.0.weight': { dtype: 'F64' as const, shape: [6, 5], data: new Float64Array(30) }, extra: { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } };
    const { dir, parsed } = await setup(
      { 'base.safetensors': base, 'a.safetensors': missing, 'b.safetensors': reshaped, 'c.safetensors': retyped },
      { method: 'ties', base: 'base.safetensors', models: [{ path: 'a.safetensors' }, { path: 'b.safetensors' }, { path: 'c.safetensors' }, { path: 'nothing-here' }], output: { path: 'out' } },
    );
    await mkdir(join(dir, 'out'));
    const problems = await problemsOf(planMerge(parsed));
    const text = problems.join('\n');
    expect(text).toMatch(/output .*out already exists; pass --force/);
    expect(text).toMatch(/models\[3\]: .*nothing-here: no such file or folder/);
    // With one input unopened, tensors cannot be compared yet: fix it and look again.
    const fixed = parseConfig(JSON.stringify({ method: 'ties', base: 'base.safetensors', models: [{ path: 'a.safetensors' }, { path: 'b.safetensors' }, { path: 'c.safetensors' }], output: { path: 'out2' } }), join(dir, 'c.yaml'), dir);
    const again = (await problemsOf(planMerge(fixed))).join('\n');
    expect(again).toMatch(/models\[0\] .*missing tensors that the base has \(1\): layers\.1\.weight/);
    expect(again).toMatch(/models\[1\] .*shapes differ from the base \(1\): layers\.0\.bias \[7\] vs \[6\]/);
    expect(again).toMatch(/models\[2\] .*dtypes differ from the base \(1\): layers\.0\.weight F64 vs F32/);
    expect(again).toMatch(/models\[2\] .*tensors the base does not have \(1\): extra/);
  });

  it('asks for a base when the method takes task vectors', async () => {
    const { parsed } = await setup({ 'a.safetensors': randomModel(1) }, { method: 'task_arithmetic', models: [{ path: 'a.safetensors' }], output: { path: 'out' } });
    expect((await problemsOf(planMerge(parsed))).join('\n')).toMatch(/base: method task_arithmetic takes task vectors against a base model; add base: PATH/);
  });

  it('reports method parameter problems with did-you-mean, nested ones included', async () => {
    const { parsed } = await setup(
      { 'a.safetensors': randomModel(1) },
      { method: 'test_plus_one', models: [{ path: 'a.safetensors' }], parameters: { init: { method: 'averag' } }, output: { path: 'out' } },
    );
    expect((await problemsOf(planMerge(parsed))).join('\n')).toMatch(/parameters\.init: unknown method 'averag'; did you mean 'average'\?/);
    const { parsed: p2 } = await setup(
      { 'a.safetensors': randomModel(1) },
      { method: 'test_plus_one', models: [{ path: 'a.safetensors' }], parameters: { init: { method: 'ties', parameters: { densty: 0.5 } } }, output: { path: 'out' } },
    );
    expect((await problemsOf(planMerge(p2))).join('\n')).toMatch(/parameters\.init\.densty: unknown key; did you mean 'density'\?/);
  });

  it('checks every statistic the method needs, from the statistics files headers', async () => {
    const model = randomModel(1);
    const stats: Fixture = {
      'layers.0.weight::input_gram': { dtype: 'F32', shape: [5, 5], data: new Float32Array(25) },
      'layers.1.weight::input_gram': { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) }, // wrong: [6, 6]
    };
    const { parsed } = await setup(
      { 'a.safetensors': model, 'b.safetensors': model, 'a.stats.safetensors': stats },
      { method: 'test_gram_probe', models: [{ path: 'a.safetensors', stats: 'a.stats.safetensors' }, { path: 'b.safetensors' }], output: { path: 'out' } },
    );
    const text = (await problemsOf(planMerge(parsed))).join('\n');
    expect(text).toMatch(/models\[0\]\.stats .*wrong shapes \(1\): layers\.1\.weight::input_gram \[4, 4\], expected \[6, 6\]/);
    expect(text).toMatch(/models\[0\]\.stats .*missing statistics \(1\): layers\.10\.weight::input_gram/);
    expect(text).toMatch(/models\[1\]: no stats file, but method test_gram_probe needs input_gram \(3\)/);
    // Optional statistics (fisher here) missing are no problem.
    expect(text).not.toMatch(/fisher/);
  });
});

describe('running methods', () => {
  it('passes statistics, and the method report reaches the events', async () => {
    const model = randomModel(1);
    const gram = (n: number, d: number) => ({ dtype: 'F32' as const, shape: [n, n], data: Float32Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? d : 0.5)) });
    const stats: Fixture = { 'layers.0.weight::input_gram': gram(5, 2), 'layers.1.weight::input_gram': gram(6, 1), 'layers.10.weight::input_gram': gram(4, 3) };
    const { dir, parsed } = await setup({ 'a.safetensors': model, 's.safetensors': stats }, { method: 'test_gram_probe', models: [{ path: 'a.safetensors', stats: 's.safetensors' }], output: { path: 'out' } });
    const plan = await planMerge(parsed);
    const events: MergeEvent[] = [];
    await runMerge(plan, { onEvent: (e) => events.push(e) });
    await plan.close();
    const out = await readAllFloats(join(dir, 'out'));
    const input = floatsOf(model);
    expect(out.get('layers.0.weight')).toEqual(input.get('layers.0.weight')!.map((v) => Math.fround(v * 10)));
    expect(out.get('layers.1.weight')).toEqual(input.get('layers.1.weight')!.map((v) => Math.fround(v * 6)));
    const tensorEvents = events.filter((e): e is Extract<MergeEvent, { type: 'tensor' }> => e.type === 'tensor');
    expect(tensorEvents.find((e) => e.name === 'layers.0.weight')?.report).toMatchObject({ iterations: 3, status: 'converged', residualNorm: 1e-9, details: { hasFisher: false } });
    expect(tensorEvents.find((e) => e.name === 'layers.0.bias')?.report?.fallback).toBe('no statistics for 1-D tensors');
    expect(tensorEvents.find((e) => e.name === 'step')?.method).toBe('copy');
  });

  it('runs nested methods on the same job', async () => {
    const models = [randomModel(1), randomModel(2)];
    const nested = await mergeInMemory({ method: 'test_plus_one', parameters: { init: { method: 'average' } }, models });
    const plain = await mergeInMemory({ method: 'average', models });
    for (const [name, x] of plain.tensors) expect(nested.tensors.get(name)).toEqual(x.map((v) => v + 1));
    const report = nested.events.find((e) => e.type === 'tensor' && e.name === 'layers.0.weight');
    expect(report).toMatchObject({ report: { details: { nested: 'average' } } });
  });

  it('copies integer tensors from the base byte for byte and converts float dtypes on output', async () => {
    const base = randomModel(0);
    const models = [randomModel(1), randomModel(2)];
    for (const [dtype, code] of [['float16', 'F16'], ['bfloat16', 'BF16'], ['float32', 'F32'], ['float64', 'F64']] as const) {
      const { output } = await mergeInMemory({ method: 'task_arithmetic', base, models, outputDtype: dtype });
      const checkpoint = await Checkpoint.open(output);
      expect(checkpoint.get('layers.0.weight')?.dtype).toBe(code);
      expect(checkpoint.get('step')?.dtype).toBe('I64');
      expect(await checkpoint.readBytes('step')).toEqual(base.step.data);
      await checkpoint.close();
    }
  });

  it('merges empty tensors and scalars with every method', async () => {
    const model = (v: number): Fixture => ({
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      scalar: { dtype: 'F64', shape: [], data: new Float64Array([v]) },
    });
    for (const [method, parameters] of [['average', {}], ['task_arithmetic', { lambda: 0.5 }], ['ties', { density: 1 }], ['ties', { density: 1, trim: 'per_tensor' }], ['dare', { p: 0 }]] as const) {
      const { tensors } = await mergeInMemory({ method, parameters, base: model(1), models: [model(2), model(4)], outputDtype: 'same' });
      expect(tensors.get('empty')?.length).toBe(0);
      // taus 1 and 3: average 3; task arithmetic 1 + lambda * 4 (dare: lambda 1); ties: 1 + their mean
      const expected = { average: 3, task_arithmetic: 1 + 0.5 * 4, dare: 1 + 4, ties: 1 + 2 }[method];
      expect(tensors.get('scalar')?.[0]).toBeCloseTo(expected, 12);
    }
  });

  it('resolves tied weights through aliases', async () => {
    const embed = { dtype: 'F32' as const, shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const tied = { 'model.embed_tokens.weight': embed };
    const untiedBase = { 'model.embed_tokens.weight': embed, 'lm_head.weight': { ...embed, data: embed.data.map((v) => v * 10) } };
    const { tensors, events } = await mergeInMemory({ method: 'average', models: [untiedBase, tied] });
    expect(tensors.get('lm_head.weight')).toEqual(Float64Array.from(embed.data, (v) => (10 * v + v) / 2));
    expect(events.some((e) => e.type === 'tensor' && e.name === 'lm_head.weight')).toBe(true);
  });

  it('shards the output above shard_size, with an index, in the transformers convention', async () => {
    const models = [randomModel(1), randomModel(2)];
    const { output, tensors } = await mergeInMemory({ method: 'average', models, outputDtype: 'float32', extra: { output: { path: 'out', dtype: 'float32', shard_size: 130 } } });
    const files = (await readdir(output)).sort();
    expect(files).toEqual(['model-00001-of-00004.safetensors', 'model-00002-of-00004.safetensors', 'model-00003-of-00004.safetensors', 'model-00004-of-00004.safetensors', 'model.safetensors.index.json']);
    const index = JSON.parse(await readFile(join(output, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(24 + 120 + 96 + 48 + 8);
    expect(Object.keys(index.weight_map).sort()).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.weight', 'layers.10.weight', 'step']);
    const plain = await mergeInMemory({ method: 'average', models, outputDtype: 'float32' });
    for (const [name, x] of plain.tensors) expect(tensors.get(name)).toEqual(x);
  });

  it('records method, parameters, inputs and version in the output metadata', async () => {
    const { output } = await mergeInMemory({ method: 'ties', parameters: { density: 0.5 }, base: randomModel(0), models: [randomModel(1)] });
    const checkpoint = await Checkpoint.open(output);
    const meta = checkpoint.metadata;
    await checkpoint.close();
    expect(meta.format).toBe('pt');
    expect(meta.mats_method).toBe('ties');
    expect(JSON.parse(meta.mats_parameters)).toEqual({
      method: 'ties',
      parameters: { density: 0.5, lambda: 1, trim: 'global', sign_election: 'unweighted', zero_sign: 'majority', normalize: true, rescale: 'none' },
    });
    // Inputs are named relative to the config's folder.
    expect(JSON.parse(meta.mats_inputs).models[0].path).toBe('model0.safetensors');
    expect(meta.mats_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(meta.mats_config).toContain('"method":"ties"');
  });
});

describe('output safety', () => {
  const config = { method: 'test_failing', models: [{ path: 'a.safetensors' }], output: { path: 'out' } };

  it('a failure mid-merge leaves neither the output nor its temporary folder', async () => {
    const { dir, parsed } = await setup({ 'a.safetensors': randomModel(1) }, config);
    const plan = await planMerge(parsed);
    await expect(runMerge(plan)).rejects.toThrow('boom');
    await plan.close();
    expect(await readdir(dir)).toEqual(['a.safetensors']);
  });

  it('a file that changes after validation fails the merge cleanly', async () => {
    const { dir, parsed } = await setup({ 'a.safetensors': randomModel(1), 'b.safetensors': randomModel(2) }, { method: 'average', models: [{ path: 'a.safetensors' }, { path: 'b.safetensors' }], output: { path: 'out' } });
    const plan = await planMerge(parsed);
    await truncate(join(dir, 'b.safetensors'), 200);
    await expect(runMerge(plan)).rejects.toThrow(/unexpected end of file/);
    await plan.close();
    expect((await readdir(dir)).sort()).toEqual(['a.safetensors', 'b.safetensors']);
  });

  it('an aborted merge writes nothing', async () => {
    const { dir, parsed } = await setup({ 'a.safetensors': randomModel(1) }, { method: 'average', models: [{ path: 'a.safetensors' }], output: { path: 'out' } });
    const plan = await planMerge(parsed);
    const controller = new AbortController();
    controller.abort();
    await expect(runMerge(plan, { signal: controller.signal })).rejects.toThrow(/interrupted/);
    await plan.close();
    expect(await readdir(dir)).toEqual(['a.safetensors']);
  });

  it('replaces an existing output only with force, and never a folder that holds other files', async () => {
    const { dir, parsed } = await setup({ 'a.safetensors': randomModel(1) }, { method: 'average', models: [{ path: 'a.safetensors' }], output: { path: 'out' } });
    await mkdir(join(dir, 'out'));
    await writeFile(join(dir, 'out', 'model.safetensors'), 'old');
    await problemsOf(planMerge(parsed));
    const plan = await planMerge(parsed, { force: true });
    await runMerge(plan);
    await plan.close();
    expect((await readAllFloats(join(dir, 'out'))).size).toBe(4);
    expect((await readdir(dir)).sort()).toEqual(['a.safetensors', 'out']);

    await writeFile(join(dir, 'out', 'notes.txt'), 'mine');
    const plan2 = await planMerge(parsed, { force: true });
    await expect(runMerge(plan2)).rejects.toThrow(/holds files that are not a checkpoint \(notes\.txt\)/);
    await plan2.close();
    expect(await readFile(join(dir, 'out', 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('sharded inputs', () => {
  it('merge the same as single files', async () => {
    const models = [randomModel(1), randomModel(2)];
    const dir = await tempFolder();
    await writeShardedModel(join(dir, 'a'), models[0], 3);
    await writeShardedModel(join(dir, 'b'), models[1], 2);
    const parsed = parseConfig(JSON.stringify({ method: 'average', models: [{ path: 'a' }, { path: 'b' }], output: { path: 'out', dtype: 'float64' }, precision: 'float64' }), join(dir, 'c.yaml'), dir);
    const plan = await planMerge(parsed);
    await runMerge(plan);
    await plan.close();
    const single = await mergeInMemory({ method: 'average', models });
    expect(await readAllFloats(join(dir, 'out'))).toEqual(single.tensors);
  });
});
