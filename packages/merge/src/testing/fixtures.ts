/** Small checkpoints for tests: single files and sharded folders, from plain arrays. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '@mats/core/testing';
import type { SafetensorsDType } from '../safetensors/dtype.js';
import { writeSafetensorsFile, type TensorData } from '../safetensors/writer.js';

export interface FixtureTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** Float values (for float dtypes: exactly representable ones, see randomModel) or raw bytes. */
  readonly data: Float64Array | Float32Array | Uint8Array;
}

export type Fixture = Record<string, FixtureTensor>;

const toData = (model: Fixture): TensorData[] => Object.entries(model).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data }));

/** Writes model.safetensors-style single file at path. */
export async function writeModelFile(path: string, model: Fixture, metadata?: Record<string, string>): Promise<void> {
  await writeSafetensorsFile(path, toData(model), metadata);
}

/** Writes a sharded folder: tensors dealt round-robin into `shards` files, with the index. */
export async function writeShardedModel(folder: string, model: Fixture, shards: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const names = Object.keys(model);
  const pad = (i: number) => String(i).padStart(5, '0');
  const files = Array.from({ length: shards }, (_, i) => `model-${pad(i + 1)}-of-${pad(shards)}.safetensors`);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const part: Fixture = {};
    names.forEach((n, i) => {
      if (i % shards === s) {
        part[n] = model[n];
        weightMap[n] = files[s];
      }
    });
    await writeModelFile(join(folder, files[s]), part);
  }
  await writeFile(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
}

/** Random float32-exact values in [-1, 1). */
export function randomValues(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * next() - 1;
  return out;
}

/** A small transformer-like model: F32 weights, an F32 bias, an I64 counter. */
export function randomModel(seed: number, shapes: Record<string, readonly number[]> = DEFAULT_SHAPES): Fixture {
  const model: Fixture = {};
  let s = seed * 1000;
  for (const [name, shape] of Object.entries(shapes)) {
    model[name] = { dtype: 'F32', shape, data: randomValues(shape.reduce((a, b) => a * b, 1), s++) };
  }
  model['step'] = { dtype: 'I64', shape: [1], data: new Uint8Array(new BigInt64Array([BigInt(seed)]).buffer) };
  return model;
}

export const DEFAULT_SHAPES: Record<string, readonly number[]> = {
  'layers.0.weight': [6, 5],
  'layers.0.bias': [6],
  'layers.1.weight': [4, 6],
  'layers.10.weight': [3, 4],
};
