/**
 * Statistics files are checked before any output is written: every key against its tensor
 * (from the headers), then the values of every statistic the merge will read (finite,
 * symmetric, no negative Fisher or Gram diagonal entry). Each fault is named.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { checkStatisticsHeaders, checkSymmetricMatrix, symmetryTolerance } from '../src/pipeline/statistics-checks.js';
import { writeModelFile, type Fixture } from './fixtures.js';
import { tempFolder } from './helpers.js';
import { mergeInMemory } from './merge-harness.js';
import { closeTo, harnessInputs, makeProblem, referenceRegmean, type Problem, type StatisticName } from './subspace-fixtures.js';

const ALL: StatisticName[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];
const problem = makeProblem({ seed: 9, models: 2, out: 3, inp: 2, weights: [1, 1] });

/** Merges with model 1's statistics edited; returns the problems, and what is left in the folder. */
async function rejected(method: string, parameters: Record<string, unknown>, edit: (stats: Fixture) => void, p: Problem = problem): Promise<string> {
  const inputs = harnessInputs(p, ALL);
  edit(inputs.stats[1]);
  let error: unknown;
  try {
    await mergeInMemory({ method, parameters, ...inputs });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).problems.join('\n');
}

const f64 = (shape: number[], data: number[]) => ({ dtype: 'F64' as const, shape, data: Float64Array.from(data) });

describe('statistics files: headers', () => {
  it('names a wrong shape, an unknown kind, a key of no tensor, a kind that does not fit its tensor', async () => {
    const text = await rejected('mats', { subspace: 'kfac' }, (s) => {
      s['layer.weight::input_gram'] = f64([3, 3], new Array(9).fill(1));
      s['layer.weight::fishr'] = f64([3, 2], new Array(6).fill(1));
      s['layer.wieght::fisher'] = f64([3, 2], new Array(6).fill(1));
      s['layer.bias::grad_gram'] = f64([3, 3], new Array(9).fill(1));
      s['nonsense'] = f64([1], [1]);
    });
    expect(text).toMatch(/models\[1\]\.stats \(.*model1\.stats\.safetensors\): wrong shapes \(1\): layer\.weight::input_gram \[3, 3\], expected \[2, 2\]/);
    expect(text).toMatch(/unknown statistic kinds \(known: fisher, input_gram, grad_gram, fisher_block, input_mean\) \(1\): layer\.weight::fishr; did you mean 'fisher'\?/);
    expect(text).toMatch(/statistics of tensors the models do not have \(1\): layer\.wieght::fisher; did you mean 'layer\.weight'\?/);
    expect(text).toMatch(/statistics that do not apply to their tensor \(1\): layer\.bias::grad_gram: grad_gram is for 2-D \[out, in\] weights, the tensor is \[3\]/);
    expect(text).toMatch(/keys that are not '<tensor>::<kind>' \(1\): nonsense/);
    expect(text).not.toMatch(/models\[0\]/);
  });

  it('metadata n_examples, when present, is a positive integer', async () => {
    const dir = await tempFolder();
    const problems: string[] = [];
    const sink = { add: (line: string) => problems.push(line), group: (subject: string, item: string) => problems.push(`${subject}: ${item}`) };
    const shapes = new Map([['w', [2, 2]]]);
    for (const [n, ok] of [['1000', true], ['0', false], ['12.5', false], ['many', false]] as const) {
      const path = join(dir, `s${n}.safetensors`);
      await writeModelFile(path, { 'w::input_gram': f64([2, 2], [1, 0, 0, 1]) }, { n_examples: n });
      const file = await Checkpoint.open(path);
      problems.length = 0;
      checkStatisticsHeaders(file, 'models[0].stats', shapes, sink);
      await file.close();
      if (ok) expect(problems).toEqual([]);
      else expect(problems.join('\n')).toMatch(new RegExp(`metadata n_examples must be a positive integer, got "${n.replace('.', '\\.')}"`));
    }
  });

  it('a model whose statistics give the method nothing is a problem, not a silent average', async () => {
    const p = problem;
    const inputs = harnessInputs(p, (i) => (i === 1 ? ['fisher_block'] : ALL));
    await expect(mergeInMemory({ method: 'regmean', ...inputs })).rejects.toThrow(
      /models\[1\]\.stats \(.*\): none of its keys is a statistic method regmean uses \(input_gram, input_mean\) \(keys look like 'layer\.weight::input_gram'\); every tensor would fall back to the average/,
    );
    const noFile = { ...inputs, stats: [inputs.stats[0], undefined] };
    await expect(mergeInMemory({ method: 'fisher', ...noFile })).rejects.toThrow(/models\[1\]: no stats file, but method fisher merges in task subspaces estimated from statistics \(fisher\)/);
    // A model of weight 0 takes no part and needs none.
    const r = await mergeInMemory({ method: 'fisher', ...noFile, weights: [1, 0] });
    expect(closeTo(r.tensors.get('layer.bias'), p.tasks[0].bias, 1e-12)).toBe(true);
  });
});

describe('statistics files: values, before any output is written', () => {
  it('rejects a non-symmetric Gram, NaN, a negative Fisher entry and a negative Gram diagonal, naming each', async () => {
    const text = await rejected('mats', { subspace: 'auto' }, (s) => {
      s['layer.weight::input_gram'] = f64([2, 2], [1, 0.5, 0.2, 1]);
      s['layer.weight::grad_gram'] = f64([3, 3], [1, 0, 0, 0, -1, 0, 0, 0, 1]);
      s['layer.weight::fisher'] = f64([3, 2], [1, 1, 1, NaN, 1, 1]);
      s['layer.bias::fisher'] = f64([3], [1, -2, 1]);
    });
    expect(text).toMatch(/not symmetric \(1\): layer\.weight::input_gram \[0, 1\] = 0\.5 but \[1, 0\] = 0\.2 \(tolerance 1\.00e-4; symmetrise it/);
    expect(text).toMatch(/negative diagonal entries \(not positive semi-definite\) \(1\): layer\.weight::grad_gram -1 at \[1, 1\]/);
    expect(text).toMatch(/non-finite values \(1\): layer\.weight::fisher NaN at \[1, 1\]/);
    expect(text).toMatch(/negative diagonal Fisher entries .* layer\.bias::fisher -2 at \[1\]/);
  });

  it('leaves no output behind', async () => {
    const dir = await tempFolder();
    const inputs = harnessInputs(problem, ALL);
    inputs.stats[0]['layer.weight::input_gram'] = f64([2, 2], [1, 3, 0, 1]);
    await expect(mergeInMemory({ method: 'regmean', ...inputs, dir })).rejects.toThrow(/not symmetric/);
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.safetensors')).length).toBe(5); // base, 2 models, 2 statistics files
    expect(names.filter((n) => !n.endsWith('.safetensors'))).toEqual([]);
  });

  it('checks only what the merge reads: a broken Gram is no problem for fisher', async () => {
    const inputs = harnessInputs(problem, ALL);
    inputs.stats[1]['layer.weight::input_gram'] = f64([2, 2], [1, 3, 0, 1]);
    const r = await mergeInMemory({ method: 'fisher', ...inputs });
    const names = await readdir(r.dir);
    expect(names).toContain('out');
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('accepts a float32 Gram asymmetric by rounding, and merges its symmetric part', async () => {
    const p = problem;
    const inputs = harnessInputs(p, ['input_gram']);
    // Each off-diagonal pair differs by ~1e-6 relative (a float32 accumulation in two orders).
    inputs.stats.forEach((s, i) => {
      const a = p.tasks[i].inputGram;
      s['layer.weight::input_gram'] = { dtype: 'F32', shape: [2, 2], data: Float32Array.from([a[0], a[1] * (1 + 1e-6), a[2] * (1 - 1e-6), a[3]]) };
    });
    const r = await mergeInMemory({ method: 'regmean', ...inputs });
    const symmetric: Problem = {
      ...p,
      tasks: p.tasks.map((t) => {
        const a = Float32Array.from([t.inputGram[0], t.inputGram[1] * (1 + 1e-6), t.inputGram[2] * (1 - 1e-6), t.inputGram[3]]);
        const off = (a[1] + a[2]) / 2;
        return { ...t, inputGram: Float64Array.from([a[0], off, off, a[3]]) };
      }),
    };
    expect(closeTo(r.tensors.get('layer.weight'), referenceRegmean(symmetric), 1e-10)).toBe(true);
  });
});

describe('symmetry tolerance', () => {
  it('is max(1e-4, 4u) of the stored dtype, relative to the largest entry', () => {
    expect(symmetryTolerance('F64')).toBe(1e-4);
    expect(symmetryTolerance('F32')).toBe(1e-4);
    expect(symmetryTolerance('BF16')).toBe(2 ** -6);
    const faults: string[] = [];
    const report = (subject: string, item: string) => faults.push(`${subject}: ${item}`);
    checkSymmetricMatrix(Float64Array.from([100, 0.009, 0, 1]), 2, 'F32', 'm', report); // off by 0.009 <= 1e-4 * 100
    expect(faults).toEqual([]);
    checkSymmetricMatrix(Float64Array.from([100, 0.011, 0, 1]), 2, 'F32', 'm', report);
    expect(faults).toHaveLength(1);
    checkSymmetricMatrix(Float64Array.from([1, 0.011, 0, 1]), 2, 'BF16', 'm', report); // 0.011 <= 2^-6
    expect(faults).toHaveLength(1);
  });
});
