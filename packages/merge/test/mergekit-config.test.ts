/**
 * mergekit configs as they are: every mapped mergekit method merges, through the mergekit
 * config, to the same tensors as the native config with the same knobs (written here by hand,
 * not by the converter); the deterministic ones also match a numpy reference written from
 * mergekit's documentation (mergekit_reference.py); a key or method without an exact mats
 * equivalent is refused by name.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { captureStream, expectTensorsClose, mergeConfigFile, randomValues, tempFolder, writeModelFile, type Fixture } from '@mats/merge/testing';
import { runCli } from '../src/cli/run-cli.js';
import { ValidationError } from '../src/errors.js';
import { parseConfig } from '../src/config/load.js';

const REFERENCE = fileURLToPath(new URL('./mergekit_reference.py', import.meta.url));

/** Whether python3 with numpy is here (it is in CI; the numpy comparisons say so when it is not). */
const numpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const LAYERS = 3;
function shapes(): Record<string, number[]> {
  const s: Record<string, number[]> = { 'model.embed_tokens.weight': [8, 4] };
  for (let l = 0; l < LAYERS; l++) {
    s[`model.layers.${l}.self_attn.q_proj.weight`] = [4, 4];
    s[`model.layers.${l}.mlp.up_proj.weight`] = [6, 4];
    s[`model.layers.${l}.input_layernorm.weight`] = [4];
  }
  s['model.norm.weight'] = [4];
  s['lm_head.weight'] = [8, 4];
  return s;
}

/** The base, and fine-tuned models = base + a task vector of their own (float32 values). */
function models(): Record<string, Fixture> {
  const out: Record<string, Fixture> = {};
  const names = ['base', 'math', 'code', 'chat'];
  names.forEach((model, m) => {
    const fixture: Fixture = {};
    Object.entries(shapes()).forEach(([name, shape], k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const base = randomValues(n, 100 + k);
      const tau = randomValues(n, 1000 * (m + 1) + k);
      fixture[name] = { dtype: 'F32', shape, data: m === 0 ? base : Float32Array.from(base, (b, j) => b + 0.1 * tau[j]) };
    });
    out[model] = fixture;
  });
  return out;
}

/** Writes the four models as Hugging Face folders under dir. */
async function writeModels(dir: string): Promise<Record<string, Fixture>> {
  const all = models();
  for (const [name, fixture] of Object.entries(all)) {
    await mkdir(join(dir, name), { recursive: true });
    await writeModelFile(join(dir, name, 'model.safetensors'), fixture);
  }
  return all;
}

async function runConfig(dir: string, file: string, text: string, out: string) {
  await writeFile(join(dir, file), text);
  return (await mergeConfigFile(join(dir, file), join(dir, out), { cwd: dir })).tensors;
}

/** The numpy reference of a mergekit config on these models. */
function reference(config: unknown, fixtures: Record<string, Fixture>): Map<string, Float64Array> {
  const tensors = Object.fromEntries(
    Object.entries(fixtures).map(([path, f]) => [path, Object.fromEntries(Object.entries(f).map(([name, t]) => [name, { shape: t.shape, data: [...(t.data as Float32Array)] }]))]),
  );
  const out = execFileSync('python3', [REFERENCE], { input: JSON.stringify({ config, tensors }), maxBuffer: 1 << 26 });
  return new Map(Object.entries(JSON.parse(out.toString()) as Record<string, number[]>).map(([k, v]) => [k, Float64Array.from(v)]));
}

interface Case {
  readonly title: string;
  /** The mergekit config (model paths relative to the working folder). */
  readonly mergekit: Record<string, unknown>;
  /** The native config with the same knobs, by hand. */
  readonly native: Record<string, unknown>;
  /** Whether the numpy reference computes it (DARE draws at random: no). */
  readonly deterministic: boolean;
}

const CASES: readonly Case[] = [
  {
    title: 'linear',
    mergekit: { merge_method: 'linear', models: [{ model: 'math', parameters: { weight: 0.3 } }, { model: 'code', parameters: { weight: 0.5 } }, { model: 'chat', parameters: { weight: 0.2 } }], dtype: 'float32' },
    native: { method: 'average', models: [{ path: 'math', weight: 0.3 }, { path: 'code', weight: 0.5 }, { path: 'chat', weight: 0.2 }], output: { dtype: 'float32' } },
    deterministic: true,
  },
  {
    title: 'task_arithmetic (a sum: not normalised)',
    mergekit: { merge_method: 'task_arithmetic', base_model: 'base', models: [{ model: 'math', parameters: { weight: 0.7 } }, { model: 'code', parameters: { weight: 1.3 } }], parameters: { lambda: 0.8 }, dtype: 'float32' },
    native: { method: 'task_arithmetic', base: 'base', models: [{ path: 'math', weight: 0.7 }, { path: 'code', weight: 1.3 }], parameters: { lambda: 0.8, normalize: false }, output: { dtype: 'float32' } },
    deterministic: true,
  },
  {
    title: 'task_arithmetic with normalize: true',
    mergekit: { merge_method: 'task_arithmetic', base_model: 'base', models: [{ model: 'math', parameters: { weight: 0.7 } }, { model: 'code', parameters: { weight: 1.3 } }], parameters: { normalize: true } },
    native: { method: 'task_arithmetic', base: 'base', models: [{ path: 'math', weight: 0.7 }, { path: 'code', weight: 1.3 }], parameters: { normalize: true } },
    deterministic: true,
  },
  {
    title: 'ties with per-model density and weight, gradients and filters (the mergekit README example)',
    mergekit: {
      merge_method: 'ties',
      base_model: 'base',
      models: [
        { model: 'math', parameters: { density: [1, 0.7, 0.1], weight: 1.0 } },
        { model: 'code', parameters: { density: 0.5, weight: [0, 0.3, 0.7, 1] } },
        { model: 'chat', parameters: { density: 0.33, weight: [{ filter: 'mlp', value: 0.5 }, { value: 0 }] } },
      ],
      parameters: { normalize: true, int8_mask: true },
      dtype: 'float32',
    },
    native: {
      method: 'ties',
      base: 'base',
      models: [
        { path: 'math', density: [1, 0.7, 0.1], weight: 1 },
        { path: 'code', density: 0.5, weight: [0, 0.3, 0.7, 1] },
        { path: 'chat', density: 0.33, weight: [{ filter: 'mlp', value: 0.5 }, { value: 0 }] },
      ],
      parameters: { density: 1, trim: 'per_tensor', sign_election: 'weighted', zero_sign: 'positive', normalize: true, rescale: 'none', lambda: 1 },
      output: { dtype: 'float32' },
    },
    deterministic: true,
  },
  {
    title: 'ties with rescale: true, global density and lambda',
    mergekit: { merge_method: 'ties', base_model: 'base', models: [{ model: 'math' }, { model: 'code', parameters: { density: 0.3 } }], parameters: { weight: 1, density: 0.6, rescale: true, lambda: 0.9 } },
    native: {
      method: 'ties',
      base: 'base',
      models: [{ path: 'math', weight: 1 }, { path: 'code', weight: 1, density: 0.3 }],
      parameters: { density: 0.6, trim: 'per_tensor', sign_election: 'weighted', zero_sign: 'positive', normalize: true, rescale: 'l1', lambda: 0.9 },
    },
    deterministic: true,
  },
  {
    title: 'dare_ties',
    mergekit: { merge_method: 'dare_ties', base_model: 'base', models: [{ model: 'math', parameters: { weight: 0.6, density: 0.5 } }, { model: 'code', parameters: { weight: 0.4, density: 0.75 } }] },
    native: {
      method: 'dare',
      base: 'base',
      models: [{ path: 'math', weight: 0.6, p: 0.5 }, { path: 'code', weight: 0.4, p: 0.25 }],
      parameters: { combine: 'ties', p: 0, density: 1, trim: 'per_tensor', sign_election: 'weighted', zero_sign: 'positive', rescale: 'l1', normalize: false, lambda: 1 },
    },
    deterministic: false,
  },
  {
    title: 'dare_linear',
    mergekit: { merge_method: 'dare_linear', base_model: 'base', models: [{ model: 'math', parameters: { weight: 1, density: 0.5 } }, { model: 'code', parameters: { weight: 1, density: 0.5 } }], parameters: { lambda: 0.5 } },
    native: { method: 'dare', base: 'base', models: [{ path: 'math', weight: 1, p: 0.5 }, { path: 'code', weight: 1, p: 0.5 }], parameters: { p: 0, rescale: 'l1', normalize: false, lambda: 0.5 } },
    deterministic: false,
  },
  {
    title: 'breadcrumbs',
    mergekit: { merge_method: 'breadcrumbs', base_model: 'base', models: [{ model: 'math', parameters: { weight: 0.5, density: 0.6, gamma: 0.1 } }, { model: 'code', parameters: { weight: 0.5 } }], parameters: { density: 0.8, gamma: 0.05 } },
    native: { method: 'breadcrumbs', base: 'base', models: [{ path: 'math', weight: 0.5, density: 0.6, gamma: 0.1 }, { path: 'code', weight: 0.5 }], parameters: { combine: 'task_arithmetic', density: 0.8, gamma: 0.05, normalize: false, rescale: 'none' } },
    deterministic: true,
  },
  {
    title: 'breadcrumbs_ties with rescale',
    mergekit: { merge_method: 'breadcrumbs_ties', base_model: 'base', models: [{ model: 'math', parameters: { weight: 0.5, density: 0.5, gamma: 0.2 } }, { model: 'code', parameters: { weight: 0.7, density: 0.7 } }, { model: 'chat', parameters: { weight: 0.2, density: 0.9 } }], parameters: { rescale: true } },
    native: {
      method: 'breadcrumbs',
      base: 'base',
      models: [{ path: 'math', weight: 0.5, density: 0.5, gamma: 0.2 }, { path: 'code', weight: 0.7, density: 0.7 }, { path: 'chat', weight: 0.2, density: 0.9 }],
      parameters: { combine: 'ties', sign_election: 'weighted', zero_sign: 'positive', density: 1, gamma: 0.01, normalize: false, rescale: 'l1' },
    },
    deterministic: true,
  },
];

describe('mergekit configs', () => {
  for (const c of CASES) {
    it(`${c.title}: the mergekit config merges to the same tensors as the native one${c.deterministic ? ', and to the numpy reference' : ''}`, async () => {
      const dir = await tempFolder();
      const fixtures = await writeModels(dir);
      const viaMergekit = await runConfig(dir, 'mergekit.yml', JSON.stringify(c.mergekit), 'out-mergekit');
      const viaNative = await runConfig(dir, 'native.yaml', JSON.stringify(c.native), 'out-native');
      expectTensorsClose(viaMergekit, viaNative, 0);
      if (c.deterministic && numpy) expectTensorsClose(viaMergekit, reference(c.mergekit, fixtures), 2e-6);
      else if (c.deterministic) console.warn('python3 with numpy is missing: the numpy reference comparison is skipped');
    });
  }

  it('dare_linear with one model keeps each tensor\'s task vector L1 norm (mergekit\'s rescale) and drops about 1 - density', async () => {
    const dir = await tempFolder();
    const fixtures = await writeModels(dir);
    const config = { merge_method: 'dare_linear', base_model: 'base', models: [{ model: 'math', parameters: { weight: 1, density: 0.6 } }], dtype: 'float32' };
    const merged = await runConfig(dir, 'mk.yml', JSON.stringify(config), 'out');
    let dropped = 0;
    let total = 0;
    for (const [name, values] of merged) {
      const base = fixtures.base[name].data as Float32Array;
      const tau = fixtures.math[name].data as Float32Array;
      const l1 = (f: (j: number) => number) => values.reduce((s, _, j) => s + Math.abs(f(j)), 0);
      expect(l1((j) => values[j] - base[j])).toBeCloseTo(l1((j) => tau[j] - base[j]), 4);
      values.forEach((v, j) => {
        total++;
        if (Math.abs(v - base[j]) < 1e-9) dropped++;
      });
    }
    const sigma = Math.sqrt(total * 0.4 * 0.6);
    expect(Math.abs(dropped - 0.4 * total)).toBeLessThan(5 * sigma);
  });

  it('writes the output where the command line says: mats merge CONFIG OUTPUT, as mergekit-yaml', async () => {
    const dir = await tempFolder();
    await writeModels(dir);
    await writeFile(join(dir, 'mk.yml'), JSON.stringify(CASES[0].mergekit));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const stdout = captureStream();
      const stderr = captureStream();
      expect(await runCli(['merge', 'mk.yml', 'merged', '--quiet'], { stdout, stderr })).toBe(0);
      expect(stdout.text).toMatch(/^wrote .*merged: 12 tensors merged/);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('mats convert-config', () => {
  it('prints the native config, which parses and names paths relative to the config\'s folder', async () => {
    const dir = await tempFolder();
    await writeModels(dir);
    await writeFile(join(dir, 'mk.yml'), JSON.stringify({ ...CASES[3].mergekit, dtype: 'bfloat16' }));
    const stdout = captureStream();
    const stderr = captureStream();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await runCli(['convert-config', 'mk.yml'], { stdout, stderr })).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const native = parse(stdout.text) as Record<string, unknown>;
    expect(native).toEqual({ ...CASES[3].native, output: { dtype: 'bfloat16' } });
    expect(stderr.text).toMatch(/note: dtype: bfloat16: mergekit computes in bfloat16; mats reads and computes in float32/);
    expect(stderr.text).toMatch(/note: parameters\.int8_mask/);
    // The printed config is a valid mats config.
    expect(parseConfig(stdout.text, join(dir, 'native.yaml'), dir).method).toBe('ties');
  });

  it('refuses a mats config, saying it runs as it is', async () => {
    const dir = await tempFolder();
    await writeFile(join(dir, 'm.yaml'), 'method: average\nmodels: [{path: a}]\n');
    const stderr = captureStream();
    expect(await runCli(['convert-config', join(dir, 'm.yaml')], { stdout: captureStream(), stderr })).toBe(1);
    expect(stderr.text).toMatch(/not a mergekit config \(no top-level merge_method\)/);
  });
});

describe('keys and methods without an exact mats equivalent are refused by name', () => {
  const base = { merge_method: 'ties', base_model: 'base', models: [{ model: 'math', parameters: { weight: 1 } }] };
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['an unmapped method', { ...base, merge_method: 'slerp' }, /^merge_method: slerp has no mats equivalent \(mergekit methods mats runs: linear, task_arithmetic/],
    ['a misspelt method', { ...base, merge_method: 'tie' }, /^merge_method: tie is not a mergekit method mats knows; did you mean 'ties'\?/],
    ['slices', { ...base, models: undefined, slices: [] }, /^slices: layer slicing/],
    ['tokenizer', { ...base, tokenizer: { source: 'base' } }, /^tokenizer: building a tokenizer/],
    ['chat_template', { ...base, chat_template: 'chatml' }, /^chat_template: /],
    ['tokenizer_source: union', { ...base, tokenizer_source: 'union' }, /^tokenizer_source: union builds a new vocabulary/],
    ['a LoRA', { ...base, models: [{ model: 'math+lora', parameters: { weight: 1 } }] }, /^models\[0\]\.model: math\+lora: 'model\+lora' applies a LoRA/],
    ['a revision', { ...base, models: [{ model: 'math@main', parameters: { weight: 1 } }] }, /^models\[0\]\.model: math@main: 'model@revision'/],
    ['a misspelt parameter', { ...base, parameters: { densty: 0.5 } }, /^parameters\.densty: not a parameter of mergekit's ties; did you mean 'density'\?/],
    ['a global parameter under a model', { ...base, models: [{ model: 'math', parameters: { weight: 1, lambda: 2 } }] }, /^models\[0\]\.parameters\.lambda: lambda is a global parameter/],
    ['a missing weight', { ...base, models: [{ model: 'math' }] }, /^models\[0\]: mergekit's ties needs a weight for every model/],
    ['a negative weight', { ...base, models: [{ model: 'math', parameters: { weight: -1 } }] }, /^models\[0\]\.parameters\.weight: -1: mats weights are >= 0/],
    ['linear without normalisation', { merge_method: 'linear', models: [{ model: 'math', parameters: { weight: 1 } }], parameters: { normalize: false } }, /^parameters\.normalize: false: /],
    ['per-tensor normalize', { ...base, parameters: { normalize: [{ filter: 'mlp', value: false }] } }, /^parameters\.normalize: .*per-tensor values of normalize have no mats equivalent/],
    ['an int64 dtype', { ...base, dtype: 'int64' }, /^dtype: "int64": mats writes bfloat16, float16 or float32/],
    ['a task method without base_model', { merge_method: 'ties', models: [{ model: 'math', parameters: { weight: 1 } }] }, /^base_model: mergekit's ties takes task vectors against a base model/],
    ['an unknown top-level key', { ...base, out_dtyp: 'float16' }, /^out_dtyp: not a mergekit config key; did you mean 'out_dtype'\?/],
    ['a Hugging Face Hub id that is not here', { ...base, models: [{ model: 'org/model', parameters: { weight: 1 } }] }, /^models\[0\]\.model: org\/model: no such file or folder .*huggingface-cli download org\/model/],
  ];
  for (const [what, config, message] of refused) {
    it(what, async () => {
      const dir = await tempFolder();
      await writeModels(dir);
      await writeFile(join(dir, 'mk.yml'), JSON.stringify(config));
      const stderr = captureStream();
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        expect(await runCli(['merge', 'mk.yml', 'out'], { stdout: captureStream(), stderr })).toBe(1);
      } finally {
        process.chdir(cwd);
      }
      expect(stderr.text).toMatch(/^error: .*mk\.yml is a mergekit config that mats cannot run as it is:\n/);
      const problems = stderr.text.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.slice(4));
      expect(problems.some((p) => message.test(p)), `${problems.join('\n')}\ndoes not match ${message}`).toBe(true);
    });
  }

  it('reports every problem at once', () => {
    try {
      parseConfig(JSON.stringify({ merge_method: 'ties', base_model: 'base', slices: [], chat_template: 'x', models: [{ model: 'a+b' }] }), '/cfg/mk.yml', '/cfg', { cwd: '/cfg' });
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).problems.length).toBeGreaterThanOrEqual(3);
      return;
    }
    throw new Error('expected the config to be refused');
  });
});
