/**
 * One shard of a distributed merge (`mats merge CONFIG --shard I/N`): plan the whole merge from
 * headers, assign tensors to shards (shard-plan.ts), merge shard I's tensors into its files of
 * the shared output (checkpoint/shard-output.ts), and record it. Every shard computes the same
 * assignment and layout; `mats gather` then checks the records and writes the index.
 *
 * What a shard reads: the headers of every input; the statistics of its own tensors (checked,
 * then read again by the merge); its tensors' weights; and, for methods with whole-model
 * preparation passes (TIES's global trim, also under dare and as mats's init), every merged
 * tensor's weights in those passes: the trim threshold, the majority sign and the tie budgets
 * are over the whole model, so each shard computes them in full (their cost is in `mats plan`).
 * With this, each tensor's bytes equal the single-process merge's: the merge of a tensor depends
 * on its inputs, the config and the preparation's result, never on which other tensors the
 * process merges (ties.ts records the tie budget per job for this).
 */
import { join } from 'node:path';
import { prepareSharedOutput, ShardOutput } from '../checkpoint/shard-output.js';
import type { MergeConfig } from '../config/load.js';
import { bindingsInOrder } from './bind.js';
import { addCosts, type Cost } from './cost-model.js';
import { mergeFingerprint } from './merge-fingerprint.js';
import { estimateMemory, type MemoryEstimate } from './memory-estimate.js';
import { planMerge, type MergePlan, type PlanOptions } from './plan.js';
import { runMerge, type MergeSummary, type RunOptions } from './run.js';
import { assignShards, distributedLayout, type DistributedFile, type ShardAssignment } from './shard-plan.js';

/** Shard `index` (0-based) of `count`. */
export interface ShardChoice {
  readonly index: number;
  readonly count: number;
}

export interface DistributedPlan {
  /** The merge plan; with a shard chosen, plan.selected holds its tensors. */
  readonly plan: MergePlan;
  readonly assignment: ShardAssignment;
  /** Every output file, with the shard that writes it. */
  readonly layout: readonly DistributedFile[];
  /** Per shard: its process's estimated peak memory (as --dry-run estimates it) and its cost with the preparation. */
  readonly perShard: readonly { readonly memory: MemoryEstimate; readonly total: Cost }[];
}

export interface ShardMergePlan extends DistributedPlan {
  readonly shard: ShardChoice;
  /** The merge's identity (merge-fingerprint.ts). */
  readonly merge: string;
}

/**
 * Plans a merge split into `shards` (every shard's tensors, costs and files). With `only`, the
 * plan reads and checks only that shard's statistics (what `mats merge --shard` needs).
 */
export async function planDistributedMerge(config: MergeConfig, shards: number, options: PlanOptions & { only?: number } = {}): Promise<DistributedPlan> {
  let assignment: ShardAssignment | undefined;
  const plan = await planMerge(config, {
    ...options,
    selectTensors: (tensors, binding, settings) => {
      // Every merged tensor has its setting; the static weights are for copied tensors, whose cost ignores them.
      const weights = config.models.map((m) => (typeof m.weight === 'number' ? m.weight : 1));
      assignment = assignShards(tensors, shards, { binding, weights, perTensor: settings.of, precision: config.precision });
      return new Set(options.only === undefined ? [] : assignment.tensors[options.only]);
    },
  });
  const a = assignment!;
  const layout = distributedLayout(a, plan.tensors.map((t) => ({ name: t.name, dtype: t.outputDtype, shape: t.shape })), config.output.shardSize);
  const precisionBytes = config.precision === 'float64' ? 8 : 4;
  const wholeModel = bindingsInOrder(plan.binding).some((b) => b.method.wholeModel?.(b.parameters) === true);
  const perShard = a.tensors.map((names, s) => {
    const mine = new Set(names);
    const tensors = plan.tensors.filter((t) => mine.has(t.name));
    // Whole-model passes (TIES's global trim) work on every job in each shard: the whole merge's peak.
    const memory = wholeModel ? plan.memory : estimateMemory({ tensors, binding: plan.binding, elementwise: plan.elementwise, chunkElements: plan.chunkElements, precisionBytes, usesBase: plan.usesBase, baselineBytes: plan.memory.baselineBytes });
    return { memory, total: addCosts(a.preparation, a.costs[s]) };
  });
  return { plan, assignment: a, layout, perShard };
}

/** Plans shard `shard.index` of `shard.count`: the whole assignment, this shard's statistics checked, the merge's hash. */
export async function planShardMerge(config: MergeConfig, shard: ShardChoice, options: PlanOptions = {}): Promise<ShardMergePlan> {
  const distributed = await planDistributedMerge(config, shard.count, { ...options, only: shard.index });
  try {
    const { hash } = await mergeFingerprint(distributed.plan);
    return { ...distributed, shard, merge: hash };
  } catch (e) {
    await distributed.plan.close();
    throw e;
  }
}

export interface ShardSummary extends MergeSummary {
  /** The files this shard wrote (none when skipped). */
  readonly files: readonly string[];
  /** Already complete for the same merge: nothing was done. */
  readonly skipped: boolean;
}

/** Runs one shard: checks the shared output, merges the shard's tensors, writes its files and completion record. */
export async function runShardMerge(sp: ShardMergePlan, options: RunOptions = {}): Promise<ShardSummary> {
  const { plan, shard } = sp;
  const log = (message: string) => options.onEvent?.({ type: 'log', message });
  const id = { merge: sp.merge, shard: shard.index, shards: shard.count };
  const files = sp.layout.filter((f) => f.shard === shard.index);
  const decision = await prepareSharedOutput(plan.outputPath, id, plan.force, log);
  const outputBytes = files.reduce((s, f) => s + f.bytes, 0);
  if (decision.action === 'skip') {
    log(`shard ${shard.index}/${shard.count} is already complete for this merge (${decision.record.path}); nothing to do (--force merges it again)`);
    return { outputPath: plan.outputPath, merged: 0, copied: 0, outputBytes: 0, inputBytesRead: 0, seconds: 0, passes: 0, files: [], skipped: true };
  }
  const fields = {
    outputFiles: sp.layout.length,
    outputTensors: plan.tensors.length,
    metadata: { ...plan.metadata },
    backend: `${plan.backend.name} (${plan.backend.mode}), ${plan.config.precision}`,
  };
  // A Hugging Face folder's config and tokenizer files: shard 0 writes them (every shard plans the same ones).
  const companions = shard.index === 0 ? plan.companionFiles : [];
  const output = () => ShardOutput.create(plan.outputPath, id, files, companions, plan.metadata, fields);
  if (files.length === 0) {
    // More shards than tensors: nothing to read or prepare, only the record to write.
    const started = performance.now();
    await (await output()).commit();
    return { outputPath: plan.outputPath, merged: 0, copied: 0, outputBytes: 0, inputBytesRead: 0, seconds: (performance.now() - started) / 1000, passes: 0, files: [], skipped: false };
  }
  // ShardOutput writes the companion files into the output itself, beside the shard's tensors.
  const summary = await runMerge({ ...plan, companionFiles: [] }, { ...options, output });
  return { ...summary, outputBytes, files: files.map((f) => join(plan.outputPath, f.file)), skipped: false };
}
