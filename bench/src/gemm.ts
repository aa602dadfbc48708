/**
 * gemm throughput, float64 and float32: this project's CPU backend against ml-matrix's mmul,
 * side by side in one run. `npm run bench:gemm [-- 256 512 1024]`.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import type { DType } from '@mats/core';
import { randomArray } from '@mats/core/testing';
import { Matrix } from 'ml-matrix';
import { gflops, timeIt } from './timing.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ns = sizes.length > 0 ? sizes : [256, 512, 1024];

function benchBackend(dtype: DType, n: number): number {
  const backend = createCpuBackend(dtype);
  const a = backend.fromArray(randomArray(n * n, 1), [n, n]);
  const b = backend.fromArray(randomArray(n * n, 2), [n, n]);
  const c = backend.zeros([n, n]);
  const t = timeIt(() => backend.gemm('N', 'N', 1, a, b, 0, c));
  return gflops(2 * n ** 3, t.best);
}

function benchMlMatrix(n: number): number {
  const a = new Matrix(n, n);
  const b = new Matrix(n, n);
  const ra = randomArray(n * n, 1);
  const rb = randomArray(n * n, 2);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    a.set(i, j, ra[i * n + j]);
    b.set(i, j, rb[i * n + j]);
  }
  const t = timeIt(() => a.mmul(b));
  return gflops(2 * n ** 3, t.best);
}

console.log(`gemm GFLOP/s (best of repeated runs), node ${process.version}`);
console.log('| n | cpu float64 | cpu float32 | ml-matrix float64 | cpu f64 / ml-matrix |');
console.log('|---|---|---|---|---|');
for (const n of ns) {
  const f64 = benchBackend('float64', n);
  const f32 = benchBackend('float32', n);
  const ml = benchMlMatrix(n);
  console.log(`| ${n} | ${f64.toFixed(2)} | ${f32.toFixed(2)} | ${ml.toFixed(2)} | ${(f64 / ml).toFixed(2)}x |`);
}
