/** The mats example config of README.md runs as written, and merges what the API merges. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomSpd } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/run-cli.js';
import { DEFAULT_SHAPES, randomModel, writeModelFile, writeShardedModel, type Fixture } from './fixtures.js';
import { captureStream as stream, tempFolder } from './helpers.js';
import { mergeInMemory, readAllFloats } from './merge-harness.js';

const README = new URL('../README.md', import.meta.url);

/** K-FAC statistics for every 2-D weight of DEFAULT_SHAPES. */
function kfacStats(seed: number): Fixture {
  const stats: Fixture = {};
  for (const [name, shape] of Object.entries(DEFAULT_SHAPES)) {
    if (shape.length !== 2) continue;
    const [out, inp] = shape;
    stats[`${name}::input_gram`] = { dtype: 'F32', shape: [inp, inp], data: Float32Array.from(randomSpd(inp, seed * 10 + out, 0.3)) };
    stats[`${name}::grad_gram`] = { dtype: 'F32', shape: [out, out], data: Float32Array.from(randomSpd(out, seed * 10 + inp + 5, 0.3)) };
  }
  return stats;
}

describe('README mats example', () => {
  it('merges with the CLI, reporting each solve', async () => {
    const text = await readFile(README, 'utf8');
    const yaml = /```yaml\n(# mats\.yaml[\s\S]*?)```/.exec(text)?.[1];
    expect(yaml).toBeDefined();
    const dir = await tempFolder();
    const [base, math, code] = [randomModel(0), randomModel(1), randomModel(2)];
    await writeShardedModel(join(dir, 'base'), base, 2);
    await writeShardedModel(join(dir, 'math'), math, 1);
    await writeShardedModel(join(dir, 'code'), code, 2);
    await writeModelFile(join(dir, 'math.stats.safetensors'), kfacStats(1));
    await writeModelFile(join(dir, 'code.stats.safetensors'), kfacStats(2));
    await writeFile(join(dir, 'mats.yaml'), yaml!);
    const stdout = stream();
    const stderr = stream();
    expect(await runCli(['merge', join(dir, 'mats.yaml')], { stdout, stderr })).toBe(0);
    expect(stderr.text).toMatch(/^merged layers\.0\.weight \[6, 5\] F32 in [\d.]+ s \(kfac, converged, \d+ iterations, residual .* -> .*\)$/m);
    expect(stderr.text).toMatch(/^merged layers\.0\.bias \[6\] F32 in [\d.]+ s \(fallback: average: kfac needs a 2-D \[out, in\] weight, this is \[6\]\)$/m);

    const api = await mergeInMemory({
      method: 'mats',
      parameters: { subspace: 'kfac', iterations: 300, rtol: 1e-6 },
      base,
      models: [math, code],
      stats: [kfacStats(1), kfacStats(2)],
      precision: 'float32',
      outputDtype: 'same',
    });
    expect(await readAllFloats(join(dir, 'merged-mats'))).toEqual(api.tensors);
  });
});
