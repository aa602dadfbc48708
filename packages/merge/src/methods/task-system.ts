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
import type { FactorPlan } from './factor-controls.js';
import type { StatisticKind, TensorJob } from './method.js';
import { prepareDiagonalFisher, prepareGramFactor, tasksMeanEigenvalue } from './statistic-factors.js';
import { FactorSum, summarizeFactor, type SubspaceDiagnostics, type TaskFactorSummary } from './subspace-diagnostics.js';
import type { Subspace } from './subspace.js';

/** How each model's statistics become its factors (shrink, normalisation, damping, floor). */
export type TaskSystemOptions = FactorPlan;

export interface TaskSystem {
  /** The block shape the operators act on (blockShape). */
  readonly shape: readonly number[];
  /** sum_i w_i C_i */
  readonly system: LinearOperator;
  /** sum_i w_i C_i theta_i, in the block shape. */
  readonly rhs: Tensor;
  /** Gram and K-FAC subspaces: the statistics' traces and ranks, the summed factors' conditioning. */
  readonly diagnostics?: SubspaceDiagnostics;
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
  const factors = subspace === 'gram' || subspace === 'kfac' ? new FactorRecord(shape) : undefined;
  try {
    const means = await sharedMeans(job, subspace, shape, models, options);
    for (const i of models) {
      const tensors: Tensor[] = [];
      const upload = (data: ArrayLike<number>, s: readonly number[]) => {
        const t = backend.fromArray(data, s);
        tensors.push(t);
        return t;
      };
      const adopt = (...made: Tensor[]) => tensors.push(...made);
      let c: LinearOperator;
      try {
        c = await taskOperator(job, i, subspace, shape, backend, { upload, adopt }, options, factors, means);
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
      ...(factors !== undefined ? { diagnostics: factors.diagnostics() } : {}),
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

/** The statistics and prepared factors of a Gram or K-FAC system, for its diagnostics. */
class FactorRecord {
  readonly tasks: TaskFactorSummary[] = [];
  readonly input: FactorSum;
  readonly grad: FactorSum;

  constructor(shape: readonly number[]) {
    this.grad = new FactorSum(shape[0]);
    this.input = new FactorSum(shape[1]);
  }

  diagnostics(): SubspaceDiagnostics {
    const summedInput = this.input.spectrum();
    const summedGrad = this.grad.spectrum();
    return { tasks: this.tasks, ...(summedInput !== undefined ? { summedInput } : {}), ...(summedGrad !== undefined ? { summedGrad } : {}) };
  }
}

/** The tasks' average mean eigenvalue of each kind of factor that has a shared damping. */
interface SharedMeans {
  readonly grad: number;
  readonly input: number;
  readonly block: number;
}

async function sharedMeans(job: TensorJob, subspace: Subspace, shape: readonly number[], models: readonly number[], options: TaskSystemOptions): Promise<SharedMeans> {
  const mean = async (kind: StatisticKind, n: number, normalize: boolean, shared: number) =>
    shared === 0 ? 0 : tasksMeanEigenvalue(await Promise.all(models.map((i) => job.statistic(i, kind))), n, normalize);
  const [out, inp] = shape;
  return {
    grad: subspace === 'kfac' ? await mean('grad_gram', out, options.grad.normalize, options.grad.damping.shared) : 0,
    input: subspace === 'kfac' || subspace === 'gram' ? await mean('input_gram', inp, false, options.input.damping.shared) : 0,
    block: subspace === 'block' ? await mean('fisher_block', out, false, options.fisher.shared) : 0,
  };
}

/** w_i C_i for model i. */
async function taskOperator(
  job: TensorJob,
  i: number,
  subspace: Subspace,
  shape: readonly number[],
  backend: Backend,
  tensors: {
    /** Uploads host data; the tensor is disposed with the system. */
    upload: (data: ArrayLike<number>, shape: readonly number[]) => Tensor;
    /** Tensors made elsewhere for this operator, disposed with the system. */
    adopt: (...made: Tensor[]) => void;
  },
  options: TaskSystemOptions,
  factors: FactorRecord | undefined,
  means: SharedMeans,
): Promise<LinearOperator> {
  const w = job.weights[i];
  const label = `${job.name} models[${i}]`;
  const { upload } = tensors;
  switch (subspace) {
    case 'identity': {
      const identity = new IdentityOperator(backend, shape);
      return w === 1 ? identity : scale(identity, w);
    }
    case 'diagonal': {
      const f = prepareDiagonalFisher(await job.statistic(i, 'fisher'), { floor: options.floor, damping: options.fisher, scale: w });
      return new DiagonalOperator(upload(f, shape), { label });
    }
    case 'gram': {
      const [out, inp] = shape;
      const aStat = await job.statistic(i, 'input_gram');
      const a = prepareGramFactor(aStat, inp, { ...options.input, scale: w, tasksMeanEigenvalue: means.input });
      factors?.tasks.push({ model: i, input: summarizeFactor(aStat, inp) });
      factors?.input.add(a);
      return new GramOperator(upload(a, [inp, inp]), out, { psd: true, label });
    }
    case 'kfac': {
      const [out, inp] = shape;
      const [gStat, aStat] = await Promise.all([job.statistic(i, 'grad_gram'), job.statistic(i, 'input_gram')]);
      const g = prepareGramFactor(gStat, out, { ...options.grad, scale: w, tasksMeanEigenvalue: means.grad });
      const a = prepareGramFactor(aStat, inp, { ...options.input, scale: 1, tasksMeanEigenvalue: means.input });
      factors?.tasks.push({ model: i, input: summarizeFactor(aStat, inp), grad: summarizeFactor(gStat, out) });
      factors?.input.add(a);
      factors?.grad.add(g);
      // fromHost: the operator keeps g and a (fresh arrays, nobody else's) as its host copies
      // instead of reading its factors back from the backend.
      const operator = KroneckerOperator.fromHost(backend, g, a, { psd: true, label });
      tensors.adopt(operator.g, operator.a);
      return operator;
    }
    case 'block': {
      const d = shape[0];
      // A full Fisher block is not a Gram factor: no off-diagonal shrink (METHODS.md applies s to Grams).
      const f = prepareGramFactor(await job.statistic(i, 'fisher_block'), d, { shrink: 1, normalize: false, damping: options.fisher, scale: w, tasksMeanEigenvalue: means.block });
      return new DenseOperator(upload(f, [d, d]), { shape, psd: true, label });
    }
  }
}
