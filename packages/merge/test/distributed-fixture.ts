/**
 * Inputs for the distributed-merge tests: a base and three models with statistics for every
 * subspace, and the comparison of a gathered output with a single-process one (tensor bytes,
 * file metadata, index metadata).
 *
 * Values lie on a grid of multiples of 1/8, so |theta_i - theta_0| has many exact ties: TIES's
 * global trim then breaks ties by index across tensors, which a shard can only reproduce from the
 * whole model (methods/ties.ts, tiesAt).
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32, randomSpd } from '@mats/core/testing';
import { expect } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { INDEX_FILE } from '../src/checkpoint/shard-index.js';
import { SafetensorsFile } from '../src/safetensors/reader.js';
import { writeModelFile, type Fixture } from './fixtures.js';

/** 2-D weights with biases, a weight without one (layers.10), a norm, an integer counter: 7 tensors. */
export const SHAPES: Record<string, readonly number[]> = {
  'layers.0.weight': [6, 5],
  'layers.0.bias': [6],
  'layers.1.weight': [4, 6],
  'layers.1.bias': [4],
  'layers.10.weight': [3, 4],
  'norm.weight': [3],
};
export const TENSOR_COUNT = Object.keys(SHAPES).length + 1;
export const MODELS = 3;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Float32-exact values on the grid k/8, k in [-8, 8]. */
function gridValues(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => Math.floor(next() * 17 - 8) / 8);
}

function model(seed: number): Fixture {
  const f: Fixture = {};
  let s = seed * 100;
  for (const [name, shape] of Object.entries(SHAPES)) f[name] = { dtype: 'F32', shape, data: gridValues(size(shape), s++) };
  f.step = { dtype: 'I64', shape: [1], data: new Uint8Array(new BigInt64Array([BigInt(seed)]).buffer) };
  return f;
}

function statistics(seed: number): Fixture {
  const f: Fixture = {};
  let s = seed * 1000;
  for (const [name, shape] of Object.entries(SHAPES)) {
    const next = mulberry32(s++);
    f[`${name}::fisher`] = { dtype: 'F32', shape, data: Float32Array.from({ length: size(shape) }, () => 0.1 + 2 * next()) };
    if (shape.length === 2) {
      f[`${name}::input_gram`] = { dtype: 'F32', shape: [shape[1], shape[1]], data: Float32Array.from(randomSpd(shape[1], s++, 0.3)) };
      f[`${name}::grad_gram`] = { dtype: 'F32', shape: [shape[0], shape[0]], data: Float32Array.from(randomSpd(shape[0], s++, 0.3)) };
    } else {
      f[`${name}::fisher_block`] = { dtype: 'F32', shape: [shape[0], shape[0]], data: Float32Array.from(randomSpd(shape[0], s++, 0.3)) };
    }
  }
  return f;
}

/** The models as written: base, then models[0..2] (for checks written from the data, not the code under test). */
export const BASE = model(0);
export const TASKS = Array.from({ length: MODELS }, (_, i) => model(i + 1));

/** Writes base.safetensors, model{i}.safetensors and model{i}.stats.safetensors into dir. */
export async function writeInputs(dir: string): Promise<void> {
  await writeModelFile(join(dir, 'base.safetensors'), BASE);
  for (let i = 0; i < MODELS; i++) {
    await writeModelFile(join(dir, `model${i}.safetensors`), TASKS[i]);
    await writeModelFile(join(dir, `model${i}.stats.safetensors`), statistics(i + 1));
  }
}

/**
 * A config over the inputs (JSON is YAML). shard_size 100 bytes: the single-process merge writes
 * several files, so N = 1 can be compared with it file by file.
 */
export function configText(method: string, parameters: Record<string, unknown>, out: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    method,
    base: 'base.safetensors',
    models: Array.from({ length: MODELS }, (_, i) => ({ path: `model${i}.safetensors`, stats: `model${i}.stats.safetensors`, weight: [1, 0.5, 2][i] })),
    parameters,
    output: { path: out, shard_size: 100 },
    ...extra,
  });
}

/** Every merge the byte-identity tests run: at least one per registered method. */
export const METHOD_CASES: readonly { readonly label: string; readonly method: string; readonly parameters: Record<string, unknown> }[] = [
  { label: 'average', method: 'average', parameters: {} },
  { label: 'task_arithmetic', method: 'task_arithmetic', parameters: { lambda: 0.7 } },
  { label: 'ties, global trim', method: 'ties', parameters: { density: 0.3 } },
  { label: 'ties, global trim, zero_sign positive (the tie-budget pass alone)', method: 'ties', parameters: { density: 0.3, zero_sign: 'positive' } },
  { label: 'ties, per-tensor trim', method: 'ties', parameters: { density: 0.3, trim: 'per_tensor' } },
  { label: 'ties, per-tensor trim, density by tensor (a filter list)', method: 'ties', parameters: { density: [{ filter: 'bias', value: 0.8 }, { value: 0.3 }], trim: 'per_tensor' } },
  { label: 'dare', method: 'dare', parameters: { p: 0.5 } },
  { label: 'dare with ties (global trim)', method: 'dare', parameters: { p: 0.5, combine: 'ties', density: 0.5 } },
  { label: 'breadcrumbs', method: 'breadcrumbs', parameters: { density: 0.8, gamma: 0.1 } },
  { label: 'breadcrumbs with ties', method: 'breadcrumbs', parameters: { density: 0.8, gamma: 0.1, combine: 'ties' } },
  { label: 'fisher', method: 'fisher', parameters: {} },
  { label: 'regmean', method: 'regmean', parameters: { shrink: 0.9 } },
  { label: 'mats kfac (PCG solve)', method: 'mats', parameters: { subspace: 'kfac', rtol: 1e-6, iterations: 50 } },
  { label: 'mats auto from a ties init (global trim)', method: 'mats', parameters: { subspace: 'auto', init: 'ties', init_parameters: { density: 0.3 } } },
];

/** Every tensor of `actual` has `expected`'s name, dtype, shape and bytes. */
export async function expectSameTensors(actual: string, expected: string): Promise<void> {
  const a = await Checkpoint.open(actual);
  const e = await Checkpoint.open(expected);
  try {
    expect(a.names().sort()).toEqual(e.names().sort());
    for (const name of e.names()) {
      const [ta, te] = [a.get(name)!, e.get(name)!];
      expect({ dtype: ta.dtype, shape: ta.shape }).toEqual({ dtype: te.dtype, shape: te.shape });
      const [ba, be] = [await a.readBytes(name), await e.readBytes(name)];
      expect(Buffer.compare(Buffer.from(ba), Buffer.from(be)), `tensor ${name} differs`).toBe(0);
    }
  } finally {
    await a.close();
    await e.close();
  }
}

/** Each safetensors file's __metadata__ in folder, and the index's metadata. */
export async function metadataOf(folder: string): Promise<{ files: Record<string, string>[]; index: Record<string, unknown> }> {
  const files: Record<string, string>[] = [];
  for (const name of (await readdir(folder)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = await SafetensorsFile.open(join(folder, name));
    files.push({ ...file.metadata });
    await file.close();
  }
  const index = JSON.parse(await readFile(join(folder, INDEX_FILE), 'utf8')) as { metadata: Record<string, unknown> };
  return { files, index: index.metadata };
}
