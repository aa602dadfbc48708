/**
 * Splitting a merge into shards: the cost model's counts (written here from its documented
 * formulas), the LPT assignment (every tensor once, weight and bias together, deterministic,
 * within Graham's bound, big solves spread out), the file layout across shards, and which shard a
 * process is from `--shard` and the scheduler's variables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/checkpoint/checkpoint.js';
import { planShards } from '../src/checkpoint/output.js';
import { resolveShard } from '../src/cli/shard-option.js';
import { UserError } from '../src/errors.js';
import type { StatisticKind } from '../src/methods/method.js';
import { bindMethod, type MethodBinding } from '../src/pipeline/bind.js';
import { FLOPS_PER_SECOND, KRONECKER_PCG_ITERATIONS, preparationCost, READ_BYTES_PER_SECOND, tensorCost } from '../src/pipeline/cost-model.js';
import { assignShards, distributedLayout } from '../src/pipeline/shard-plan.js';
import type { PlannedTensor, TensorSource } from '../src/pipeline/sources.js';

const NO_FILE = {} as Checkpoint;

function binding(method: string, parameters: Record<string, unknown> = {}): MethodBinding {
  const problems: string[] = [];
  const b = bindMethod({ method, parameters }, 'parameters', problems);
  expect(problems).toEqual([]);
  return b!;
}

/** A planned F32 tensor with a base and `models` models, each with the given statistics (F32). */
function tensor(name: string, shape: readonly number[], models: number, kinds: readonly StatisticKind[] = [], action: 'merge' | 'copy' = 'merge'): PlannedTensor {
  const source = (s: readonly number[]): TensorSource => ({ checkpoint: NO_FILE, name, dtype: 'F32', shape: s });
  const statShape = (kind: StatisticKind) => (kind === 'input_gram' ? [shape[1], shape[1]] : kind === 'grad_gram' ? [shape[0], shape[0]] : kind === 'fisher_block' ? [shape[0], shape[0]] : shape);
  return {
    name,
    shape,
    size: shape.reduce((a, b) => a * b, 1),
    dtype: action === 'copy' ? 'I64' : 'F32',
    outputDtype: action === 'copy' ? 'I64' : 'F32',
    action,
    base: source(shape),
    models: Array.from({ length: models }, () => source(shape)),
    statistics: Array.from({ length: models }, () => new Map(kinds.map((k) => [k, source(statShape(k))] as const))),
  };
}

describe('cost model', () => {
  it('counts bytes read and flops as documented', () => {
    const [o, i] = [12, 7];
    const n = o * i;
    // task_arithmetic, weights 1, 0, 2: the base and two models read; a model of weight 0 is not.
    const ta = tensorCost(tensor('w', [o, i], 3), { binding: binding('task_arithmetic'), weights: [1, 0, 2] });
    expect(ta.bytes).toBe(3 * n * 4);
    expect(ta.flops).toBe(2 * 2 * n);
    expect(ta.seconds).toBeCloseTo(ta.bytes / READ_BYTES_PER_SECOND + ta.flops / FLOPS_PER_SECOND, 15);
    // mats kfac, 3 models, Kronecker-preconditioned PCG, from task arithmetic (its init).
    const kfac = tensorCost(tensor('w', [o, i], 3, ['input_gram', 'grad_gram']), { binding: binding('mats', { subspace: 'kfac' }), weights: [1, 1, 1] });
    const apply = 2 * (o * o * i + o * i * i);
    expect(kfac.flops).toBe((1 + KRONECKER_PCG_ITERATIONS) * 3 * apply + o ** 3 + i ** 3 + 2 * 3 * n);
    expect(kfac.bytes).toBe(4 * (n + 3 * n + 3 * (i * i + o * o)));
    expect(kfac.rule).toBe(`kfac, 3 models, PCG ${KRONECKER_PCG_ITERATIONS} iterations (Kronecker preconditioner) + task_arithmetic`);
    // Unpreconditioned: the iteration budget.
    const plain = tensorCost(tensor('w', [o, i], 3, ['input_gram', 'grad_gram']), { binding: binding('mats', { subspace: 'kfac', preconditioner: 'none', iterations: 300, init: 'zeros' }), weights: [1, 1, 1] });
    expect(plain.flops).toBe(301 * 3 * apply);
    // auto without statistics for this tensor: the average's count, and no init (mats averages without one).
    const fallback = tensorCost(tensor('b', [o], 3), { binding: binding('mats'), weights: [1, 1, 1] });
    expect(fallback).toMatchObject({ flops: 2 * 3 * o, rule: 'average (fallback)' });
    // An integer tensor is copied: its bytes, no flops.
    expect(tensorCost(tensor('step', [1], 3, [], 'copy'), { binding: binding('average'), weights: [1, 1, 1] })).toMatchObject({ bytes: 8, flops: 0, rule: 'copy' });
  });

  it('charges every shard the whole-model passes of a global TIES trim', () => {
    const tensors = [tensor('a.weight', [4, 3], 2), tensor('a.bias', [4], 2), tensor('step', [1], 2, [], 'copy')];
    // 2 radix-select passes and the majority sign's, each reading the base and both models' merged tensors (not the copied one).
    const global = preparationCost(tensors, { binding: binding('ties'), weights: [1, 1], precision: 'float32' });
    expect(global).toMatchObject({ passes: 3, bytes: 3 * ((1 + 2) * (12 + 4) * 4) });
    expect(preparationCost(tensors, { binding: binding('ties'), weights: [1, 1], precision: 'float64' }).passes).toBe(5);
    // zero_sign: positive has no majority pass (its tie-budget pass depends on the values, not on headers).
    expect(preparationCost(tensors, { binding: binding('ties', { zero_sign: 'positive' }), weights: [1, 1], precision: 'float32' }).passes).toBe(2);
    expect(preparationCost(tensors, { binding: binding('ties', { trim: 'per_tensor' }), weights: [1, 1], precision: 'float32' }).passes).toBe(0);
    expect(preparationCost(tensors, { binding: binding('mats', { init: 'ties' }), weights: [1, 1], precision: 'float32' }).passes).toBe(3);
  });
});

/** Random layers (weight [o, i] with K-FAC statistics, bias [o]) and norms. */
const layersArb = fc.array(fc.record({ o: fc.integer({ min: 1, max: 64 }), i: fc.integer({ min: 1, max: 64 }), bias: fc.boolean() }), { minLength: 1, maxLength: 25 });

function layerTensors(layers: readonly { o: number; i: number; bias: boolean }[]): PlannedTensor[] {
  return layers.flatMap((l, k) => [tensor(`layers.${k}.weight`, [l.o, l.i], 2, ['input_gram', 'grad_gram']), ...(l.bias ? [tensor(`layers.${k}.bias`, [l.o], 2)] : [])]);
}

const KFAC = { binding: binding('mats', { subspace: 'kfac' }), weights: [1, 1], precision: 'float32' as const };

describe('assignShards', () => {
  it('puts every tensor in one shard, in plan order, a weight with its bias, deterministically, within total / N + the largest group', () => {
    fc.assert(
      fc.property(layersArb, fc.integer({ min: 1, max: 9 }), (layers, shards) => {
        const tensors = layerTensors(layers);
        const a = assignShards(tensors, shards, KFAC);
        expect(a.tensors.flat().sort()).toEqual(tensors.map((t) => t.name).sort());
        for (const list of a.tensors) expect(list).toEqual(tensors.map((t) => t.name).filter((n) => list.includes(n)));
        layers.forEach((l, k) => l.bias && expect(a.shardOf.get(`layers.${k}.bias`)).toBe(a.shardOf.get(`layers.${k}.weight`)));
        expect(assignShards(tensors, shards, KFAC)).toEqual(a);
        const group = (k: number) => a.tensorCosts.filter((c) => c.name.startsWith(`layers.${k}.`)).reduce((s, c) => s + c.seconds, 0);
        const largest = Math.max(...layers.map((_, k) => group(k)));
        const total = a.tensorCosts.reduce((s, c) => s + c.seconds, 0);
        expect(Math.max(...a.costs.map((c) => c.seconds))).toBeLessThanOrEqual((total / shards + largest) * (1 + 1e-12));
        // More shards than groups: one group per shard, the slowest shard is the largest group.
        if (shards >= layers.length) expect(Math.max(...a.costs.map((c) => c.seconds))).toBeCloseTo(largest, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('spreads the big K-FAC solves: one per shard', () => {
    const tensors = [
      ...Array.from({ length: 4 }, (_, k) => tensor(`big.${k}.weight`, [512, 256], 2, ['input_gram', 'grad_gram'])),
      ...Array.from({ length: 40 }, (_, k) => tensor(`small.${k}.weight`, [8, 8], 2)),
    ];
    const a = assignShards(tensors, 4, KFAC);
    for (const list of a.tensors) expect(list.filter((n) => n.startsWith('big.')).length).toBe(1);
  });
});

describe('distributedLayout', () => {
  const specs = (names: readonly string[]) => names.map((name) => ({ name, dtype: 'F32' as const, shape: [10] })); // 40 bytes each
  const tensors = ['a', 'b', 'c', 'd', 'e'].map((n) => tensor(n, [10], 1));

  it('with one shard, is the single-process layout when that has several files', () => {
    const a = assignShards(tensors, 1, { binding: binding('average'), weights: [1], precision: 'float32' });
    const layout = distributedLayout(a, specs(['a', 'b', 'c', 'd', 'e']), 100);
    const single = planShards(specs(['a', 'b', 'c', 'd', 'e']), 100);
    expect(single.length).toBeGreaterThan(1);
    expect(layout.map(({ shard: _shard, ...f }) => f)).toEqual(single);
  });

  it('numbers files across shards in shard order; a shard without tensors has none; a merge without tensors has one empty file', () => {
    const a = assignShards(tensors, 7, { binding: binding('average'), weights: [1], precision: 'float32' });
    const layout = distributedLayout(a, specs(['a', 'b', 'c', 'd', 'e']), 1000);
    expect(layout.map((f) => f.file)).toEqual([1, 2, 3, 4, 5].map((k) => `model-0000${k}-of-00005.safetensors`));
    expect(layout.map((f) => f.shard)).toEqual([...layout.map((f) => f.shard)].sort((x, y) => x - y));
    expect(new Set(layout.map((f) => f.shard)).size).toBe(5);
    expect(distributedLayout(assignShards([], 3, { binding: binding('average'), weights: [1], precision: 'float32' }), [], 1000)).toEqual([{ file: 'model-00001-of-00001.safetensors', tensors: [], bytes: 0, shard: 0 }]);
  });
});

describe('--shard I/N and --shard auto', () => {
  const fails = (f: () => unknown, pattern: RegExp) => {
    expect(f).toThrow(UserError);
    expect(f).toThrow(pattern);
  };

  it('I/N, 0-based', () => {
    expect(resolveShard('2/4', undefined, undefined, {})).toEqual({ index: 2, count: 4 });
    fails(() => resolveShard('4/4', undefined, undefined, {}), /shard 4 does not exist in 4 shards \(shards are numbered 0 to 3\)/);
    fails(() => resolveShard('1/0', undefined, undefined, {}), /--shard takes I\/N/);
    fails(() => resolveShard('first', undefined, undefined, {}), /--shard takes I\/N .* or auto/);
    fails(() => resolveShard('1/4', 3, undefined, {}), /--shard 1\/4 says 4 shards, --shards says 3/);
  });

  it('a Slurm job array: the task id, and N from --shards, the config or the array', () => {
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8' };
    expect(resolveShard('auto', undefined, undefined, env)).toEqual({ index: 3, count: 8 });
    expect(resolveShard('auto', 5, undefined, env)).toEqual({ index: 3, count: 5 });
    expect(resolveShard('auto', undefined, 6, env)).toEqual({ index: 3, count: 6 });
    // A rerun of one task (sbatch --array=3): the array has one task.
    fails(() => resolveShard('auto', undefined, undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1' }), /a rerun of one task of the array\? pass --shards N/);
    expect(resolveShard('auto', 8, undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1' })).toEqual({ index: 3, count: 8 });
    fails(() => resolveShard('auto', undefined, undefined, { SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_COUNT: '8' }), /submit the array as --array=0-7/);
    fails(() => resolveShard('auto', undefined, undefined, { SLURM_ARRAY_TASK_ID: '3' }), /SLURM_ARRAY_TASK_COUNT is not set\); pass --shards N/);
    fails(() => resolveShard('auto', undefined, undefined, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '8' }), /SLURM_ARRAY_TASK_ID="x" is not a task index/);
  });

  it('a Kubernetes Indexed Job: the completion index, N from --shards or the config', () => {
    expect(resolveShard('auto', 4, undefined, { JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 0, count: 4 });
    expect(resolveShard('auto', undefined, 4, { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    fails(() => resolveShard('auto', undefined, undefined, { JOB_COMPLETION_INDEX: '0' }), /Kubernetes does not give the number of shards: pass --shards N/);
    fails(() => resolveShard('auto', 4, undefined, { JOB_COMPLETION_INDEX: '4' }), /shard 4 does not exist in 4 shards/);
  });

  it('neither, or both: an error that says so', () => {
    fails(() => resolveShard('auto', 4, undefined, {}), /neither SLURM_ARRAY_TASK_ID \(a Slurm job array\) nor JOB_COMPLETION_INDEX \(a Kubernetes Indexed Job\) is set/);
    fails(() => resolveShard('auto', 4, undefined, { SLURM_ARRAY_TASK_ID: '1', JOB_COMPLETION_INDEX: '1' }), /both SLURM_ARRAY_TASK_ID \(1\) and JOB_COMPLETION_INDEX \(1\) are set/);
  });
});
