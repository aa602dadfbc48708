/**
 * Splitting a merge into N shards (`mats plan --shards N`, `mats merge --shard I/N`):
 *
 * Assignment. Every output tensor goes to exactly one shard. A weight `X.weight` and its bias
 * `X.bias` go together (bias folding solves them jointly: apart, both shards would solve). The
 * groups are dealt by LPT (longest processing time first): by estimated cost (cost-model.ts),
 * largest first, each to the shard with the least cost so far (the lowest index on a tie), so the
 * big K-FAC solves spread out first and the small tensors fill the gaps. The result is at most
 * 4/3 of the best possible maximum (Graham 1969), and always at most total / N + the largest
 * group. Equal costs are ordered by plan position: the assignment depends on the config and the
 * inputs' headers alone, so every shard computes the same one.
 *
 * Layout. The output is the Hugging Face sharded layout, always with an index: shard 0's tensors
 * (in plan order) fill files of at most output.shard_size as a single-process merge fills them,
 * then shard 1's, and so on; files are numbered across all shards, model-0000k-of-0000K. A shard
 * without tensors writes no file. With N = 1 the files are those of the single-process merge of
 * the same config whenever it writes more than one file (byte for byte).
 */
import { planShards, type ShardPlan } from '../checkpoint/output.js';
import { shardFileName } from '../checkpoint/shard-index.js';
import type { TensorSpec } from '../safetensors/layout.js';
import { addCosts, preparationCost, tensorCost, ZERO_COST, type Cost, type CostContext, type PreparationCost, type TensorCost } from './cost-model.js';
import type { PlannedTensor } from './sources.js';

export interface ShardAssignment {
  readonly shards: number;
  /** Per shard, its tensors in plan order. */
  readonly tensors: readonly (readonly string[])[];
  /** Per shard, the estimated cost of its tensors (preparation not included). */
  readonly costs: readonly Cost[];
  /** Tensor name -> shard. */
  readonly shardOf: ReadonlyMap<string, number>;
  /** Every tensor's estimated cost, in plan order. */
  readonly tensorCosts: readonly TensorCost[];
  /** The whole-model passes every shard makes first. */
  readonly preparation: PreparationCost;
}

/** The sibling group key of a tensor: `X` for `X.weight` and `X.bias`, the name itself otherwise. */
function groupKey(name: string): string {
  const m = /^(.*)\.(weight|bias)$/.exec(name);
  return m === null ? name : `${m[1]}.`;
}

export function assignShards(tensors: readonly PlannedTensor[], shards: number, context: CostContext & { readonly precision: 'float32' | 'float64' }): ShardAssignment {
  if (!Number.isSafeInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  const tensorCosts = tensors.map((t) => tensorCost(t, context));
  // Groups in order of their first tensor's plan position.
  const groups = new Map<string, { first: number; members: number[]; cost: Cost }>();
  tensorCosts.forEach((c, position) => {
    const key = groupKey(c.name);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { first: position, members: [position], cost: c });
    else {
      g.members.push(position);
      g.cost = addCosts(g.cost, c);
    }
  });
  const ordered = [...groups.values()].sort((a, b) => b.cost.seconds - a.cost.seconds || a.first - b.first);
  const loads: Cost[] = Array.from({ length: shards }, () => ZERO_COST);
  const shardOfPosition = new Array<number>(tensors.length);
  for (const g of ordered) {
    let best = 0;
    for (let s = 1; s < shards; s++) if (loads[s].seconds < loads[best].seconds) best = s;
    loads[best] = addCosts(loads[best], g.cost);
    for (const p of g.members) shardOfPosition[p] = best;
  }
  const lists: string[][] = Array.from({ length: shards }, () => []);
  const shardOf = new Map<string, number>();
  tensors.forEach((t, p) => {
    lists[shardOfPosition[p]].push(t.name);
    shardOf.set(t.name, shardOfPosition[p]);
  });
  return { shards, tensors: lists, costs: loads, shardOf, tensorCosts, preparation: preparationCost(tensors, context) };
}

export interface DistributedFile extends ShardPlan {
  /** The shard that writes it. */
  readonly shard: number;
}

/**
 * The output files of a distributed merge: each shard's tensors in plan order split at
 * shardSize, numbered across shards. specs: every output tensor in plan order.
 */
export function distributedLayout(assignment: ShardAssignment, specs: readonly TensorSpec[], shardSize: number): DistributedFile[] {
  const groups: { shard: number; plan: ShardPlan }[] = [];
  for (let s = 0; s < assignment.shards; s++) {
    const mine = specs.filter((spec) => assignment.shardOf.get(spec.name) === s);
    if (mine.length === 0) continue;
    for (const plan of planShards(mine, shardSize)) groups.push({ shard: s, plan });
  }
  // A merge without any tensor still writes one (empty) file, as the single-process merge does.
  if (groups.length === 0) groups.push({ shard: 0, plan: { file: '', tensors: [], bytes: 0 } });
  return groups.map((g, k) => ({ ...g.plan, file: shardFileName(k + 1, groups.length), shard: g.shard }));
}
