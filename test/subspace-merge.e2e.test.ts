/**
 * The task-subspace methods end to end through the built `mats` bin: a K-FAC merge of three
 * models with statistics files, checked against a float64 dense solve; the per-tensor log line
 * and --json-log (iterations, status, residual norms, fallbacks); and statistics files with a
 * wrong shape or a non-symmetric Gram rejected with exit status 1 before any output is written.
 * Needs `npm run build` first (npm test does it).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomArray, randomSpd, referenceKronecker, referenceMatVec, referenceSpdSolve } from '@mats/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, writeSafetensorsFile, type TensorData } from '@mats/merge';
import { mats, requireBuiltBin } from './mats-bin.js';

const OUT = 4;
const IN = 3;
const MODELS = 3;

interface Task {
  weight: Float64Array; // [OUT, IN]
  bias: Float64Array; // [OUT]
  g: Float64Array; // [OUT, OUT]
  a: Float64Array; // [IN, IN]
}

const tasks: Task[] = Array.from({ length: MODELS + 1 }, (_, k) => ({
  weight: Float64Array.from(randomArray(OUT * IN, 10 * k + 1), Math.fround),
  bias: Float64Array.from(randomArray(OUT, 10 * k + 2), Math.fround),
  g: randomSpd(OUT, 10 * k + 3, 0.3),
  a: randomSpd(IN, 10 * k + 4, 0.3),
}));

const model = (t: Task): TensorData[] => [
  { name: 'layer.weight', dtype: 'F32', shape: [OUT, IN], data: Float32Array.from(t.weight) },
  { name: 'layer.bias', dtype: 'F32', shape: [OUT], data: Float32Array.from(t.bias) },
];
const stats = (t: Task, a = t.a, aShape = [IN, IN]): TensorData[] => [
  { name: 'layer.weight::input_gram', dtype: 'F64', shape: aShape, data: a },
  { name: 'layer.weight::grad_gram', dtype: 'F64', shape: [OUT, OUT], data: t.g },
];

const config = (out: string, statsOf: (i: number) => string, compute = ['precision: float64']) =>
  [
    'method: mats',
    'base: base.safetensors',
    'models:',
    ...Array.from({ length: MODELS }, (_, i) => `  - {path: task${i + 1}.safetensors, stats: ${statsOf(i + 1)}}`),
    'parameters: {subspace: kfac, rtol: 1.0e-12, iterations: 500, grad_damping: 0}',
    ...compute,
    `output: {path: ${out}, dtype: float64}`,
    '',
  ].join('\n');

let dir: string;

beforeAll(async () => {
  requireBuiltBin();
  dir = await mkdtemp(join(tmpdir(), 'mats-subspace-e2e-'));
  await writeSafetensorsFile(join(dir, 'base.safetensors'), model(tasks[0]));
  for (let i = 1; i <= MODELS; i++) {
    await writeSafetensorsFile(join(dir, `task${i}.safetensors`), model(tasks[i]));
    await writeSafetensorsFile(join(dir, `task${i}.stats.safetensors`), stats(tasks[i]));
  }
  // Task 2's statistics twice broken: a Gram of the wrong shape, a non-symmetric Gram.
  await writeSafetensorsFile(join(dir, 'wrong-shape.stats.safetensors'), stats(tasks[2], randomSpd(OUT, 99), [OUT, OUT]));
  const asymmetric = Float64Array.from(tasks[2].a);
  asymmetric[1] += 0.5;
  await writeSafetensorsFile(join(dir, 'asymmetric.stats.safetensors'), stats(tasks[2], asymmetric));
  await writeFile(join(dir, 'kfac.yaml'), config('merged', (i) => `task${i}.stats.safetensors`));
  await writeFile(join(dir, 'kfac-gpu.yaml'), config('merged-gpu', (i) => `task${i}.stats.safetensors`, ['precision: float32', 'backend: gpu']).replace('rtol: 1.0e-12', 'rtol: 1.0e-6'));
  await writeFile(join(dir, 'wrong-shape.yaml'), config('bad1', (i) => (i === 2 ? 'wrong-shape.stats.safetensors' : `task${i}.stats.safetensors`)));
  await writeFile(join(dir, 'asymmetric.yaml'), config('bad2', (i) => (i === 2 ? 'asymmetric.stats.safetensors' : `task${i}.stats.safetensors`)));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('mats merge with K-FAC statistics (end to end)', () => {
  it('merges to the dense solve of (sum G_i (x) A_i) vec W = sum vec(G_i W_i A_i), logs each solve, and averages the bias', async () => {
    const r = await mats(['merge', 'kfac.yaml', '--json-log', 'log.jsonl'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    // The plain log line: subspace, status, iterations, initial -> final residual.
    expect(r.stderr).toMatch(/^merged layer\.weight \[4, 3\] F64 in [\d.]+ s \(kfac, converged, \d+ iterations, residual \d\.\d\de[-+]\d+ -> \d\.\d\de[-+]\d+\)$/m);
    expect(r.stderr).toMatch(/^merged layer\.bias \[4\] F64 in [\d.]+ s \(fallback: average: kfac needs a 2-D \[out, in\] weight, this is \[4\]\)$/m);

    const n = OUT * IN;
    const system = new Float64Array(n * n);
    const rhs = new Float64Array(n);
    for (let i = 1; i <= MODELS; i++) {
      const k = referenceKronecker(tasks[i].g, tasks[i].a, OUT, IN);
      const kw = referenceMatVec(k, tasks[i].weight, n);
      k.forEach((v, j) => (system[j] += v));
      kw.forEach((v, j) => (rhs[j] += v));
    }
    const expected = referenceSpdSolve(system, rhs, n);
    const out = await Checkpoint.open(join(dir, 'merged'));
    try {
      const w = await out.readFloats('layer.weight', 'float64');
      for (let j = 0; j < n; j++) expect(Math.abs(w[j] - expected[j])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected[j])));
      const b = await out.readFloats('layer.bias', 'float64');
      for (let j = 0; j < OUT; j++) expect(Math.abs(b[j] - (tasks[1].bias[j] + tasks[2].bias[j] + tasks[3].bias[j]) / 3)).toBeLessThan(1e-12);
      expect(out.metadata.mats_method).toBe('mats');
      expect(JSON.parse(out.metadata.mats_parameters)).toMatchObject({ method: 'mats', parameters: { subspace: 'kfac', solver: 'cg', init: 'task_arithmetic', init_lambda: 0.3 }, nested: { init: { method: 'task_arithmetic' } } });
    } finally {
      await out.close();
    }

    const lines = (await readFile(join(dir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const weight = lines.find((l) => l.name === 'layer.weight');
    expect(weight).toMatchObject({ method: 'mats', status: 'converged', details: { subspace: 'kfac', rule: 'pcg' } });
    expect(weight.iterations).toBeGreaterThan(0);
    expect(weight.initialResidualNorm).toBeGreaterThan(weight.residualNorm);
    expect(weight.residualNorm).toBeLessThanOrEqual(1e-12 * Math.hypot(...rhs) * 1.0001);
    expect(lines.find((l) => l.name === 'layer.bias')).toMatchObject({ fallback: expect.stringMatching(/^average: kfac needs a 2-D/) });
  });

  it('runs the same K-FAC merge on the GPU backend in float32, to float32 accuracy', async () => {
    const r = await mats(['merge', 'kfac-gpu.yaml'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^merged layer\.weight \[4, 3\] F64 in [\d.]+ s \(kfac, converged, /m);
    const mode = /^backend: gpu \((\w+)\), precision float32$/m.exec(r.stderr)?.[1];
    // CI provides headless-gl under Xvfb: there the solve must have run on the GL path.
    if (process.env.MATS_REQUIRE_HEADLESSGL === '1') expect(mode).toBe('headlessgl');
    else expect(mode).toMatch(/^(headlessgl|webgl2|webgl|webasm|cpu)$/);
    const cpu = await Checkpoint.open(join(dir, 'merged'));
    const gpu = await Checkpoint.open(join(dir, 'merged-gpu'));
    try {
      const expected = await cpu.readFloats('layer.weight', 'float64');
      const got = await gpu.readFloats('layer.weight', 'float64');
      const scale = Math.max(...expected.map(Math.abs));
      // rtol 1e-6 on a well-conditioned 12 x 12 system, in float32 storage.
      for (let j = 0; j < expected.length; j++) expect(Math.abs(got[j] - expected[j])).toBeLessThanOrEqual(1e-4 * scale);
      expect(gpu.metadata.mats_method).toBe('mats');
    } finally {
      await cpu.close();
      await gpu.close();
    }
  });

  it('rejects a statistics file with a wrong shape before writing anything, naming file, key and shapes', async () => {
    const r = await mats(['merge', 'wrong-shape.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot merge: 1 problem found before reading any tensor:\n {2}- models\[1\]\.stats \(.*wrong-shape\.stats\.safetensors\): wrong shapes \(1\): layer\.weight::input_gram \[4, 4\], expected \[3, 3\]\n$/);
    expect((await readdir(dir)).filter((f) => f.includes('bad1'))).toEqual([]);
  });

  it('rejects a non-symmetric Gram before writing anything, naming the entries', async () => {
    const r = await mats(['merge', 'asymmetric.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot merge: 1 problem found before reading any tensor:\n {2}- models\[1\]\.stats \(.*asymmetric\.stats\.safetensors\): not symmetric \(1\): layer\.weight::input_gram \[0, 1\] = [-\d.e]+ but \[1, 0\] = [-\d.e]+ \(tolerance/);
    expect((await readdir(dir)).filter((f) => f.includes('bad2'))).toEqual([]);
    // validate runs the same checks.
    expect((await mats(['validate', 'asymmetric.yaml'], dir)).code).toBe(1);
  });
});
