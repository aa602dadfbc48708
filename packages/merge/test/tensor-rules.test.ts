/**
 * Per-tensor subspaces (issue 14): `tensors` rules choose the subspace and the factor knobs by
 * tensor name pattern, the first matching rule winning; merge() honours them and
 * `mats merge --dry-run` shows, per tensor, the subspace, damping and bias folding that will
 * be used (the same rules, from the headers alone).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { globPattern } from '../src/methods/tensor-rules.js';
import { writeModelFile, type Fixture } from './fixtures.js';
import { captureStream, tempFolder } from './helpers.js';
import { mergeInMemory } from './merge-harness.js';
import { closeTo, makeProblem, modelFixture, referenceAverage, referenceKfac, referenceRegmean, statsFixture, type Problem, type StatisticName } from './subspace-fixtures.js';

const ALL: StatisticName[] = ['fisher', 'input_gram', 'grad_gram', 'fisher_block'];
const enc = makeProblem({ seed: 101, models: 3, out: 3, inp: 4, weights: [1, 1, 1] });
const head = makeProblem({ seed: 102, models: 3, out: 2, inp: 3, weights: [1, 1, 1] });

/** The fixture's `layer.*` tensors (and statistics) renamed to `<prefix>.*`. */
const renamed = (f: Fixture, prefix: string): Fixture => Object.fromEntries(Object.entries(f).map(([k, v]) => [k.replace(/^layer\./, `${prefix}.`), v]));
const twoLayers = (pick: (p: Problem) => Fixture): Fixture => ({ ...renamed(pick(enc), 'enc'), ...renamed(pick(head), 'head') });

const inputs = {
  base: twoLayers((p) => modelFixture(p.base, p.out, p.inp)),
  models: enc.tasks.map((_, i) => twoLayers((p) => modelFixture(p.tasks[i], p.out, p.inp))),
  stats: enc.tasks.map((_, i) => twoLayers((p) => statsFixture(p.tasks[i], p.out, p.inp, ALL))),
  precision: 'float64' as const,
};

const RULES = {
  subspace: 'kfac',
  grad_damping: 0,
  tensors: [
    { pattern: 'head.*', subspace: 'gram' },
    { pattern: 'enc.weight', grad_damping: { absolute: 0.5 } },
    { pattern: '*.bias', subspace: 'identity' },
  ],
};

describe('mats: per-tensor rules', () => {
  it('globs match whole names: * any run of characters (dots too), ? one character', () => {
    expect(globPattern('layers.*.weight').test('layers.10.mlp.weight')).toBe(true);
    expect(globPattern('layers.?.weight').test('layers.10.weight')).toBe(false);
    expect(globPattern('head.*').test('lm_head.weight')).toBe(false);
    expect(globPattern('*norm*').test('model.layers.3.input_layernorm.weight')).toBe(true);
  });

  it('each tensor is merged with the first matching rule\'s subspace and knobs over the method\'s own', async () => {
    const r = await mergeInMemory({ method: 'mats', parameters: { ...RULES, rtol: 1e-13, iterations: 1000, init: 'zeros' }, ...inputs });
    // head.weight: gram (rule 0) -> RegMean; enc.weight: kfac with G + 0.5 I (rule 1); biases: identity (rule 2) -> average.
    expect(closeTo(r.tensors.get('head.weight'), referenceRegmean(head), 1e-9)).toBe(true);
    expect(closeTo(r.tensors.get('enc.weight'), referenceKfac(enc, 1, { grad: { absolute: 0.5 } }), 1e-9)).toBe(true);
    expect(closeTo(r.tensors.get('enc.weight'), referenceKfac(enc), 1e-4)).toBe(false);
    // head.bias matched rule 0 (gram, which does not fit a 1-D tensor): the average, saying why.
    expect(closeTo(r.tensors.get('head.bias'), referenceAverage(head, (t) => t.bias), 1e-12)).toBe(true);
    expect(closeTo(r.tensors.get('enc.bias'), referenceAverage(enc, (t) => t.bias), 1e-12)).toBe(true);
  });

  it('--dry-run shows the subspace, damping and folding chosen for each tensor', async () => {
    const dir = await tempFolder();
    const models: { path: string; stats: string }[] = [];
    await writeModelFile(join(dir, 'base.safetensors'), inputs.base);
    for (let i = 0; i < inputs.models.length; i++) {
      await writeModelFile(join(dir, `m${i}.safetensors`), inputs.models[i]);
      const stats = { ...inputs.stats[i], 'enc.weight::input_mean': { dtype: 'F64' as const, shape: [4], data: Float64Array.from([0.1, 0.2, 0.3, 0.4]) } };
      await writeModelFile(join(dir, `m${i}.stats.safetensors`), stats);
      models.push({ path: `m${i}.safetensors`, stats: `m${i}.stats.safetensors` });
    }
    const config = join(dir, 'merge.yaml');
    const dryRun = async (parameters: Record<string, unknown>) => {
      await writeFile(config, JSON.stringify({ method: 'mats', base: 'base.safetensors', models, parameters, output: { path: 'out' } }));
      const stdout = captureStream();
      const stderr = captureStream();
      return { status: await runCli(['merge', config, '--dry-run'], { stdout, stderr }), stdout: stdout.text, stderr: stderr.text };
    };
    const plan = async (parameters: Record<string, unknown>) => {
      const { status, stdout, stderr } = await dryRun(parameters);
      expect(status, stderr).toBe(0);
      return stdout;
    };
    const ruled = await plan(RULES);
    expect(ruled).toMatch(/head\.weight +\[2, 3\] +F32 +mats: gram, tensors\[0\], damping A 0\n/);
    expect(ruled).toMatch(/head\.bias +\[2\] +F32 +mats: average: gram needs a 2-D \[out, in\] weight, this is \[2\]\n/);
    expect(ruled).toMatch(/enc\.weight +\[3, 4\] +F32 +mats: kfac, tensors\[1\], folded \[enc\.weight \| enc\.bias\], damping G abs 0\.5, A 0\n/);
    // The bias follows its weight's rule once folded (its own rule, identity, no longer applies).
    expect(ruled).toMatch(/enc\.bias +\[3\] +F32 +mats: kfac, tensors\[1\], folded \[enc\.weight \| enc\.bias\]\n/);
    const defaults = await plan({});
    expect(defaults).toMatch(/enc\.weight +\[3, 4\] +F32 +mats: kfac, folded \[enc\.weight \| enc\.bias\], damping G shared 1, A 0\n/);
    expect(defaults).toMatch(/head\.weight +\[2, 3\] +F32 +mats: kfac, damping G shared 1, A 0\n/);
    expect(defaults).toMatch(/head\.bias +\[2\] +F32 +mats: block, damping 0\n/);
    const unfolded = await plan({ fold_bias: false, subspace: 'gram', shrink: 0.9, damping: 1e-3 });
    expect(unfolded).toMatch(/enc\.weight +\[3, 4\] +F32 +mats: gram, shrink 0\.9, damping A 0\.001\n/);
    expect(unfolded).toMatch(/enc\.bias +\[3\] +F32 +mats: average: gram needs a 2-D/);
    const typo = await dryRun({ subspace: 'gram', tensors: [{ pattern: 'enc.*', subspace: 'kfca' }] });
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/parameters\.tensors\[0\]\.subspace: "kfca" is not one of .*; did you mean 'kfac'\?/);
  });
});
