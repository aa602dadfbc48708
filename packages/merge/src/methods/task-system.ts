/**
 * The merge system of one tensor (DESIGN.md eq. 1): (sum_i C_i) theta = sum_i C_i theta_i,
 * with each C_i a @mats/core operator built from model i's statistics. The sum is built by
 * core's sumOf, so dispatch keeps the closed forms in reach (a Sum of Diagonals is a Diagonal,
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
  disposeOperator,
  scale,
  sumOf,
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

/** Builds sum_i w_i C_i and sum_i w_i C_i theta_i over the given models, on backend. */
export async function buildTaskSystem(job: TensorJob, subspace: Subspace, models: readonly number[], backend: Backend, options: TaskSystemOptions): Promise<TaskSystem> {
  const shape = blockShape(job);
  const uploaded: Tensor[] = [];
  const upload = (data: ArrayLike<number>, s: readonly number[]) => {
    const t = backend.fromArray(data, s);
    uploaded.push(t);
    return t;
  };
  const operators: LinearOperator[] = [];
  let rhs: Tensor | undefined;
  let term: Tensor | undefined;
  try {
    rhs = backend.zeros(shape);
    term = backend.zeros(shape);
    for (const i of models) {
      const c = await taskOperator(job, i, subspace, shape, backend, upload, options);
      operators.push(c);
      const theta = backend.fromArray(await job.model(i), shape);
      c.apply(theta, term); // w_i C_i theta_i
      backend.dispose(theta);
      backend.axpy(1, term, rhs);
    }
    backend.dispose(term);
    const system = sumOf(operators);
    const rhsTensor = rhs;
    return {
      shape,
      system,
      rhs: rhsTensor,
      dispose() {
        disposeOperator(system);
        for (const c of operators) disposeOperator(c);
        for (const t of uploaded) backend.dispose(t);
        backend.dispose(rhsTensor);
      },
    };
  } catch (e) {
    for (const c of operators) disposeOperator(c);
    for (const t of uploaded) backend.dispose(t);
    if (rhs !== undefined) backend.dispose(rhs);
    if (term !== undefined) backend.dispose(term);
    throw e;
  }
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
