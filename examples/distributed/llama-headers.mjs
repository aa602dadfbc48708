#!/usr/bin/env node
// A Llama-3-8B-shaped merge on paper: a base and M task checkpoints with the model's tensor names
// and shapes, and for each task a statistics file with K-FAC factors (input_gram, grad_gram) of
// every linear layer, written as sparse files (a real header, the data left as a hole: no disk
// space, zeros when read). `mats plan` reads headers only (and a few KiB to fingerprint each
// file), so it plans the real merge from them: the assignment, the bytes each shard reads, its
// estimated time and peak memory.
//
//   node examples/distributed/llama-headers.mjs DIR [--models 8] [--layers 32] [--hidden 4096] [--mlp 14336] [--vocab 128256] [--kv 1024]
//   node packages/merge/bin/mats.js plan DIR/merge.yaml --shards 32
//
// Llama 3 8B: hidden 4096, MLP 14336, 32 layers, vocabulary 128256, 8 key/value heads of 128
// (k_proj and v_proj [1024, 4096]), an untied lm_head. The embedding and the head get no K-FAC
// factors (a [128256, 128256] gradient Gram is 66 GB): mats averages them. Needs `npm run build`.
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planFile } from '@mats/merge';
import { folderAndOptions, llamaShapes } from './llama-shapes.mjs';

const { dir, models, layers, hidden, mlp, vocab, kv } = folderAndOptions('llama-headers.mjs', { models: 8, layers: 32, hidden: 4096, mlp: 14336, vocab: 128256, kv: 1024 });
const weights = llamaShapes({ layers, hidden, mlp, vocab, kv });
const statistics = weights
  .filter(([name, shape]) => shape.length === 2 && name.startsWith('model.layers.'))
  .flatMap(([name, [o, i]]) => [
    [`${name}::input_gram`, [i, i]],
    [`${name}::grad_gram`, [o, o]],
  ]);

/** A safetensors file of F32 tensors whose data is a hole (the file system reads zeros). */
async function sparseFile(path, tensors) {
  const layout = planFile(path, tensors.map(([name, shape]) => ({ name, dtype: 'F32', shape })));
  const handle = await open(path, 'w');
  await handle.write(layout.headerBytes, 0, layout.headerBytes.length, 0);
  await handle.truncate(layout.fileSize);
  await handle.close();
  return layout.fileSize;
}

await mkdir(dir, { recursive: true });
const modelBytes = await sparseFile(join(dir, 'base.safetensors'), weights);
let statsBytes = 0;
for (let m = 1; m <= models; m++) {
  await sparseFile(join(dir, `task${m}.safetensors`), weights);
  statsBytes = await sparseFile(join(dir, `task${m}.stats.safetensors`), statistics);
}
const config = [
  'method: mats',
  'base: base.safetensors',
  'models:',
  ...Array.from({ length: models }, (_, i) => `  - {path: task${i + 1}.safetensors, stats: task${i + 1}.stats.safetensors}`),
  'parameters: {subspace: auto}',
  'output: {path: merged}',
  '',
].join('\n');
await writeFile(join(dir, 'merge.yaml'), config);
console.log(`wrote sparse headers to ${dir}: a base and ${models} models of ${(modelBytes / 1e9).toFixed(2)} GB (${weights.length} tensors), ${models} statistics files of ${(statsBytes / 1e9).toFixed(1)} GB (${statistics.length} K-FAC factors)`);
