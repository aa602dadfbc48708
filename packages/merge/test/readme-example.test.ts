/** The example config of README.md runs as written, and merges what the API merges. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { runCli } from '../src/cli/run-cli.js';
import { randomModel, writeModelFile, writeShardedModel } from './fixtures.js';
import { captureStream as stream, tempFolder } from './helpers.js';
import { mergeInMemory, readAllFloats } from './merge-harness.js';

const README = new URL('../README.md', import.meta.url);

describe('README example', () => {
  it('merges with the CLI', async () => {
    const text = await readFile(README, 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(text)?.[1];
    expect(yaml).toMatch(/^# merge\.yaml/);
    const dir = await tempFolder();
    const [base, math, code] = [randomModel(0), randomModel(1), randomModel(2)];
    await writeShardedModel(join(dir, 'base'), base, 2);
    await writeModelFile(join(dir, 'math.safetensors'), math);
    await writeShardedModel(join(dir, 'math'), math, 1);
    await writeModelFile(join(dir, 'code.safetensors'), code);
    await writeFile(join(dir, 'merge.yaml'), yaml!);
    const stdout = stream();
    const stderr = stream();
    expect(await runCli(['merge', join(dir, 'merge.yaml'), '--quiet'], { stdout, stderr })).toBe(0);
    expect(stderr.text).toBe('');

    const out = await Checkpoint.open(join(dir, 'merged'));
    expect(out.get('layers.0.weight')?.dtype).toBe('BF16');
    await out.close();
    const api = await mergeInMemory({ method: 'ties', parameters: { density: 0.3, lambda: 1.0 }, base, models: [math, code], weights: [1, 0.5], precision: 'float32', outputDtype: 'bfloat16' });
    expect(await readAllFloats(join(dir, 'merged'))).toEqual(api.tensors);
  });
});
