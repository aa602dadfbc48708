/**
 * The cost model of a distributed merge (`mats plan --shards N`, `mats merge --shard I/N`): an
 * estimate, per output tensor, of the seconds its merge takes, used to balance shards. It only
 * has to rank tensors and add up sensibly; it is never used to decide anything about values.
 *
 *   seconds(t) = bytes(t) / READ_BYTES_PER_SECOND + flops(t) / FLOPS_PER_SECOND
 *
 * bytes(t): what the merge pass reads for t, as pipeline/job.ts reads it: the base (when a method
 *   of the tree needs it), every model of weight > 0, and every statistic present for t, each in
 *   its file's dtype; a copied (integer) tensor reads the reference's bytes once.
 * flops(t): the arithmetic of each method of the tree on t (nested ones, e.g. mats's init,
 *   added), counted from the formulas (M = models of weight > 0, n = elements, [o, i] = shape):
 *   - average, task_arithmetic: 2 M n; dare: 6 M n (+ ties when combined); ties: 10 M n
 *     (trim, election, disjoint mean; per-tensor trim's radix select included); breadcrumbs:
 *     10 M n (two magnitude selections per model and the sum; 18 M n combined by ties);
 *   - the task-subspace methods by the subspace the tensor is merged in (fisher: diagonal,
 *     regmean: gram, mats: its `subspace` knob, auto resolved per tensor as mats resolves it):
 *     diagonal 10 M n; gram 2 M o i^2 (right-hand side) + i^3 / 3 (Cholesky of sum_i A_i)
 *     + 4 o i^2 (two solves); block d^3 / 3 + 2 M d^2; kfac with one model: 2 (o^2 i + o i^2)
 *     (right-hand side) + (o^3 + i^3) / 3 + 4 (o^2 i + o i^2); kfac with M >= 2 models by PCG:
 *     (1 + iterations) * M * 2 (o^2 i + o i^2) (the right-hand side and one apply of
 *     sum_i G_i V A_i per iteration) + o^3 + i^3 (the preconditioner's factorisations), with
 *     iterations = the `iterations` knob for unpreconditioned or Jacobi CG and the paper's
 *     solver, min(iterations, KRONECKER_PCG_ITERATIONS) with the Kronecker preconditioner;
 *     `solver: exact` with two models: 10 (o^3 + i^3) (two symmetric eigensolvers) + the
 *     right-hand side; a tensor that falls back to the average: 2 M n;
 *   - a method this file does not know: 2 M n, and the plan says so.
 * preparation: whole-model passes before the merge (TIES's global trim: 2 radix-select passes
 *   in float32, 4 in float64, and with zero_sign: majority one for the majority sign (with
 *   positive, only when ties at the threshold are kept by index); also under dare with combine: ties
 *   and as mats's init) read every merged tensor of every model (and the base) once per pass.
 *   Every shard makes them: they are a fixed cost per shard, not balanced.
 *
 * The two rates are this machine's: the streaming merge read 0.72 GB/s from the page cache and
 * the CPU backend's float32 gemm ran at 35 to 70 GFLOP/s on 2 cores; a cluster node's file system
 * and cores differ, but only their ratio (50 flops per byte) moves the balance between I/O-bound
 * and solve-bound tensors. docs/DESIGN.md "Scale on paper" sets the model against a real-size
 * K-FAC solve (it converged in 8 iterations where the model counts 20).
 */
import type { Subspace, SubspaceChoice } from '../methods/subspace.js';
import { activeModels, selectSubspace } from '../methods/subspace.js';
import type { StatisticKind, TensorJob } from '../methods/method.js';
import { TIES_DEFAULTS } from '../methods/ties.js';
import { dtypeBytes, isReadableDType, type SafetensorsDType } from '../safetensors/dtype.js';
import { bindingsInOrder, requiresBase, type MethodBinding } from './bind.js';
import type { PlannedTensor } from './sources.js';

export const READ_BYTES_PER_SECOND = 1e9;
export const FLOPS_PER_SECOND = 5e10;
/** PCG iterations assumed for a K-FAC solve with the Kronecker preconditioner (measured: 6 to 12 to rtol 1e-6, bench/results). */
export const KRONECKER_PCG_ITERATIONS = 20;

export interface Cost {
  /** Bytes read. */
  readonly bytes: number;
  /** Floating-point operations. */
  readonly flops: number;
  /** bytes / READ_BYTES_PER_SECOND + flops / FLOPS_PER_SECOND. */
  readonly seconds: number;
}

export interface TensorCost extends Cost {
  readonly name: string;
  /** How the flops were counted, e.g. "kfac, 8 models, PCG 20 iterations". */
  readonly rule: string;
}

export const ZERO_COST: Cost = { bytes: 0, flops: 0, seconds: 0 };

export function cost(bytes: number, flops: number): Cost {
  return { bytes, flops, seconds: bytes / READ_BYTES_PER_SECOND + flops / FLOPS_PER_SECOND };
}

export function addCosts(a: Cost, b: Cost): Cost {
  return cost(a.bytes + b.bytes, a.flops + b.flops);
}

const widthOf = (dtype: SafetensorsDType) => (isReadableDType(dtype) ? dtypeBytes(dtype) : 1);
const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** What the cost of a tensor depends on besides the tensor: the method tree and the model weights. */
export interface CostContext {
  readonly binding: MethodBinding;
  readonly weights: readonly number[];
  /** A merged tensor's own tree and weights, where the config varies knobs or weights by tensor (pipeline/tensor-settings.ts). */
  readonly perTensor?: ReadonlyMap<string, { readonly binding: MethodBinding; readonly weights: readonly number[] }>;
}

/** The tree and weights tensor t is merged with. */
function contextOf(t: PlannedTensor, context: CostContext): CostContext {
  const own = context.perTensor?.get(t.name);
  return own === undefined ? context : { binding: own.binding, weights: own.weights };
}

/** The bytes the merge pass reads for t (pipeline/job.ts prefetch). */
function bytesRead(t: PlannedTensor, context: CostContext): number {
  const width = widthOf(t.dtype);
  if (t.action === 'copy') return t.size * width;
  let bytes = 0;
  if (t.base !== undefined && requiresBase(context.binding)) bytes += t.size * width;
  context.weights.forEach((w, i) => {
    if (w !== 0 && t.models[i] !== undefined) bytes += t.size * width;
  });
  for (const stats of t.statistics) for (const s of stats.values()) bytes += elements(s.shape) * widthOf(s.dtype);
  return bytes;
}

interface Counted {
  readonly flops: number;
  readonly rule: string;
  /** A tensor that falls back to the average runs none of the methods this one calls (mats's init). */
  readonly fallback?: boolean;
}

/** The subspace a task-subspace method merges t in (as methods/subspace.ts selects it), or undefined for a fallback. */
function subspaceOf(t: PlannedTensor, choice: SubspaceChoice, weights: readonly number[]): Subspace | undefined {
  // selectSubspace reads only the shape and which statistics each model has.
  const info = { name: t.name, shape: t.shape, size: t.size, dtype: t.dtype, weights, hasStatistic: (i: number, kind: StatisticKind) => t.statistics[i]?.has(kind) ?? false };
  const selection = selectSubspace(info as unknown as TensorJob, choice, activeModels(info));
  return 'subspace' in selection ? selection.subspace : undefined;
}

interface SolveKnobs {
  readonly iterations: number;
  readonly preconditioner: string;
  readonly solver: string;
  readonly reference: boolean;
}

const DIRECT: SolveKnobs = { iterations: 0, preconditioner: 'auto', solver: 'exact', reference: false };

function subspaceFlops(subspace: Subspace | undefined, shape: readonly number[], m: number, knobs: SolveKnobs): Counted {
  const n = elements(shape);
  const [o, i] = shape;
  switch (subspace) {
    case undefined:
      return { flops: 2 * m * n, rule: 'average (fallback)', fallback: true };
    case 'identity':
      return { flops: 2 * m * n, rule: 'identity' };
    case 'diagonal':
      return { flops: 10 * m * n, rule: 'diagonal' };
    case 'gram':
      return { flops: 2 * m * o * i * i + (i * i * i) / 3 + 4 * o * i * i, rule: 'gram' };
    case 'block':
      return { flops: (n * n * n) / 3 + 2 * m * n * n, rule: 'block' };
    case 'kfac': {
      const apply = 2 * (o * o * i + o * i * i);
      if (m <= 1) return { flops: apply + (o * o * o + i * i * i) / 3 + 2 * apply, rule: 'kfac, 1 model (closed form)' };
      if (knobs.solver === 'exact' && !knobs.reference && m === 2) return { flops: 10 * (o * o * o + i * i * i) + m * apply, rule: 'kfac, 2 models (closed form)' };
      const kronecker = !knobs.reference && (knobs.preconditioner === 'auto' || knobs.preconditioner === 'kronecker');
      const iterations = kronecker ? Math.min(knobs.iterations, KRONECKER_PCG_ITERATIONS) : knobs.iterations;
      return { flops: (1 + iterations) * m * apply + (kronecker ? o * o * o + i * i * i : 0), rule: `kfac, ${m} models, PCG ${iterations} iterations${kronecker ? ' (Kronecker preconditioner)' : ''}` };
    }
  }
}

/** Flops of one method of the tree on t (its nested methods are counted on their own). */
function methodFlops(b: MethodBinding, t: PlannedTensor, weights: readonly number[]): Counted | undefined {
  const m = activeModels({ weights }).length;
  const n = t.size;
  const p = b.parameters as Record<string, unknown>;
  switch (b.method.name) {
    case 'average':
    case 'task_arithmetic':
      return { flops: 2 * m * n, rule: b.method.name };
    case 'ties':
      return { flops: 10 * m * n, rule: 'ties' };
    case 'dare':
      return { flops: (p.combine === 'ties' ? 16 : 6) * m * n, rule: `dare (${String(p.combine)})` };
    case 'breadcrumbs':
      return { flops: (p.combine === 'ties' ? 18 : 10) * m * n, rule: `breadcrumbs (${String(p.combine)})` };
    case 'fisher':
      return subspaceFlops(subspaceOf(t, 'diagonal', weights), t.shape, m, DIRECT);
    case 'regmean':
      return subspaceFlops(subspaceOf(t, 'gram', weights), t.shape, m, DIRECT);
    case 'mats': {
      const knobs = { iterations: Number(p.iterations), preconditioner: String(p.preconditioner), solver: String(p.solver), reference: p.reference === true };
      return subspaceFlops(subspaceOf(t, p.subspace as SubspaceChoice, weights), t.shape, m, knobs);
    }
    default:
      return undefined;
  }
}

/** The estimated cost of merging (or copying) one output tensor. */
export function tensorCost(t: PlannedTensor, given: CostContext): TensorCost {
  const context = contextOf(t, given);
  const bytes = bytesRead(t, context);
  if (t.action === 'copy') return { name: t.name, ...cost(bytes, 0), rule: 'copy' };
  const root = methodFlops(context.binding, t, context.weights);
  // Nested methods (an init) run only when the root method solves the tensor.
  const bindings = root?.fallback === true ? [context.binding] : bindingsInOrder(context.binding);
  let flops = 0;
  const rules: string[] = [];
  for (const b of bindings) {
    const counted = b === context.binding ? root : methodFlops(b, t, context.weights);
    if (counted === undefined) {
      flops += 2 * activeModels(context).length * t.size;
      rules.push(`${b.method.name}: no flop estimate, counted as 2 M n`);
    } else {
      flops += counted.flops;
      rules.push(counted.rule);
    }
  }
  // The root's rule first: bindingsInOrder lists nested methods before their caller.
  return { name: t.name, ...cost(bytes, flops), rule: rules.reverse().join(' + ') };
}

/** Whole-model passes of one method of the tree before the merge, or 0. */
function preparationPasses(b: MethodBinding, precision: 'float32' | 'float64'): { passes: number; rule?: string } {
  const p = b.parameters as Record<string, unknown>;
  const tiesGlobal = (b.method.name === 'ties' || (b.method.name === 'dare' && p.combine === 'ties')) && p.trim === 'global';
  if (tiesGlobal) {
    // With zero_sign: positive, the tie-budget pass is made only when the values need it (ties.ts).
    const majority = (p.zero_sign ?? TIES_DEFAULTS.zero_sign) === 'majority';
    const threshold = precision === 'float32' ? 2 : 4;
    return majority
      ? { passes: threshold + 1, rule: `${b.method.name}: global trim threshold and majority sign` }
      : { passes: threshold, rule: `${b.method.name}: global trim threshold (one pass more when ties at the threshold are kept by index)` };
  }
  if (b.method.prepare !== undefined && !['ties', 'dare'].includes(b.method.name)) return { passes: 1, rule: `${b.method.name}: prepares over the whole model (counted as 1 pass)` };
  return { passes: 0 };
}

export interface PreparationCost extends Cost {
  readonly passes: number;
  /** What the passes are for, empty without any. */
  readonly rules: readonly string[];
}

/** The whole-model passes every shard makes before merging its tensors (reading weights only). */
export function preparationCost(tensors: readonly PlannedTensor[], context: CostContext & { readonly precision: 'float32' | 'float64' }): PreparationCost {
  let passes = 0;
  const rules: string[] = [];
  for (const b of bindingsInOrder(context.binding)) {
    const r = preparationPasses(b, context.precision);
    passes += r.passes;
    if (r.rule !== undefined) rules.push(r.rule);
  }
  if (passes === 0) return { ...ZERO_COST, passes, rules };
  const usesBase = requiresBase(context.binding);
  let perPass = 0;
  for (const t of tensors) {
    if (t.action !== 'merge') continue;
    const width = widthOf(t.dtype);
    if (usesBase && t.base !== undefined) perPass += t.size * width;
    contextOf(t, context).weights.forEach((w, i) => {
      if (w !== 0 && t.models[i] !== undefined) perPass += t.size * width;
    });
  }
  return { ...cost(passes * perPass, 0), passes, rules };
}
