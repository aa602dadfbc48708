/** Sharded checkpoints: index parsing, path escapes rejected, missing shard entries. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { planShards } from '../src/checkpoint/output.js';
import { resolveShardPath } from '../src/checkpoint/shard-index.js';
import { SafetensorsError } from '../src/errors.js';
import { randomModel, writeModelFile, writeShardedModel } from './fixtures.js';
import { tempFolder } from './helpers.js';

describe('shard paths', () => {
  it('accept plain file names and subfolders inside the checkpoint', () => {
    expect(resolveShardPath('/m', 'model-00001-of-00002.safetensors')).toBe('/m/model-00001-of-00002.safetensors');
    expect(resolveShardPath('/m', 'shards/a.safetensors')).toBe('/m/shards/a.safetensors');
  });

  it('reject everything that leaves the folder', () => {
    for (const [entry, reason] of [
      ['../other/model.safetensors', "contains '..'"],
      ['shards/../../x.safetensors', "contains '..'"],
      ['..\\x.safetensors', "contains '..'"],
      ['/etc/passwd', 'is an absolute path'],
      ['C:\\x.safetensors', 'is an absolute path'],
      ['', 'is empty'],
      ['.', 'leaves the folder'],
    ]) {
      expect(resolveShardPath('/m', entry)).toEqual({ reason });
    }
  });

  it('a checkpoint whose index escapes the folder is rejected, naming the index and the entry', async () => {
    const dir = await tempFolder();
    await writeModelFile(join(dir, 'outside.safetensors'), randomModel(1));
    await mkdir(join(dir, 'ckpt'));
    await writeFile(join(dir, 'ckpt', 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'layers.0.weight': '../outside.safetensors' } }));
    await expect(Checkpoint.open(join(dir, 'ckpt'))).rejects.toThrow(/model\.safetensors\.index\.json: weight_map\["layers\.0\.weight"\] = "\.\.\/outside\.safetensors" contains '\.\.'/);
  });

  it('an index naming a tensor its shard lacks is rejected', async () => {
    const dir = await tempFolder();
    await writeShardedModel(join(dir, 'ckpt'), randomModel(1), 2);
    await writeFile(join(dir, 'ckpt', 'model.safetensors.index.json'), JSON.stringify({ weight_map: { ghost: 'model-00001-of-00002.safetensors' } }));
    await expect(Checkpoint.open(join(dir, 'ckpt'))).rejects.toThrow(/names 1 tensor\(s\) that their shard lacks: ghost/);
  });

  it('an index that is not JSON, or has no weight_map, is rejected', async () => {
    const dir = await tempFolder();
    await mkdir(join(dir, 'a'));
    await writeFile(join(dir, 'a', 'model.safetensors.index.json'), '{nope');
    await expect(Checkpoint.open(join(dir, 'a'))).rejects.toBeInstanceOf(SafetensorsError);
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'b', 'model.safetensors.index.json'), '{}');
    await expect(Checkpoint.open(join(dir, 'b'))).rejects.toThrow(/no "weight_map"/);
  });

  it('a folder with no checkpoint says what it expected', async () => {
    const dir = await tempFolder();
    await expect(Checkpoint.open(dir)).rejects.toThrow(/neither model\.safetensors\.index\.json nor model\.safetensors/);
  });
});

describe('planShards', () => {
  it('starts a new shard when the next tensor would pass the limit; an oversized tensor gets its own', () => {
    const spec = (name: string, n: number) => ({ name, dtype: 'F32' as const, shape: [n] });
    const shards = planShards([spec('a', 10), spec('b', 10), spec('c', 30), spec('d', 5)], 80);
    expect(shards.map((s) => [s.file, s.tensors.map((t) => t.name), s.bytes])).toEqual([
      ['model-00001-of-00003.safetensors', ['a', 'b'], 80],
      ['model-00002-of-00003.safetensors', ['c'], 120],
      ['model-00003-of-00003.safetensors', ['d'], 20],
    ]);
    expect(planShards([spec('a', 1)], 1e9).map((s) => s.file)).toEqual(['model.safetensors']);
  });
});
