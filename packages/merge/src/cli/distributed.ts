/**
 * The distributed-merge side of the CLI: the text and JSON of `mats plan CONFIG --shards N`,
 * the lines `mats merge --shard` adds to --dry-run and to its final line, and `mats gather`'s
 * summary.
 */
import { formatBytes, formatShape, listSome } from '../util/format.js';
import type { GatherSummary } from '../checkpoint/gather.js';
import { describeWork } from './describe-report.js';
import { FLOPS_PER_SECOND, KRONECKER_PCG_ITERATIONS, READ_BYTES_PER_SECOND } from '../pipeline/cost-model.js';
import type { DistributedPlan, ShardChoice, ShardSummary } from '../pipeline/shard-merge.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (s: number) => (s >= 100 ? `${s.toFixed(0)} s` : s >= 1 ? `${s.toFixed(1)} s` : `${s.toFixed(3)} s`);
const flops = (f: number) => (f === 0 ? '0' : f.toExponential(2));

function filesOf(dp: DistributedPlan, shard: number): string[] {
  return dp.layout.filter((f) => f.shard === shard).map((f) => f.file);
}

/** A range of file names: "model-00002-of-00007.safetensors", "model-00002..00004-of-00007", "(none)". */
function fileRange(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  if (names.length === 1) return names[0];
  const first = /^model-(\d+)-of-(\d+)\.safetensors$/.exec(names[0]);
  const last = /^model-(\d+)-of-(\d+)\.safetensors$/.exec(names[names.length - 1]);
  return first !== null && last !== null ? `model-${first[1]}..${last[1]}-of-${first[2]}` : `${names[0]} .. ${names[names.length - 1]}`;
}

/** `mats plan` as text: the summary table, then every shard's tensors with their estimated cost. */
export function describeDistributedPlan(dp: DistributedPlan, merge: string): string {
  const { plan, assignment: a } = dp;
  const lines: string[] = [];
  const copied = plan.tensors.length - plan.merged.length;
  lines.push(`config: ${plan.config.source}`);
  lines.push(`method: ${plan.binding.method.name} ${JSON.stringify(plan.binding.parameters)}`);
  lines.push(`merge: ${merge} (the config and inputs hash: every shard's completion record carries it)`);
  lines.push(`tensors: ${plan.tensors.length} (${plan.merged.length} merged, ${copied} copied) in ${a.shards} shard${a.shards === 1 ? '' : 's'}; output: ${plan.outputPath}, ${dp.layout.length} file${dp.layout.length === 1 ? '' : 's'} and model.safetensors.index.json (written by mats gather)${plan.companionFiles.length > 0 ? `; shard 0 also writes ${listSome(plan.companionFiles.map((f) => f.name), 4)}` : ''}`);
  lines.push(
    `cost model: seconds = bytes read / ${formatBytes(READ_BYTES_PER_SECOND)}/s + flops / ${FLOPS_PER_SECOND / 1e9} GFLOP/s; K-FAC PCG with the Kronecker preconditioner counted at ${KRONECKER_PCG_ITERATIONS} iterations (pipeline/cost-model.ts)`,
  );
  const prep = a.preparation;
  lines.push(
    prep.passes === 0
      ? 'preparation: none (each shard reads only what its tensors need)'
      : `preparation: every shard first makes ${prep.passes} whole-model pass${prep.passes === 1 ? '' : 'es'} (${prep.rules.join('; ')}): ${formatBytes(prep.bytes)} read, est. ${seconds(prep.seconds)}`,
  );
  lines.push('');
  const rows = a.tensors.map((names, s) => ({
    shard: String(s),
    tensors: String(names.length),
    files: fileRange(filesOf(dp, s)),
    read: formatBytes(dp.perShard[s].total.bytes),
    flops: flops(dp.perShard[s].total.flops),
    time: seconds(dp.perShard[s].total.seconds),
    memory: names.length === 0 ? '-' : formatBytes(dp.perShard[s].memory.peakBytes),
  }));
  const header = { shard: 'shard', tensors: 'tensors', files: 'files', read: 'read', flops: 'flops', time: 'est. time', memory: 'peak memory' };
  const keys = Object.keys(header) as (keyof typeof header)[];
  const width = Object.fromEntries(keys.map((k) => [k, Math.max(header[k].length, ...rows.map((r) => r[k].length))])) as Record<keyof typeof header, number>;
  for (const r of [header, ...rows]) lines.push(keys.map((k) => r[k].padEnd(width[k])).join('  ').trimEnd());
  const totals = dp.perShard.map((p) => p.total.seconds);
  const mean = totals.reduce((s, x) => s + x, 0) / totals.length;
  lines.push(`slowest shard / mean: ${mean > 0 ? (Math.max(...totals) / mean).toFixed(2) : '1.00'} (1.00: perfectly balanced; a shard cannot be faster than its largest tensor)`);
  const costs = new Map(a.tensorCosts.map((c) => [c.name, c]));
  const byName = new Map(plan.tensors.map((t) => [t.name, t]));
  for (let s = 0; s < a.shards; s++) {
    lines.push('');
    lines.push(`shard ${s}: ${plural(a.tensors[s].length, 'tensor')}, est. ${seconds(dp.perShard[s].total.seconds)}${prep.passes > 0 ? ` (preparation ${seconds(prep.seconds)} included)` : ''}, files ${fileRange(filesOf(dp, s))}`);
    const nameWidth = Math.max(0, ...a.tensors[s].map((n) => n.length));
    for (const name of a.tensors[s]) {
      const c = costs.get(name)!;
      lines.push(`  ${name.padEnd(nameWidth)}  ${formatShape(byName.get(name)!.shape).padEnd(14)}  ${seconds(c.seconds).padStart(8)}  ${c.rule}`);
    }
  }
  return lines.join('\n');
}

/** `mats plan --json`: everything above as one object. */
export function distributedPlanJson(dp: DistributedPlan, merge: string): unknown {
  const { plan, assignment: a } = dp;
  const costs = new Map(a.tensorCosts.map((c) => [c.name, c]));
  const byName = new Map(plan.tensors.map((t) => [t.name, t]));
  return {
    config: plan.config.source,
    merge,
    method: plan.binding.method.name,
    output: plan.outputPath,
    shards: a.shards,
    costModel: { readBytesPerSecond: READ_BYTES_PER_SECOND, flopsPerSecond: FLOPS_PER_SECOND, kroneckerPcgIterations: KRONECKER_PCG_ITERATIONS },
    preparation: a.preparation,
    files: dp.layout.map((f) => ({ file: f.file, shard: f.shard, bytes: f.bytes, tensors: f.tensors.map((t) => t.name) })),
    companionFiles: plan.companionFiles.map((f) => ({ file: f.name, shard: 0 })),
    perShard: a.tensors.map((names, s) => ({
      shard: s,
      estimated: dp.perShard[s].total,
      peakMemoryBytes: dp.perShard[s].memory.peakBytes,
      files: filesOf(dp, s),
      tensors: names.map((n) => ({ ...costs.get(n)!, shape: byName.get(n)!.shape, dtype: byName.get(n)!.outputDtype })),
    })),
  };
}

/** The lines `mats merge --shard I/N --dry-run` adds to the plan. */
export function describeShard(dp: DistributedPlan, shard: ShardChoice, merge: string): string {
  const mine = dp.assignment.tensors[shard.index];
  const total = dp.perShard[shard.index];
  return [
    `shard: ${shard.index}/${shard.count} (merge ${merge}): ${mine.length} of ${plural(dp.plan.tensors.length, 'tensor')}, files ${fileRange(filesOf(dp, shard.index))}`,
    `shard estimate: ${formatBytes(total.total.bytes)} read${dp.assignment.preparation.passes > 0 ? ` (whole-model preparation included)` : ''}, est. ${seconds(total.total.seconds)}, peak memory ${formatBytes(total.memory.peakBytes)}`,
    ...(mine.length === 0 ? ['this shard has no tensors: it writes only its completion record'] : []),
  ].join('\n');
}

/** The final line of `mats merge --shard`. */
export function describeShardSummary(summary: ShardSummary, shard: ShardChoice): string {
  const next = `mats gather ${summary.outputPath} once every shard is done`;
  if (summary.skipped) return `shard ${shard.index}/${shard.count} of ${summary.outputPath} was already complete: nothing to do; ${next}`;
  const files = summary.files.length === 0 ? 'no file (no tensor)' : summary.files.map((f) => f.slice(summary.outputPath.length + 1)).join(', ');
  return `wrote shard ${shard.index}/${shard.count} of ${summary.outputPath}: ${files}; ${plural(summary.merged, 'tensor')} merged, ${describeWork(summary)}; ${next}`;
}

/** The final line of `mats gather`. */
export function describeGather(g: GatherSummary): string {
  return `gathered ${g.output}: ${plural(g.shards, 'shard')} of merge ${g.merge.slice(0, 12)}, ${plural(g.files, 'file')}, ${plural(g.tensors, 'tensor')}, ${formatBytes(g.totalSize)}${g.companions.length > 0 ? `, with ${listSome(g.companions, 4)}` : ''}${g.verified ? ', every file\'s SHA-256 checked' : ''}; wrote model.safetensors.index.json`;
}
