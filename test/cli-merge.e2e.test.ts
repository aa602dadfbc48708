/**
 * End to end through the built `mats` bin: sharded checkpoints merged by a YAML config, values
 * checked against a plain computation; --json-log, --dry-run, validate, inspect, exit codes.
 * Needs `npm run build` first (npm test does it).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint, writeSafetensorsFile, type TensorData } from '@mats/merge';
import { mats, requireBuiltBin } from './mats-bin.js';

/** Deterministic values, exact in float32 and bfloat16 (multiples of 1/8 in [-4, 4)). */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((((i + 1) * 7919 + seed * 104729) % 64) - 32) / 8);
}

const SHAPES: Record<string, number[]> = { 'embed.weight': [10, 4], 'layers.0.weight': [4, 4], 'layers.0.bias': [4], 'layers.1.weight': [3, 4], 'head.weight': [2, 3] };

function model(seed: number): TensorData[] {
  const tensors: TensorData[] = Object.entries(SHAPES).map(([name, shape]) => ({ name, dtype: 'BF16', shape, data: values(shape.reduce((a, b) => a * b, 1), seed) }));
  tensors.push({ name: 'position_ids', dtype: 'I64', shape: [3], data: new Uint8Array(new BigInt64Array([0n, 1n, BigInt(seed)]).buffer) });
  return tensors;
}

/** Writes a model as a sharded folder: one tensor per shard. */
async function writeSharded(folder: string, tensors: TensorData[]): Promise<void> {
  await mkdir(folder, { recursive: true });
  const weightMap: Record<string, string> = {};
  const n = tensors.length;
  for (let i = 0; i < n; i++) {
    const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
    await writeSafetensorsFile(join(folder, file), [tensors[i]]);
    weightMap[tensors[i].name] = file;
  }
  await writeFile(join(folder, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
}

let dir: string;

beforeAll(async () => {
  requireBuiltBin();
  dir = await mkdtemp(join(tmpdir(), 'mats-cli-e2e-'));
  await writeSharded(join(dir, 'base'), model(0));
  for (let i = 1; i <= 3; i++) await writeSharded(join(dir, `task${i}`), model(i));
  await writeFile(
    join(dir, 'merge.yaml'),
    ['method: task_arithmetic', 'base: base', 'models:', '  - path: task1', '  - path: task2', '    weight: 0.5', '  - path: task3', 'parameters:', '  lambda: 0.25', 'output:', '  path: merged', '  dtype: float32', '  shard_size: 100', ''].join('\n'),
  );
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('mats merge (end to end)', () => {
  it('--dry-run prints the plan and writes nothing', async () => {
    const r = await mats(['merge', 'merge.yaml', '--dry-run'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/method: task_arithmetic \{"lambda":0\.25,"normalize":false\}/);
    expect(r.stdout).toMatch(/tensors: 6 \(5 merged, 1 copied from the base\)/);
    expect(r.stdout).toMatch(/layers\.0\.weight +\[4, 4\] +BF16->F32 +task_arithmetic/);
    expect(r.stdout).toMatch(/position_ids +\[3\] +I64 +copy/);
    expect(r.stdout).toMatch(/estimated peak memory: [\d.]+ (KB|MB|GB) resident \(this process now /);
    expect(r.stdout).toMatch(/output: .*merged, 336 B in \d+ files/);
    expect(await readdir(dir)).not.toContain('merged');
  });

  it('validate checks without writing', async () => {
    const r = await mats(['validate', 'merge.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid: nothing wrong found/);
    expect(await readdir(dir)).not.toContain('merged');
  });

  it('merges sharded checkpoints to sharded output with the right values and a JSON log', async () => {
    const r = await mats(['merge', 'merge.yaml', '--json-log', 'log.jsonl'], dir);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*merged: 5 tensors merged, 1 copied/);
    const files = await readdir(join(dir, 'merged'));
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    expect(files.some((f) => f.startsWith('.'))).toBe(false);

    const out = await Checkpoint.open(join(dir, 'merged'));
    try {
      const weights = [1, 0.5, 1];
      for (const [name, shape] of Object.entries(SHAPES)) {
        const n = shape.reduce((a, b) => a * b, 1);
        const base = values(n, 0);
        const expected = base.map((b, j) => b + 0.25 * weights.reduce((s, w, i) => s + w * (values(n, i + 1)[j] - b), 0));
        expect(out.get(name)).toMatchObject({ dtype: 'F32', shape });
        const got = await out.readFloats(name, 'float64');
        for (let j = 0; j < n; j++) expect(Math.abs(got[j] - expected[j])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected[j])));
      }
      expect(await out.readBytes('position_ids')).toEqual(new Uint8Array(new BigInt64Array([0n, 1n, 0n]).buffer));
      expect(out.metadata.mats_method).toBe('task_arithmetic');
    } finally {
      await out.close();
    }

    const lines = (await readFile(join(dir, 'log.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.name).sort()).toEqual(['embed.weight', 'head.weight', 'layers.0.bias', 'layers.0.weight', 'layers.1.weight', 'position_ids']);
    for (const l of lines) {
      expect(typeof l.seconds).toBe('number');
      expect(l.method).toBe(l.name === 'position_ids' ? 'copy' : 'task_arithmetic');
    }
    // Not a terminal: plain progress lines.
    expect(r.stderr).toMatch(/^merged layers\.0\.weight \[4, 4\] F32 in /m);
  });

  it('refuses to replace the output without --force, with exit status 1 and no stack trace', async () => {
    const r = await mats(['merge', 'merge.yaml', '--quiet'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot merge: 1 problem found before reading any tensor:\n {2}- output .*merged already exists; pass --force to replace it\n$/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const forced = await mats(['merge', 'merge.yaml', '--quiet', '--force'], dir);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('');
  });

  it('inspect shows tensors, dtypes, shapes, sizes and metadata', async () => {
    const r = await mats(['inspect', 'merged'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sharded, \d+ files, 6 tensors, 336 B/);
    expect(r.stdout).toMatch(/embed\.weight +F32 +\[10, 4\] +160 B/);
    expect(r.stdout).toMatch(/mats_method: task_arithmetic/);
    const json = JSON.parse((await mats(['inspect', 'merged', '--json'], dir)).stdout);
    expect(json.tensors).toHaveLength(6);
  });

  it('user errors exit 1 with one error line; --verbose adds the stack', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'method: ties\nbase: base\nmodels: [{path: task1}]\nparameters: {densty: 0.5}\noutput: {path: x}\n');
    const r = await mats(['merge', 'bad.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*\n {2}- parameters\.densty: unknown key; did you mean 'density'\?/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const verbose = await mats(['merge', 'bad.yaml', '--verbose'], dir);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/ValidationError.*\n\s+at /s);
    expect((await mats(['merge'], dir)).stderr).toMatch(/^error: merge takes CONFIG \[OUTPUT\], got nothing/);
    expect((await mats(['merge', 'bad.yaml', '--frobnicate'], dir)).stderr).toMatch(/^error: Unknown option '--frobnicate'/);
    expect((await mats(['mrege'], dir)).stderr).toMatch(/^error: unknown command 'mrege'; did you mean 'merge'\?/);
    expect((await mats(['inspect', 'nowhere'], dir)).stderr).toMatch(/^error: .*nowhere: no such file or folder\n$/);
  });
});
