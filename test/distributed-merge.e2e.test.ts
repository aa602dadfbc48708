/**
 * Distributed merges through the built `mats` bin, several processes at once into one output
 * folder, as a scheduler runs them:
 *   - a Slurm job array: N processes with SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT and
 *     `--shard auto`, then `mats gather`: the same tensors as the single-process merge;
 *   - a Kubernetes Indexed Job: JOB_COMPLETION_INDEX and `--shards N`;
 *   - resume: a shard that never ran makes gather refuse, naming it; running it (as a rerun of one
 *     array task: SLURM_ARRAY_TASK_COUNT=1, --shards N) then completes the merge;
 *   - a shard rerun with another config makes the others stale: gather refuses, naming them;
 *   - SIGTERM stops a shard at once (exit 143), leaving neither its temporary folder nor a record.
 * The merge: mats (auto subspace, statistics for every subspace) from a TIES init with global
 * trim, so every shard makes whole-model preparation passes and solves.
 * Needs `npm run build` first (npm test does it).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensorsFile } from '@mats/merge';
import { configText, expectSameTensors, writeInputs } from '../packages/merge/test/distributed-fixture.js';
import { BIN, mats, requireBuiltBin, startMats } from './mats-bin.js';
import { runProcess, type ProcessResult } from './run-process.js';

const PARAMETERS = { subspace: 'auto', init: 'ties', init_parameters: { density: 0.3 } };

let dir: string;

/** The bin with the scheduler's variables as given (none inherited from this process). */
function matsWith(args: string[], env: Record<string, string>): Promise<ProcessResult> {
  const clean = { ...process.env };
  for (const k of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'JOB_COMPLETION_INDEX']) delete clean[k];
  return runProcess(process.execPath, [BIN, ...args], { cwd: dir, env: { ...clean, ...env } });
}

const expectOk = (r: ProcessResult) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

beforeAll(async () => {
  requireBuiltBin();
  dir = await mkdtemp(join(tmpdir(), 'mats-distributed-e2e-'));
  await writeInputs(dir);
  await writeFile(join(dir, 'merge.yaml'), configText('mats', PARAMETERS, 'single'));
  await writeFile(join(dir, 'other.yaml'), configText('mats', { ...PARAMETERS, init_parameters: { density: 0.5 } }, 'single'));
  expectOk(await mats(['merge', 'merge.yaml', '--quiet'], dir));
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('shards in separate processes, at once, into one folder', () => {
  it('a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, --shard auto), then gather', async () => {
    const runs = await Promise.all([0, 1, 2].map((i) => matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--out', 'slurm'], { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_COUNT: '3' })));
    runs.forEach((r, i) => {
      expectOk(r);
      expect(r.stdout).toContain(`wrote shard ${i}/3 of ${join(dir, 'slurm')}`);
    });
    const gather = await mats(['gather', 'slurm', '--verify'], dir);
    expectOk(gather);
    expect(gather.stdout).toMatch(/gathered .*slurm: 3 shards of merge [0-9a-f]{12}, \d+ files?, 7 tensors/);
    await expectSameTensors(join(dir, 'slurm'), join(dir, 'single'));
  });

  it('a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, --shards N), then gather', async () => {
    const runs = await Promise.all([0, 1, 2, 3].map((i) => matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--shards', '4', '--out', 'k8s', '--quiet'], { JOB_COMPLETION_INDEX: String(i) })));
    runs.forEach(expectOk);
    expectOk(await mats(['gather', 'k8s'], dir));
    await expectSameTensors(join(dir, 'k8s'), join(dir, 'single'));
  });

  it('--shard auto outside a scheduler is an error that says what is missing', async () => {
    const r = await matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--out', 'none'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/neither SLURM_ARRAY_TASK_ID .* nor JOB_COMPLETION_INDEX/);
    const k8s = await matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--out', 'none'], { JOB_COMPLETION_INDEX: '1' });
    expect(k8s.code).toBe(1);
    expect(k8s.stderr).toMatch(/pass --shards N/);
  });
});

describe('resume and stale shards', () => {
  it('gather names a shard that never ran; running it then completes the merge', async () => {
    (await Promise.all([0, 2].map((i) => matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--out', 'resume', '--quiet'], { SLURM_ARRAY_TASK_ID: String(i), SLURM_ARRAY_TASK_COUNT: '3' })))).forEach(expectOk);
    const refused = await mats(['gather', 'resume'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('shard 1/3: missing (no completion record); run mats merge CONFIG --shard 1/3');
    expect(await readdir(join(dir, 'resume'))).not.toContain('model.safetensors.index.json');
    // A rerun of one array task: sbatch --array=1 gives SLURM_ARRAY_TASK_COUNT=1.
    expectOk(await matsWith(['merge', 'merge.yaml', '--shard', 'auto', '--shards', '3', '--out', 'resume', '--quiet'], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '1' }));
    // Rerunning a finished shard does nothing.
    const again = await mats(['merge', 'merge.yaml', '--shard', '0/3', '--out', 'resume'], dir);
    expectOk(again);
    expect(again.stdout).toContain('shard 0/3 of');
    expect(again.stdout).toContain('was already complete: nothing to do');
    expectOk(await mats(['gather', 'resume'], dir));
    await expectSameTensors(join(dir, 'resume'), join(dir, 'single'));
  });

  it('a shard rerun with another config: the others are stale, gather refuses and names them', async () => {
    (await Promise.all([0, 1, 2].map((i) => mats(['merge', 'merge.yaml', '--shard', `${i}/3`, '--out', 'stale', '--quiet'], dir)))).forEach(expectOk);
    expectOk(await mats(['gather', 'stale'], dir));
    const refused = await mats(['merge', 'other.yaml', '--shard', '1/3', '--out', 'stale', '--quiet'], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds shards of another merge .*pass --force/);
    expectOk(await mats(['merge', 'other.yaml', '--shard', '1/3', '--out', 'stale', '--quiet', '--force'], dir));
    // The shard that wrote removed the index: the folder no longer looks complete.
    expect(await readdir(join(dir, 'stale'))).not.toContain('model.safetensors.index.json');
    const gather = await mats(['gather', 'stale'], dir);
    expect(gather.code).toBe(1);
    expect(gather.stderr).toMatch(/shard 0\/3: stale: completed .* for another config or inputs/);
    expect(gather.stderr).toMatch(/shard 2\/3: stale/);
    expect(gather.stderr).not.toMatch(/shard 1\/3/);
  });
});

describe('signals', () => {
  it('SIGTERM stops a shard at once: exit 143, no temporary folder, no record', async () => {
    const side = 512;
    const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i * 0.7 + seed * 13.1));
    const spread = (shift: number) => {
      const m = new Float32Array(side * side);
      for (let i = 0; i < side; i++) m[i * side + i] = 10 ** ((-6 * ((i * 7 + shift) % side)) / side);
      return m;
    };
    for (const [name, seed] of [['long-a', 1], ['long-b', 2]] as const) {
      await writeSafetensorsFile(join(dir, `${name}.safetensors`), [{ name: 'w.weight', dtype: 'F32', shape: [side, side], data: values(side * side, seed) }]);
      await writeSafetensorsFile(join(dir, `${name}.stats.safetensors`), [
        { name: 'w.weight::input_gram', dtype: 'F32', shape: [side, side], data: spread(seed) },
        { name: 'w.weight::grad_gram', dtype: 'F32', shape: [side, side], data: spread(2 * seed) },
      ]);
    }
    const long = [
      'method: mats',
      'models: [{path: long-a.safetensors, stats: long-a.stats.safetensors}, {path: long-b.safetensors, stats: long-b.stats.safetensors}]',
      // No preconditioner and a tight rtol in float64: minutes of CG, far past the signal.
      'parameters: {subspace: kfac, preconditioner: none, iterations: 100000, rtol: 1.0e-13, init: zeros}',
      'precision: float64',
      'output: {path: long}',
      '',
    ].join('\n');
    await writeFile(join(dir, 'long.yaml'), long);
    const run = startMats(['merge', 'long.yaml', '--shard', '0/1'], dir);
    await run.waitFor(/merge: .* to read/);
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code, run.output()).toBe(143);
    expect(run.output()).toMatch(/removed the partial output .*\.mats-shards\/\.shard-00000-of-00001\.partial-/);
    expect(await readdir(join(dir, 'long', '.mats-shards'))).toEqual([]);
    expect((await readdir(join(dir, 'long'))).filter((f) => f.endsWith('.safetensors'))).toEqual([]);
    const gather = await mats(['gather', 'long'], dir);
    expect(gather.code).toBe(1);
    expect(gather.stderr).toContain('no shard has completed yet');
  });
});
