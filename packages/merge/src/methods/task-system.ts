/**
 * The merge system of one tensor (DESIGN.md eq. 1): (sum_i C_i) theta = sum_i C_i theta_i,
 * with each C_i a @mats/core operator built from model i's statistics. The sum is built by
 * core's add, so dispatch keeps the closed forms in reach (a Sum of Diagonals is a Diagonal,
 * a Sum of Grams a Gram, two Kroneckers have the simultaneous diagonalisation).
 *
 * A model's weight w_i scales its C_i (w_i C_i), so the identity subspace gives the weighted
 * average, as `average` does.
 */
import {
  DenseOperator,
  DiagonalOperator,
  GramOperator,
  IdentityOperator,
  KroneckerOperator,
  SumOperator,
  add,
  disposeOperator,
  scale,
  type Backend,
  type LinearOperator,
  type Tensor,
} from '@mats/core';
import type { TensorJob } from './method.js';
import { prepareDiagonalFisher, prepareGramFactor } from './statistic-factors.js';
import type { Subspace } from './subspace.js';

export interface TaskSystemOptions {
  /** Off-diagonal shrink of Gram factors (input_gram, grad_gram), in [0, 1]. */
  readonly shrink: number;
  /** Damping of every factor: + delta * mean(diag) * I. */
  readonly damping: number;
  /** Floor of diagonal Fisher entries. */
  readonly floor: number;
}

export interface TaskSystem {
  /** The block shape the operators act on (blockShape). */
  readonly shape: readonly number[];
  /** sum_i w_i C_i */
  readonly system: LinearOperator;
  /** sum_i w_i C_i theta_i, in the block shape. */
  readonly rhs: Tensor;
  /** Releases every tensor made here and by core for these operators. */
  dispose(): void;
}

/**
 * The block shape of a job: the tensor's shape for a whole tensor ([1] for a scalar), a flat
 * [length] for a chunk of an elementwise method (only the diagonal and identity subspaces are
 * elementwise).
 */
export function blockShape(job: Pick<TensorJob, 'shape' | 'size' | 'length'>): readonly number[] {
  if (job.length !== job.size) return [job.length];
  return job.shape.length === 0 ? [1] : job.shape;
}

/**
 * Builds sum_i w_i C_i and sum_i w_i C_i theta_i over the given models, on backend. The sum is
 * folded with core's add one model at a time, and a C_i the running sum no longer needs (a
 * Diagonal, Gram or Dense merged into the sum's own) is released at once: memory holds two
 * models' statistics, not M, wherever the structure merges. Kroneckers stay parts of a Sum.
 */
export async function buildTaskSystem(job: TensorJob, subspace: Subspace, models: readonly number[], backend: Backend, options: TaskSystemOptions): Promise<TaskSystem> {
  const shape = blockShape(job);
  /** Tensors uploaded for each operator built here (operators never own what they are given). */
  const uploads = new Map<LinearOperator, Tensor[]>();
  const release = (op: LinearOperator) => {
    // A Sum's parts live on in the sum that replaced it: release its own scratch only.
    if (op instanceof SumOperator) op.dispose();
    else disposeOperator(op);
    for (const t of uploads.get(op) ?? []) backend.dispose(t);
    uploads.delete(op);
  };
  let system: LinearOperator | undefined;
  const rhs = backend.zeros(shape);
  const term = backend.zeros(shape);
  try {
    for (const i of models) {
      const tensors: Tensor[] = [];
      const upload = (data: ArrayLike<number>, s: readonly number[]) => {
        const t = backend.fromArray(data, s);
        tensors.push(t);
        return t;
      };
      let c: LinearOperator;
      try {
        c = await taskOperator(job, i, subspace, shape, backend, upload, options);
      } catch (e) {
        for (const t of tensors) backend.dispose(t);
        throw e;
      }
      uploads.set(c, tensors);
      const theta = backend.fromArray(await job.model(i), shape);
      c.apply(theta, term); // w_i C_i theta_i
      backend.dispose(theta);
      backend.axpy(1, term, rhs);
      const next: LinearOperator = system === undefined ? c : add(system, c);
      if (system !== undefined && !keeps(next, system)) release(system);
      if (!keeps(next, c)) release(c);
      system = next;
    }
    backend.dispose(term);
    const sum = system!;
    return {
      shape,
      system: sum,
      rhs,
      dispose() {
        disposeOperator(sum);
        for (const ts of uploads.values()) for (const t of ts) backend.dispose(t);
        uploads.clear();
        backend.dispose(rhs);
      },
    };
  } catch (e) {
    if (system !== undefined) disposeOperator(system);
    for (const ts of uploads.values()) for (const t of ts) backend.dispose(t);
    backend.dispose(rhs);
    backend.dispose(term);
    throw e;
  }
}

/** Whether the running sum `next` still holds `op` (is it, or has it as a part). */
function keeps(next: LinearOperator, op: LinearOperator): boolean {
  return next === op || (next instanceof SumOperator && next.parts.includes(op));
}

/** w_i C_i for model i. */
async function taskOperator(
  job: TensorJob,
  i: number,
  subspace: Subspace,
  shape: readonly number[],
  backend: Backend,
  upload: (data: ArrayLike<number>, shape: readonly number[]) => Tensor,
  options: TaskSystemOptions,
): Promise<LinearOperator> {
  const w = job.weights[i];
  const label = `${job.name} models[${i}]`;
  switch (subspace) {
    case 'identity': {
      const identity = new IdentityOperator(backend, shape);
      return w === 1 ? identity : scale(identity, w);
    }
    case 'diagonal': {
      const f = prepareDiagonalFisher(await job.statistic(i, 'fisher'), { floor: options.floor, damping: options.damping, scale: w });
      return new DiagonalOperator(upload(f, shape), { label });
    }
    case 'gram': {
      const [out, inp] = shape;
      const a = prepareGramFactor(await job.statistic(i, 'input_gram'), inp, { shrink: options.shrink, damping: options.damping, scale: w });
      return new GramOperator(upload(a, [inp, inp]), out, { psd: true, label });
    }
    case 'kfac': {
      const [out, inp] = shape;
      const [gStat, aStat] = await Promise.all([job.statistic(i, 'grad_gram'), job.statistic(i, 'input_gram')]);
      const g = prepareGramFactor(gStat, out, { shrink: options.shrink, damping: options.damping, scale: w });
      const a = prepareGramFactor(aStat, inp, { shrink: options.shrink, damping: options.damping, scale: 1 });
      return new KroneckerOperator(upload(g, [out, out]), upload(a, [inp, inp]), { psd: true, label });
    }
    case 'block': {
      const d = shape[0];
      // A full Fisher block is not a Gram factor: no off-diagonal shrink (METHODS.md applies s to Grams).
      const f = prepareGramFactor(await job.statistic(i, 'fisher_block'), d, { shrink: 1, damping: options.damping, scale: w });
      return new DenseOperator(upload(f, [d, d]), { shape, psd: true, label });
    }
  }
}
