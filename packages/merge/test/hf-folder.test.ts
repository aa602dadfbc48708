/**
 * A Hugging Face folder out: config.json (torch_dtype set to the output dtype),
 * generation_config.json and the tokenizer files come along, from tokenizer_source where given;
 * the output's metadata names no input by absolute path.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureStream, randomModel, tempFolder, writeModelFile, type Fixture } from '@mats/merge/testing';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { runCli } from '../src/cli/run-cli.js';

const CONFIG = { architectures: ['LlamaForCausalLM'], hidden_size: 4, num_hidden_layers: 2, torch_dtype: 'float32', vocab_size: 3 };
const TOKENIZER = { version: '1.0', model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 } }, added_tokens: [] };

/** A folder as transformers saves it: weights, config, generation config, a BPE tokenizer, and a README that is not copied. */
async function hfFolder(path: string, model: Fixture, tokenizer: object = TOKENIZER): Promise<void> {
  await mkdir(path, { recursive: true });
  await writeModelFile(join(path, 'model.safetensors'), model);
  await writeFile(join(path, 'config.json'), JSON.stringify(CONFIG, null, 2));
  await writeFile(join(path, 'generation_config.json'), JSON.stringify({ bos_token_id: 0, eos_token_id: 1 }));
  await writeFile(join(path, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(path, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 16 }));
  await writeFile(join(path, 'special_tokens_map.json'), JSON.stringify({ eos_token: 'b' }));
  await writeFile(join(path, 'vocab.json'), JSON.stringify({ a: 0, b: 1, ab: 2 }));
  await writeFile(join(path, 'merges.txt'), '#version: 0.2\na b\n');
  await writeFile(join(path, 'README.md'), '# a model card\n');
}

const SHAPES = { 'model.embed_tokens.weight': [3, 4], 'model.layers.0.mlp.up_proj.weight': [6, 4], 'model.layers.1.mlp.up_proj.weight': [6, 4], 'lm_head.weight': [3, 4] };

async function merge(dir: string, config: Record<string, unknown>, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  await writeFile(join(dir, 'merge.yaml'), JSON.stringify(config));
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(['merge', join(dir, 'merge.yaml'), '--quiet', ...extra], { stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Every metadata value of every safetensors file and index under folder. */
async function allMetadata(folder: string): Promise<string[]> {
  const values: string[] = [];
  for (const name of await readdir(folder)) {
    if (name.endsWith('.safetensors')) {
      const c = await Checkpoint.open(join(folder, name));
      values.push(...Object.values(c.metadata));
      await c.close();
    } else if (name.endsWith('.index.json')) values.push(JSON.stringify(JSON.parse(await readFile(join(folder, name), 'utf8')).metadata));
  }
  return values;
}

describe('a Hugging Face folder out', () => {
  it('copies config.json (torch_dtype = the output dtype), generation_config.json and the tokenizer files, and nothing else', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'base'), randomModel(0, SHAPES));
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    await hfFolder(join(dir, 'b'), randomModel(2, SHAPES));
    const result = await merge(dir, { method: 'task_arithmetic', base: 'base', models: [{ path: 'a' }, { path: 'b' }], parameters: { lambda: 0.5 }, output: { path: 'out', dtype: 'bfloat16' } });
    expect(result.code, result.stderr).toBe(0);
    const files = (await readdir(join(dir, 'out'))).sort();
    expect(files).toEqual(['config.json', 'generation_config.json', 'merges.txt', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    expect(JSON.parse(await readFile(join(dir, 'out', 'config.json'), 'utf8'))).toEqual({ ...CONFIG, torch_dtype: 'bfloat16' });
    for (const name of ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt']) {
      expect(await readFile(join(dir, 'out', name), 'utf8'), name).toBe(await readFile(join(dir, 'base', name), 'utf8'));
    }
  });

  it('keeps the inputs\' dtype in torch_dtype with output dtype same, and takes tokenizer files from tokenizer_source', async () => {
    const dir = await tempFolder();
    const f16 = (seed: number): Fixture => Object.fromEntries(Object.entries(randomModel(seed, SHAPES)).map(([n, t]) => [n, t.dtype === 'F32' ? { ...t, dtype: 'F16' } : t]));
    await hfFolder(join(dir, 'a'), f16(1));
    await hfFolder(join(dir, 'b'), f16(2));
    const other = { ...TOKENIZER, model: { type: 'BPE', vocab: { x: 0, y: 1, xy: 2 } } };
    await mkdir(join(dir, 'tok'));
    await writeFile(join(dir, 'tok', 'tokenizer.json'), JSON.stringify(other));
    await writeFile(join(dir, 'tok', 'tokenizer_config.json'), '{"from": "tok"}');
    const result = await merge(dir, { method: 'average', models: [{ path: 'a' }, { path: 'b' }], output: { path: 'out', tokenizer_source: 'tok' } });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'out', 'config.json'), 'utf8')).torch_dtype).toBe('float16');
    expect(JSON.parse(await readFile(join(dir, 'out', 'tokenizer.json'), 'utf8'))).toEqual(other);
    expect(await readFile(join(dir, 'out', 'tokenizer_config.json'), 'utf8')).toBe('{"from": "tok"}');
    // Only tokenizer_source's tokenizer files: the first model's vocab.json is not mixed in.
    expect(await readdir(join(dir, 'out'))).not.toContain('vocab.json');
  });

  it('writes nothing beside the tensors when the base is a .safetensors file', async () => {
    const dir = await tempFolder();
    await writeModelFile(join(dir, 'base.safetensors'), randomModel(0, SHAPES));
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    const result = await merge(dir, { method: 'task_arithmetic', base: 'base.safetensors', models: [{ path: 'a' }], output: { path: 'out' } });
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(join(dir, 'out'))).toEqual(['model.safetensors']);
  });

  it('refuses a tokenizer_source without tokenizer files, and a config.json that does not parse, before writing anything', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    await writeFile(join(dir, 'a', 'config.json'), '{ not json');
    await mkdir(join(dir, 'empty'));
    const result = await merge(dir, { method: 'average', models: [{ path: 'a' }], output: { path: 'out', tokenizer_source: 'empty' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/a\/config\.json: not valid JSON/);
    expect(result.stderr).toMatch(/output\.tokenizer_source: .*empty has no tokenizer files/);
    expect(await readdir(dir)).not.toContain('out');
  });

  it('replaces a previous Hugging Face output with --force', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    const config = { method: 'average', models: [{ path: 'a' }], output: { path: 'out' } };
    expect((await merge(dir, config)).code).toBe(0);
    const again = await merge(dir, config, ['--force']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('names no input by absolute path in any metadata (shards and index), even from a config that does', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'base'), randomModel(0, SHAPES));
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    // Absolute paths in the config itself: the metadata gets them relative to the config's folder.
    const config = { method: 'ties', base: join(dir, 'base'), models: [{ path: join(dir, 'a'), weight: [0.5, 1] }], parameters: { density: 0.5 }, output: { path: join(dir, 'out'), shard_size: 100, tokenizer_source: join(dir, 'a') } };
    const result = await merge(dir, config);
    expect(result.code, result.stderr).toBe(0);
    expect((await readdir(join(dir, 'out'))).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    const values = await allMetadata(join(dir, 'out'));
    expect(values.length).toBeGreaterThan(10);
    for (const v of values) {
      expect(v).not.toContain(dir);
      expect(v).not.toMatch(/(^|["\s:])\/(tmp|home|root|Users)\//);
    }
    const c = await Checkpoint.open(join(dir, 'out'));
    expect(JSON.parse(c.metadata.mats_inputs)).toEqual({ base: 'base', models: [{ path: 'a', weight: [0.5, 1], stats: null }], tokenizer_source: 'a' });
    expect(c.metadata.mats_config).toMatch(/base: base\n/);
    await c.close();
  });
});

describe('mergekit tokenizer_source', () => {
  const mergekit = (tokenizerSource: string) => ({ merge_method: 'task_arithmetic', base_model: 'base', models: [{ model: 'a', parameters: { weight: 1 } }], tokenizer_source: tokenizerSource });

  async function run(dir: string, config: object): Promise<{ code: number; stderr: string }> {
    await writeFile(join(dir, 'mk.yml'), JSON.stringify(config));
    const stderr = captureStream();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      return { code: await runCli(['merge', 'mk.yml', 'out', '--quiet'], { stdout: captureStream(), stderr }), stderr: stderr.text };
    } finally {
      process.chdir(cwd);
    }
  }

  it('runs when every model has the source\'s vocabulary and the embeddings one row per token (mergekit\'s rebuild is then the identity)', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'base'), randomModel(0, SHAPES));
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES));
    const result = await run(dir, mergekit('base'));
    expect(result.code, result.stderr).toBe(0);
    expect(await readdir(join(dir, 'out'))).toContain('tokenizer.json');
  });

  it('is refused, by name, where mergekit would rebuild the embeddings: another vocabulary, padded rows', async () => {
    const dir = await tempFolder();
    await hfFolder(join(dir, 'base'), randomModel(0, SHAPES));
    await hfFolder(join(dir, 'a'), randomModel(1, SHAPES), { ...TOKENIZER, model: { type: 'BPE', vocab: { a: 0, ab: 1, b: 2 } } });
    const differs = await run(dir, mergekit('base'));
    expect(differs.code).toBe(1);
    expect(differs.stderr).toMatch(/tokenizer_source: models\[0\] \(.*\) has a vocabulary other than .*base's \(mergekit rebuilds embedding rows/);

    const padded = { ...SHAPES, 'model.embed_tokens.weight': [4, 4], 'lm_head.weight': [4, 4] };
    await hfFolder(join(dir, 'base'), randomModel(0, padded));
    await hfFolder(join(dir, 'a'), randomModel(1, padded));
    const rows = await run(dir, mergekit('base'));
    expect(rows.code).toBe(1);
    expect(rows.stderr).toMatch(/tokenizer_source: model\.embed_tokens\.weight has 4 rows, the vocabulary 3 tokens/);
  });
});
