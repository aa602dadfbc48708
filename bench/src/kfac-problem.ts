/**
 * A K-FAC merging problem of M models with square [n, n] factors, shared by the TS rows and
 * the numpy reference (written to raw float64 files for bench/python/kfac.py):
 *
 *   sum_i G_i X A_i = sum_i G_i W_i A_i,   X0 = mean_i W_i (task arithmetic start)
 *
 * Each factor is a Gram matrix with a part common to all tasks, as curvature estimates of
 * models fine-tuned from one checkpoint are:  F_i = (C + R_i R_i^T / n) / 2 + damping I,
 * C = R_c R_c^T / n, R uniform in [-1, 1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCpuBackend } from '@mats/backend-cpu';
import { randomArray } from '@mats/core/testing';

export interface KfacProblem {
  models: number;
  n: number;
  /** [n, n] each: output-gradient Grams. */
  g: Float64Array[];
  /** [n, n] each: input Grams. */
  a: Float64Array[];
  /** [n, n] each ([out, in]): the fine-tuned weights. */
  w: Float64Array[];
}

export const KFAC_DAMPING = 0.1;

export function kfacProblem(models: number, n: number, seed = 7): KfacProblem {
  const backend = createCpuBackend('float64');
  const gram = (r: Float64Array) => {
    const t = backend.fromArray(r, [n, n]);
    const out = backend.zeros([n, n]);
    backend.gemm('N', 'T', 1 / n, t, t, 0, out);
    const data = backend.toArray(out) as Float64Array;
    backend.dispose(t);
    backend.dispose(out);
    return data;
  };
  const factor = (common: Float64Array, s: number) => {
    const own = gram(randomArray(n * n, s));
    const f = new Float64Array(n * n);
    for (let i = 0; i < n * n; i++) f[i] = 0.5 * (common[i] + own[i]);
    for (let i = 0; i < n; i++) f[i * n + i] += KFAC_DAMPING;
    return f;
  };
  const commonG = gram(randomArray(n * n, seed));
  const commonA = gram(randomArray(n * n, seed + 1));
  const g: Float64Array[] = [];
  const a: Float64Array[] = [];
  const w: Float64Array[] = [];
  for (let i = 0; i < models; i++) {
    g.push(factor(commonG, seed + 100 + 3 * i));
    a.push(factor(commonA, seed + 101 + 3 * i));
    w.push(randomArray(n * n, seed + 102 + 3 * i));
  }
  return { models, n, g, a, w };
}

/** Writes the problem for bench/python/kfac.py; returns the folder and a cleanup function. */
export function writeKfacProblem(problem: KfacProblem): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mats-kfac-'));
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ models: problem.models, n: problem.n }));
  const write = (name: string, x: Float64Array) => writeFileSync(path.join(dir, name), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  for (let i = 0; i < problem.models; i++) {
    write(`G${i}.bin`, problem.g[i]);
    write(`A${i}.bin`, problem.a[i]);
    write(`W${i}.bin`, problem.w[i]);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
