#!/usr/bin/env node
// Small LLaMA-shaped checkpoints for trying a distributed merge: a base and N task models (base
// plus seeded noise), F32, with the tensor names of a Llama model (embedding, attention, MLP,
// norms, an untied head), a few MB each.
//   node examples/distributed/make-models.mjs DIR [--models 3] [--layers 4] [--hidden 256] [--mlp 704] [--vocab 2048]
// Needs `npm run build` (it writes through @mats/merge).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensorsFile } from '@mats/merge';
import { folderAndOptions, llamaShapes } from './llama-shapes.mjs';

const { dir, models, layers, hidden, mlp, vocab } = folderAndOptions('make-models.mjs', { models: 3, layers: 4, hidden: 256, mlp: 704, vocab: 2048 });
const shapes = llamaShapes({ layers, hidden, mlp, vocab });

/** xorshift32 uniforms in [-1, 1). */
function uniforms(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2147483648 - 1;
  };
}

await mkdir(dir, { recursive: true });
for (let m = 0; m <= models; m++) {
  const base = uniforms(12345);
  const noise = uniforms(1000 + m);
  const tensors = shapes.map(([name, shape]) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = base() + (m === 0 ? 0 : 0.01 * noise());
    return { name, dtype: 'F32', shape, data };
  });
  await writeSafetensorsFile(join(dir, m === 0 ? 'base.safetensors' : `task${m}.safetensors`), tensors);
}
console.log(`wrote a base and ${models} task models (${shapes.length} tensors each) to ${dir}`);
