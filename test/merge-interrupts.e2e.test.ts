/**
 * Issue 13, cases 7 and 9, through the built `mats` bin:
 *   7. SIGINT or SIGTERM during a long mats K-FAC solve stops the merge (exit 130 / 143), and
 *      leaves no output, complete-looking or partial.
 *   9. After SIGKILL of the whole merge (a power cut) the temporary folder stays, with its owner
 *      record; `--dry-run` names it, and the next merge into the same output removes it.
 * The time from the signal to the exit is printed (not asserted: timings on a shared machine are
 * measured by benchmarks, not tests).
 * Needs `npm run build` first (npm test does it).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensorsFile, type TensorData } from '@mats/merge';
import { mats, requireBuiltBin, startMats } from './mats-bin.js';

/** Side of the K-FAC weight: one CG iteration applies 4 products of n x n matrices (2 models). */
const N = 768;

/** Deterministic values in [-1, 1). */
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.7 + seed * 13.1));

/** A diagonal factor with eigenvalues spread over [1e-6, 1]: CG on the Kronecker sum needs thousands of iterations. */
function spreadDiagonal(n: number, shift: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 10 ** ((-6 * ((i * 7 + shift) % n)) / n);
  return m;
}

const model = (seed: number): TensorData[] => [
  { name: 'a.small', dtype: 'F32', shape: [4], data: values(4, seed) },
  { name: 'b.weight', dtype: 'F32', shape: [N, N], data: values(N * N, seed) },
];

const LONG = [
  'method: mats',
  'base: base.safetensors',
  'models:',
  '  - {path: a.safetensors, stats: a.stats.safetensors}',
  '  - {path: b.safetensors, stats: b.stats.safetensors}',
  // No preconditioner and a tight rtol in float64: minutes of CG, far past any signal below.
  'parameters: {subspace: kfac, preconditioner: none, iterations: 100000, rtol: 1.0e-13}',
  'precision: float64',
  'output: {path: out}',
  '',
].join('\n');
const QUICK = 'method: average\nmodels: [{path: a.safetensors}, {path: b.safetensors}]\noutput: {path: out}\n';

let dir: string;

beforeAll(async () => {
  requireBuiltBin();
  dir = await mkdtemp(join(tmpdir(), 'mats-interrupts-e2e-'));
  for (const [name, seed] of [['base', 0], ['a', 1], ['b', 2]] as const) await writeSafetensorsFile(join(dir, `${name}.safetensors`), model(seed));
  for (const [name, shift] of [['a', 1], ['b', 3]] as const) {
    await writeSafetensorsFile(join(dir, `${name}.stats.safetensors`), [
      { name: 'b.weight::input_gram', dtype: 'F32', shape: [N, N], data: spreadDiagonal(N, shift) },
      { name: 'b.weight::grad_gram', dtype: 'F32', shape: [N, N], data: spreadDiagonal(N, 2 * shift) },
    ]);
  }
  await writeFile(join(dir, 'long.yaml'), LONG);
  await writeFile(join(dir, 'quick.yaml'), QUICK);
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const leftovers = async () => (await readdir(dir)).filter((f) => f === 'out' || f.startsWith('.out'));

describe('interrupting a merge (case 7)', () => {
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} during a long K-FAC solve: exit ${status}, the partial output removed`, async () => {
      const run = startMats(['merge', 'long.yaml'], dir);
      // The first tensor is written, the solve of the second has started.
      await run.waitFor(/merged a\.small/);
      await new Promise((r) => setTimeout(r, 1500));
      const sent = performance.now();
      run.child.kill(signal);
      const { code } = await run.exited;
      console.log(`case 7: ${signal}: exit ${code} ${((performance.now() - sent) / 1000).toFixed(3)} s after the signal`);
      expect(code).toBe(status);
      const last = run.output().trimEnd().split('\n').at(-1);
      expect(last).toMatch(new RegExp(`^error: merge interrupted by ${signal}; removed the partial output ${dir}/\\.out\\.partial-[0-9a-f]{8}; nothing was written$`));
      expect(await leftovers()).toEqual([]);
    }, 60_000);
  }
});

describe('a killed merge (case 9)', () => {
  it('SIGKILL leaves the temporary folder; --dry-run names it; the next merge removes it', async () => {
    const run = startMats(['merge', 'long.yaml'], dir, { detached: true });
    await run.waitFor(/merged a\.small/);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-run.child.pid!, 'SIGKILL'); // the supervisor and the merging child at once
    expect((await run.exited).signal).toBe('SIGKILL');

    const [temp] = await leftovers();
    expect(temp).toMatch(/^\.out\.partial-[0-9a-f]{8}$/);
    const owner = JSON.parse(await readFile(join(dir, temp, '.mats-merge-owner.json'), 'utf8')) as { pid: number };
    // The preallocated output, as large as the model, is what a killed merge leaves behind.
    expect((await stat(join(dir, temp, 'model.safetensors'))).size).toBeGreaterThan(4 * N * N);

    const dry = await mats(['merge', 'quick.yaml', '--dry-run'], dir);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`temporary folder ${dir}/${temp} \\(\\d+\\.\\d+ MB\\) left by an earlier merge: its merge \\(pid ${owner.pid} on .*\\) is no longer running; mats merge removes it before writing`));
    expect(await leftovers()).toEqual([temp]);

    const merged = await mats(['merge', 'quick.yaml'], dir);
    expect(merged.code).toBe(0);
    expect(merged.stderr).toMatch(new RegExp(`removed temporary folder ${dir}/${temp} .* is no longer running`));
    expect(await leftovers()).toEqual(['out']);
    await rm(join(dir, 'out'), { recursive: true });
  }, 90_000);
});
