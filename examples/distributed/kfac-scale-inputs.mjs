#!/usr/bin/env node
// Inputs for timing one real-size K-FAC solve through `mats merge` (docs/DESIGN.md, "Scale on
// paper"): a base and M task models holding one weight `layer.weight` [OUT, IN] (F32), their
// K-FAC statistics (input_gram [IN, IN], grad_gram [OUT, OUT], F32), and a mats kfac config.
//
//   node examples/distributed/kfac-scale-inputs.mjs DIR --out 4096 --in 4096 --models 8 [--rank 256] [--preconditioner auto]
//   /usr/bin/time -v node packages/merge/bin/mats.js merge DIR/merge.yaml --json-log DIR/log.jsonl
//
// Each factor is a Gram with a part shared by the tasks, as curvature of models fine-tuned from
// one checkpoint is: F_i = (C + R_i R_i^T / r) / 2 + 0.1 I, C = R_c R_c^T / r, R uniform in
// [-1, 1) of shape [n, r] (condition numbers about 50, as in bench/src/kfac-problem.ts). The
// weights are base + noise. Needs `npm run build`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCpuBackend } from '@mats/backend-cpu';
import { writeSafetensorsFile } from '@mats/merge';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
if (dir === undefined) {
  console.error('usage: kfac-scale-inputs.mjs DIR --out OUT --in IN --models M [--rank 256] [--preconditioner auto] [--iterations 100]');
  process.exit(2);
}
const out = Number(option('out', 4096));
const inp = Number(option('in', 4096));
const models = Number(option('models', 8));
const rank = Number(option('rank', 256));

function uniforms(seed, n) {
  let x = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = (x >>> 0) / 2147483648 - 1;
  }
  return a;
}

const backend = createCpuBackend('float32');
/** R R^T / r for R [n, r] uniform, as a Float32Array [n, n]. */
function lowRankGram(n, seed) {
  const r = backend.fromArray(uniforms(seed, n * rank), [n, rank]);
  const g = backend.zeros([n, n]);
  backend.gemm('N', 'T', 1 / rank, r, r, 0, g);
  const data = Float32Array.from(backend.toArray(g));
  backend.dispose(r);
  backend.dispose(g);
  return data;
}
function factor(shared, n, seed) {
  const own = lowRankGram(n, seed);
  for (let i = 0; i < n * n; i++) own[i] = 0.5 * (shared[i] + own[i]);
  for (let i = 0; i < n; i++) own[i * n + i] += 0.1;
  return own;
}

await mkdir(dir, { recursive: true });
const t0 = performance.now();
const base = uniforms(1, out * inp);
await writeSafetensorsFile(join(dir, 'base.safetensors'), [{ name: 'layer.weight', dtype: 'F32', shape: [out, inp], data: base }]);
const sharedG = lowRankGram(out, 2);
const sharedA = lowRankGram(inp, 3);
for (let m = 1; m <= models; m++) {
  const noise = uniforms(100 + m, out * inp);
  for (let i = 0; i < noise.length; i++) noise[i] = base[i] + 0.01 * noise[i];
  await writeSafetensorsFile(join(dir, `task${m}.safetensors`), [{ name: 'layer.weight', dtype: 'F32', shape: [out, inp], data: noise }]);
  await writeSafetensorsFile(join(dir, `task${m}.stats.safetensors`), [
    { name: 'layer.weight::grad_gram', dtype: 'F32', shape: [out, out], data: factor(sharedG, out, 200 + m) },
    { name: 'layer.weight::input_gram', dtype: 'F32', shape: [inp, inp], data: factor(sharedA, inp, 300 + m) },
  ]);
}
const config = [
  'method: mats',
  'base: base.safetensors',
  'models:',
  ...Array.from({ length: models }, (_, i) => `  - {path: task${i + 1}.safetensors, stats: task${i + 1}.stats.safetensors}`),
  `parameters: {subspace: kfac, preconditioner: ${option('preconditioner', 'auto')}, iterations: ${option('iterations', 100)}, rtol: 1.0e-5}`,
  'output: {path: merged}',
  '',
].join('\n');
await writeFile(join(dir, 'merge.yaml'), config);
console.log(`wrote a base and ${models} models of layer.weight [${out}, ${inp}] with K-FAC statistics to ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(0);
