/**
 * A distributed merge is the single-process merge, tensor by tensor, byte for byte: for every
 * registered method (TIES and DARE-TIES with global trim, mats kfac with a PCG solve, mats from
 * a global-trim TIES init), with N = 1, 2, 3 shards and more shards than tensors, each shard run
 * on its own plan (in reverse order) and gathered. Every output file carries the single-process
 * metadata, and so does the index; with N = 1 the files and the index are the single-process
 * ones byte for byte. From a Hugging Face folder, the config and tokenizer files beside the
 * tensors are the single-process ones too (shard 0 writes them), and belong to the merge's hash.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherShards } from '../src/checkpoint/gather.js';
import { INDEX_FILE } from '../src/checkpoint/shard-index.js';
import { loadConfig } from '../src/config/load.js';
import { allMethods } from '../src/methods/registry.js';
import { planMerge } from '../src/pipeline/plan.js';
import { runMerge } from '../src/pipeline/run.js';
import { planShardMerge, runShardMerge } from '../src/pipeline/shard-merge.js';
import { BASE, configText, expectSameTensors, metadataOf, METHOD_CASES, SHAPES, TASKS, TENSOR_COUNT, writeInputs } from './distributed-fixture.js';

const SHARD_COUNTS = [1, 2, 3, TENSOR_COUNT + 2];

async function singleProcess(configFile: string): Promise<void> {
  const plan = await planMerge(await loadConfig(configFile));
  try {
    await runMerge(plan);
  } finally {
    await plan.close();
  }
}

/** Runs every shard of N on its own plan, last shard first, then gathers. */
async function distributed(configFile: string, out: string, shards: number): Promise<void> {
  for (let index = shards - 1; index >= 0; index--) {
    const sp = await planShardMerge(await loadConfig(configFile), { index, count: shards }, { out });
    try {
      const summary = await runShardMerge(sp);
      expect(summary.skipped).toBe(false);
    } finally {
      await sp.plan.close();
    }
  }
  await gatherShards(out);
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mats-shard-merge-'));
  await writeInputs(dir);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('distributed merge = single-process merge', () => {
  it('covers every registered method', () => {
    const covered = new Set(METHOD_CASES.map((c) => c.method));
    expect(allMethods().map((m) => m.name).filter((m) => !covered.has(m))).toEqual([]);
  });

  it('has a global TIES trim threshold that falls inside a group of equal |tau| (ties are broken by index across tensors)', () => {
    // Written from the fixture's data: tau_i over the merged tensors in plan (natural) order.
    const names = Object.keys(SHAPES).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const straddles = TASKS.map((task) => {
      const tau = names.flatMap((n) => Array.from(task[n].data as Float32Array, (v, j) => Math.abs(v - (BASE[n].data as Float32Array)[j])));
      const k = Math.round(0.3 * tau.length);
      const threshold = [...tau].sort((a, b) => b - a)[k - 1];
      const above = tau.filter((v) => v > threshold).length;
      const equal = tau.filter((v) => v === threshold).length;
      return above < k && above + equal > k;
    });
    expect(straddles).toContain(true);
  });

  for (const c of METHOD_CASES) {
    it(`${c.label}: N = ${SHARD_COUNTS.join(', ')}`, async () => {
      const stem = join(dir, c.label.replace(/\W+/g, '-'));
      const configFile = `${stem}.yaml`;
      const single = `${stem}-single`;
      await writeFile(configFile, configText(c.method, c.parameters, single));
      await singleProcess(configFile);
      const singleMeta = await metadataOf(single);
      for (const n of SHARD_COUNTS) {
        const out = `${stem}-${n}`;
        await distributed(configFile, out, n);
        await expectSameTensors(out, single);
        const meta = await metadataOf(out);
        // Every file carries the single-process provenance; the index's total_size and metadata too.
        for (const m of meta.files) expect(m).toEqual(singleMeta.files[0]);
        expect(meta.index).toEqual(singleMeta.index);
        if (n === 1) {
          const files = (await readdir(single)).sort();
          expect((await readdir(out)).filter((f) => !f.startsWith('.')).sort()).toEqual(files);
          for (const f of files) expect(Buffer.compare(await readFile(join(out, f)), await readFile(join(single, f))), f).toBe(0);
        }
        if (n > TENSOR_COUNT) expect((await readdir(out)).filter((f) => f.endsWith('.safetensors')).length).toBeLessThanOrEqual(TENSOR_COUNT);
      }
      expect((await readdir(single)).includes(INDEX_FILE)).toBe(true);
    });
  }

  it('a Hugging Face folder out: shard 0 writes config.json (with the output dtype), generation config and tokenizer files, as the single-process merge does', async () => {
    const stem = join(dir, 'hf');
    const baseFolder = `${stem}-base`;
    await mkdir(baseFolder);
    await copyFile(join(dir, 'base.safetensors'), join(baseFolder, 'model.safetensors'));
    await writeFile(join(baseFolder, 'config.json'), JSON.stringify({ model_type: 'llama', torch_dtype: 'float32', hidden_size: 6 }));
    await writeFile(join(baseFolder, 'generation_config.json'), '{"max_length": 32}\n');
    await writeFile(join(baseFolder, 'tokenizer.json'), '{"model": {"type": "BPE"}}\n');
    const configFile = `${stem}.yaml`;
    const single = `${stem}-single`;
    const config = JSON.parse(configText('task_arithmetic', { lambda: 0.7 }, single)) as Record<string, unknown> & { output: Record<string, unknown> };
    await writeFile(configFile, JSON.stringify({ ...config, base: baseFolder, output: { ...config.output, dtype: 'bfloat16' } }));
    await singleProcess(configFile);
    const companions = ['config.json', 'generation_config.json', 'tokenizer.json'];
    const singleFiles = (await readdir(single)).sort();
    for (const f of companions) expect(singleFiles).toContain(f);
    expect(JSON.parse(await readFile(join(single, 'config.json'), 'utf8')).torch_dtype).toBe('bfloat16');
    for (const n of [1, 2]) {
      const out = `${stem}-${n}`;
      await distributed(configFile, out, n);
      await expectSameTensors(out, single);
      const files = (await readdir(out)).filter((f) => !f.startsWith('.')).sort();
      expect(files.filter((f) => !f.endsWith('.safetensors') && f !== INDEX_FILE)).toEqual(companions);
      for (const f of companions) expect(Buffer.compare(await readFile(join(out, f)), await readFile(join(single, f))), f).toBe(0);
      if (n === 1) expect(files).toEqual(singleFiles);
    }
    // A changed companion file is another merge: the shards' records no longer match it.
    const before = await planShardMerge(await loadConfig(configFile), { index: 0, count: 2 }, { out: `${stem}-2` });
    await before.plan.close();
    await writeFile(join(baseFolder, 'tokenizer.json'), '{"model": {"type": "Unigram"}}\n');
    const after = await planShardMerge(await loadConfig(configFile), { index: 0, count: 2 }, { out: `${stem}-2` });
    await after.plan.close();
    expect(after.merge).not.toBe(before.merge);
  });
});
