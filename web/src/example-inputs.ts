/**
 * Small generated checkpoints for driving the page (its test, its screenshot): a base as a
 * sharded Hugging Face folder (config.json, generation_config.json and tokenizer files beside
 * the shards, which a merge copies into its output), a fine-tuned model as one file, another as
 * a sharded folder, and statistics files for both (Fisher for every tensor, K-FAC Grams for the
 * weights).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomSpd } from '@mats/core/testing';
import { writeSafetensorsFile, type TensorData } from '@mats/merge';

/** A small MLP's tensors (weights [out, in]). */
export const EXAMPLE_SHAPES: Readonly<Record<string, readonly number[]>> = {
  'layers.0.weight': [16, 12],
  'layers.0.bias': [16],
  'layers.1.weight': [8, 16],
  'layers.1.bias': [8],
  'layers.10.weight': [4, 8],
};

/** Deterministic values in [-1, 1), from a seeded LCG (Numerical Recipes' constants). */
export function exampleValues(n: number, seed: number): Float32Array {
  let state = (seed * 2654435761) >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

/** Float32 tensors of the given shapes, and an I64 tensor (copied, never merged). */
export function exampleModel(seed: number, shapes: Readonly<Record<string, readonly number[]>> = EXAMPLE_SHAPES): TensorData[] {
  const tensors: TensorData[] = Object.entries(shapes).map(([name, shape], k) => ({ name, dtype: 'F32', shape, data: exampleValues(shape.reduce((a, b) => a * b, 1), seed * 100 + k) }));
  tensors.push({ name: 'step', dtype: 'I64', shape: [1], data: new Uint8Array(new BigInt64Array([BigInt(seed)]).buffer) });
  return tensors;
}

/** A statistics file's tensors: `<param>::fisher` for every tensor, `::input_gram` [in, in] and `::grad_gram` [out, out] for weights. */
export function exampleStatistics(seed: number, shapes: Readonly<Record<string, readonly number[]>> = EXAMPLE_SHAPES): TensorData[] {
  const out: TensorData[] = [];
  Object.entries(shapes).forEach(([name, shape], k) => {
    const n = shape.reduce((a, b) => a * b, 1);
    out.push({ name: `${name}::fisher`, dtype: 'F32', shape, data: exampleValues(n, seed * 1000 + k).map((v) => 0.1 + Math.abs(v)) });
    if (shape.length === 2) {
      out.push({ name: `${name}::input_gram`, dtype: 'F32', shape: [shape[1], shape[1]], data: randomSpd(shape[1], seed * 1000 + 100 + k, 0.3) });
      out.push({ name: `${name}::grad_gram`, dtype: 'F32', shape: [shape[0], shape[0]], data: randomSpd(shape[0], seed * 1000 + 200 + k, 0.3) });
    }
  });
  return out;
}

/** A sharded folder: tensors dealt round-robin into `shards` files, with model.safetensors.index.json. */
export async function writeShardedCheckpoint(folder: string, tensors: readonly TensorData[], shards: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  const files = Array.from({ length: shards }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const part = tensors.filter((_, i) => i % shards === s);
    for (const t of part) weightMap[t.name] = files[s];
    await writeSafetensorsFile(join(folder, files[s]), part);
  }
  await writeFile(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
}

/** What a Hugging Face model folder holds beside its tensors (a made-up tiny model and a 4-token BPE tokenizer). */
export const EXAMPLE_FOLDER_FILES: Readonly<Record<string, string>> = {
  'config.json': `${JSON.stringify({ architectures: ['TinyMlp'], model_type: 'tiny-mlp', hidden_size: 16, torch_dtype: 'float32' }, null, 2)}\n`,
  'generation_config.json': `${JSON.stringify({ max_new_tokens: 8 })}\n`,
  'tokenizer.json': `${JSON.stringify({ version: '1.0', added_tokens: [], model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, '<unk>': 3 }, merges: ['a b'] } })}\n`,
  'tokenizer_config.json': `${JSON.stringify({ model_max_length: 64, unk_token: '<unk>' })}\n`,
};

/** base/ (2 shards and EXAMPLE_FOLDER_FILES), math.safetensors, code/ (3 shards), and (unless told not to) math.stats.safetensors and code.stats.safetensors in dir. */
export async function writeExampleInputs(dir: string, shapes: Readonly<Record<string, readonly number[]>> = EXAMPLE_SHAPES, withStatistics = true): Promise<void> {
  await writeShardedCheckpoint(join(dir, 'base'), exampleModel(1, shapes), 2);
  for (const [name, text] of Object.entries(EXAMPLE_FOLDER_FILES)) await writeFile(join(dir, 'base', name), text);
  await writeSafetensorsFile(join(dir, 'math.safetensors'), exampleModel(2, shapes));
  await writeShardedCheckpoint(join(dir, 'code'), exampleModel(3, shapes), 3);
  if (!withStatistics) return;
  await writeSafetensorsFile(join(dir, 'math.stats.safetensors'), exampleStatistics(2, shapes));
  await writeSafetensorsFile(join(dir, 'code.stats.safetensors'), exampleStatistics(3, shapes));
}
