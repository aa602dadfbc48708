/**
 * Issue 13, cases 5 and 11: one rule for NaN and Inf, whatever the method. A non-finite value in
 * a weight (base or model) or in a statistic stops the merge before an output exists, with one
 * message naming the file, the tensor and the first bad index; --allow-nonfinite (or
 * allow_nonfinite: true in the config) merges anyway with a warning. Merged values that overflow
 * the output dtype are refused the same way. Through the CLI, in process.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { firstNonFinite } from '../src/pipeline/nonfinite.js';
import { writeSafetensorsFile, type TensorData } from '../src/safetensors/writer.js';
import { randomValues } from './fixtures.js';
import { readAllFloats } from './merge-harness.js';
import { captureStream, tempFolder } from './helpers.js';

const METHODS = ['average', 'task_arithmetic', 'ties', 'dare', 'fisher', 'regmean', 'mats'] as const;

/** [n, n] symmetric, diagonally dominant: a valid Gram. */
function gram(n: number, seed: number): Float32Array {
  const r = randomValues(n * n, seed);
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = i === j ? n + Math.abs(r[i * n + j]) : 0.1 * r[i * n + j];
  return m;
}

function model(seed: number, weight?: (w: Float32Array) => void): TensorData[] {
  const w = randomValues(48, seed);
  weight?.(w);
  return [
    { name: 'l.weight', dtype: 'F32', shape: [8, 6], data: w },
    { name: 'l.bias', dtype: 'F32', shape: [8], data: randomValues(8, seed + 100) },
  ];
}

function stats(seed: number, fisher?: (f: Float32Array) => void): TensorData[] {
  const f = randomValues(48, seed).map((x) => Math.abs(x) + 0.1);
  fisher?.(f);
  return [
    { name: 'l.weight::fisher', dtype: 'F32', shape: [8, 6], data: f },
    { name: 'l.weight::input_gram', dtype: 'F32', shape: [6, 6], data: gram(6, seed + 1) },
    { name: 'l.weight::grad_gram', dtype: 'F32', shape: [8, 8], data: gram(8, seed + 2) },
    { name: 'l.bias::fisher', dtype: 'F32', shape: [8], data: randomValues(8, seed + 3).map((x) => Math.abs(x) + 0.1) },
  ];
}

/** base, a (finite) and b (a NaN at l.weight [2, 3] unless told otherwise), with statistics. */
async function inputs(options: { b?: (w: Float32Array) => void; base?: (w: Float32Array) => void; bStats?: (f: Float32Array) => void } = {}): Promise<string> {
  const dir = await tempFolder();
  await writeSafetensorsFile(join(dir, 'base.safetensors'), model(1, options.base));
  await writeSafetensorsFile(join(dir, 'a.safetensors'), model(2));
  await writeSafetensorsFile(join(dir, 'b.safetensors'), model(3, options.b ?? ((w) => (w[2 * 6 + 3] = NaN))));
  await writeSafetensorsFile(join(dir, 'a.stats.safetensors'), stats(4));
  await writeSafetensorsFile(join(dir, 'b.stats.safetensors'), stats(5, options.bStats));
  return dir;
}

async function merge(dir: string, method: string, extraArgs: string[] = [], extraConfig = ''): Promise<{ code: number; stderr: string; stdout: string }> {
  const config = `method: ${method}\nbase: base.safetensors\nmodels:\n  - {path: a.safetensors, stats: a.stats.safetensors}\n  - {path: b.safetensors, stats: b.stats.safetensors}\noutput: {path: out}\n${extraConfig}`;
  await writeFile(join(dir, 'merge.yaml'), config);
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(['merge', join(dir, 'merge.yaml'), ...extraArgs], { stdout, stderr });
  return { code, stderr: stderr.text, stdout: stdout.text };
}

describe('firstNonFinite', () => {
  it('finds the first NaN or Inf of any float32 or float64 array, in any range', () => {
    const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 3.4e38, -1e-45, 1.7976931348623157e308);
    fc.assert(
      fc.property(fc.array(fc.oneof({ weight: 12, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: special }), { maxLength: 40 }), fc.boolean(), fc.nat(), fc.nat(), (xs, f32, a, b) => {
        const values = f32 ? Float32Array.from(xs) : Float64Array.from(xs);
        const start = values.length === 0 ? 0 : a % (values.length + 1);
        const end = start + (b % (values.length - start + 1));
        // Reference: the plain definition (float32 may round a large double to Inf).
        let expected = -1;
        for (let i = start; i < end && expected < 0; i++) if (!Number.isFinite(values[i])) expected = i;
        expect(firstNonFinite(values, start, end)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

const nothingWritten = async (dir: string) => expect((await readdir(dir)).filter((f) => f.startsWith('out') || f.startsWith('.out'))).toEqual([]);

describe('non-finite values: one rule for every method', () => {
  for (const method of METHODS) {
    it(`${method} refuses a NaN in a model, naming the file, the tensor and the index, and writes nothing`, async () => {
      const dir = await inputs();
      const r = await merge(dir, method, ['--quiet']);
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `error: the merge stopped: models[1] (${join(dir, 'b.safetensors')}): tensor "l.weight" [8, 6] holds NaN at [2, 3]; nothing was written ` +
          '(to merge anyway, pass --allow-nonfinite or set allow_nonfinite: true in the config)',
      );
      await nothingWritten(dir);
    });
  }

  it('refuses an Inf in the base the same way', async () => {
    const dir = await inputs({ b: () => undefined, base: (w) => (w[47] = -Infinity) });
    const r = await merge(dir, 'task_arithmetic', ['--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`base (${join(dir, 'base.safetensors')}): tensor "l.weight" [8, 6] holds -Infinity at [7, 5]`);
    await nothingWritten(dir);
  });

  it('refuses a NaN in a statistic before reading any tensor, naming the file, the key and the index', async () => {
    const dir = await inputs({ b: () => undefined, bStats: (f) => (f[9] = NaN) });
    const r = await merge(dir, 'fisher', ['--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`models[1].stats (${join(dir, 'b.stats.safetensors')}): non-finite values (1): l.weight::fisher NaN at [1, 3]`);
    expect(r.stderr).toContain('non-finite statistics: fix them, or to merge anyway, pass --allow-nonfinite');
    await nothingWritten(dir);
  });

  it('--allow-nonfinite merges with one warning per tensor; the NaN stays where it was', async () => {
    const dir = await inputs();
    const r = await merge(dir, 'average', ['--quiet', '--allow-nonfinite']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`warning: models[1] (${join(dir, 'b.safetensors')}): tensor "l.weight" [8, 6] holds NaN at [2, 3] (--allow-nonfinite: merged anyway; later non-finite values of this tensor are not reported)\n`);
    const out = (await readAllFloats(join(dir, 'out'))).get('l.weight')!;
    const a = randomValues(48, 2);
    const b = randomValues(48, 3);
    out.forEach((v, k) => (k === 15 ? expect(v).toBeNaN() : expect(v).toBeCloseTo((a[k] + b[k]) / 2, 6)));
  });

  it('allow_nonfinite: true in the config does the same', async () => {
    const dir = await inputs();
    const r = await merge(dir, 'ties', ['--quiet'], 'allow_nonfinite: true\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: models\[1\] .*holds NaN at \[2, 3\]/);
  });

  it('a solve cannot take a NaN even when allowed: it stops with its own non-finite status', async () => {
    const dir = await inputs();
    const r = await merge(dir, 'mats', ['--quiet', '--allow-nonfinite']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: models\[1\].*\nerror: tensor l\.weight \(subspace kfac\): the solve produced a non-finite value/);
    await nothingWritten(dir);
  });

  it('refuses merged values that the output dtype cannot hold (F16 above 65504), from finite inputs', async () => {
    const dir = await inputs({ b: (w) => (w[4] = 2e5) });
    await writeFile(join(dir, 'merge.yaml'), `method: average\nmodels: [{path: a.safetensors}, {path: b.safetensors}]\noutput: {path: out, dtype: float16}\n`);
    const stderr = captureStream();
    expect(await runCli(['merge', join(dir, 'merge.yaml'), '--quiet'], { stdout: captureStream(), stderr })).toBe(1);
    expect(stderr.text).toMatch(/^error: the merge stopped: method average: merged tensor "l\.weight" \[8, 6\] has 100000\.\d+ at \[0, 4\] and F16 holds at most 65504 in magnitude/);
    await nothingWritten(dir);
  });
});
