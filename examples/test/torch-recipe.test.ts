/**
 * The merge README's PyTorch / Hugging Face recipe runs as written: examples/torch/recipe/run.sh
 * estimates statistics for three fine-tuned models with the PyTorch estimator, merges them with
 * the built `mats` CLI (regmean, mats kfac), loads the merged models back with from_pretrained
 * and evaluates them. `transformers` is not installed here: a stand-in package
 * (examples/torch/testing/transformers) loads the same folders into a module with BERT's tensor
 * names and arithmetic. The models are made first by testing/make_recipe_models.py: a tiny BERT
 * trained on upstream features, fine-tuned on three synthetic tasks. The README shows the
 * recipe's files verbatim (checked here too).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '@mats/merge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithTorch, run, runPython, TORCH_DIR, torchPython } from './torch-python.js';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const README = join(REPOSITORY, 'packages', 'merge', 'README.md');
const RECIPE_FILES = ['examples/torch/recipe/estimate.py', 'examples/torch/recipe/regmean.yaml', 'examples/torch/recipe/mats-kfac.yaml', 'examples/torch/recipe/run.sh'];
const TASKS = ['task-a', 'task-b', 'task-c'];
const MERGED = ['merged-regmean', 'merged-mats-kfac'];

describe('packages/merge/README.md PyTorch recipe', () => {
  it('shows the recipe files verbatim', async () => {
    const text = await readFile(README, 'utf8');
    const shown = [...text.matchAll(/<!-- example: (\S+) -->\n\n```\w+\n([\s\S]*?)```/g)].filter((m) => m[1].startsWith('examples/torch/'));
    expect(shown.map((m) => m[1])).toEqual(RECIPE_FILES);
    for (const [, path, code] of shown) expect(code, path).toBe(await readFile(join(REPOSITORY, path), 'utf8'));
  });
});

describeWithTorch('the PyTorch / Hugging Face recipe (examples/torch/recipe/run.sh)', () => {
  let dir: string;
  let accuracy: Record<string, Record<string, number>>;
  let output: string;

  beforeAll(async () => {
    const cli = join(REPOSITORY, 'packages', 'merge', 'dist', 'cli', 'main.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (npm test does)`);
    dir = await mkdtemp(join(tmpdir(), 'mats-recipe-'));
    const made = await runPython([join(TORCH_DIR, 'testing', 'make_recipe_models.py'), dir]);
    expect(made.code, made.output).toBe(0);
    await copyFile(join(TORCH_DIR, 'testing', 'tasks.py'), join(dir, 'tasks.py')); // the user's data module
    // `python` in the recipe is the one with PyTorch; `transformers` is the stand-in.
    await mkdir(join(dir, '.bin'));
    await symlink(torchPython!, join(dir, '.bin', 'python'));
    const recipe = await run('bash', [join(TORCH_DIR, 'recipe', 'run.sh')], {
      cwd: dir,
      env: { MATS: REPOSITORY, PATH: `${join(dir, '.bin')}:${process.env.PATH}`, PYTHONPATH: join(TORCH_DIR, 'testing') },
    });
    output = recipe.output;
    expect(recipe.code, output).toBe(0);
    accuracy = JSON.parse(await readFile(join(dir, 'accuracy.json'), 'utf8'));
    console.log(output.split('\n').filter((line) => /^(model|task-|merged-)/.test(line)).join('\n'));
  }, 1_200_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a statistics file per model, with the metadata the merge reads', async () => {
    for (const task of TASKS) {
      const file = await SafetensorsFile.open(join(dir, `${task}.stats.safetensors`));
      try {
        expect(file.metadata).toEqual({ n_examples: '512', fisher: 'empirical' });
        const names = file.tensors.map((t) => t.name);
        expect(names).toEqual(expect.arrayContaining([
          'bert.encoder.layer.1.attention.self.query.weight::input_gram',
          'bert.encoder.layer.1.attention.self.query.weight::grad_gram',
          'bert.encoder.layer.1.attention.self.query.weight::input_mean',
          'classifier.weight::grad_gram',
          'bert.embeddings.word_embeddings.weight::fisher',
          'bert.embeddings.position_embeddings.weight::fisher',
          'bert.encoder.layer.0.output.LayerNorm.weight::fisher_block',
        ]));
      } finally {
        await file.close();
      }
    }
    expect(output).toMatch(/^task-a\.stats\.safetensors: \d+ statistics from 512 examples$/m);
  });

  it('merges with regmean and mats kfac, solving every linear weight', () => {
    expect(output).toMatch(/^wrote .*merged-regmean: 41 tensors merged/m);
    expect(output).toMatch(/^wrote .*merged-mats-kfac: 41 tensors merged/m);
    expect(output).toMatch(/^merged bert\.encoder\.layer\.1\.intermediate\.dense\.weight \[64, 32\] F32 in [\d.]+ s \(kfac, converged/m);
  });

  it('loads the merged models with from_pretrained, and each is a better three-task model than any fine-tuned one', () => {
    const mean = (row: Record<string, number>) => TASKS.reduce((s, t) => s + row[t], 0) / TASKS.length;
    for (const task of TASKS) expect(accuracy[task][task], `${task} on its own task`).toBeGreaterThan(0.95);
    const bestSingle = Math.max(...TASKS.map((t) => mean(accuracy[t])));
    for (const merged of MERGED) {
      expect(Object.keys(accuracy[merged]).sort()).toEqual(TASKS);
      expect(mean(accuracy[merged]), `${merged}: ${JSON.stringify(accuracy[merged])}`).toBeGreaterThan(bestSingle + 0.1);
      for (const task of TASKS) expect(accuracy[merged][task], `${merged} on ${task}`).toBeGreaterThan(0.7);
    }
  });
});
