/**
 * The frame every task-subspace method shares: pick the tensor's subspace (or fall back to the
 * weighted average, saying why), build its system on the backend, let the method solve it, and
 * release everything the system holds whatever happens.
 */
import type { Backend } from '@mats/core';
import { weightedAverage } from './average.js';
import type { TensorJob, TensorResult } from './method.js';
import { activeModels, selectSubspace, type Subspace, type SubspaceChoice } from './subspace.js';
import { buildTaskSystem, type TaskSystem, type TaskSystemOptions } from './task-system.js';

/**
 * Float64 arrays of one model's statistics size a task-subspace merge holds at its peak
 * (task-system.ts, core's solve): model i's prepared factor and its upload, the running sum and
 * the sum it replaces, the solve's factorisation and workspace, and the two operands the CPU
 * backend's gemm and host linear algebra copy into WebAssembly memory (which keeps its size).
 */
export const SUBSPACE_STATISTIC_COPIES = 8;

/** Bytes of those copies for a job whose largest model has statisticElements of statistics. */
export const subspaceStatisticBytes = (statisticElements: number): number => SUBSPACE_STATISTIC_COPIES * 8 * statisticElements;

export async function mergeInSubspace(
  job: TensorJob,
  choice: SubspaceChoice,
  backend: Backend,
  options: TaskSystemOptions,
  solveSystem: (system: TaskSystem, subspace: Subspace, models: readonly number[]) => Promise<TensorResult>,
): Promise<TensorResult> {
  if (job.length === 0) return { values: new Float64Array(0) };
  const models = activeModels(job);
  const selection = selectSubspace(job, choice, models);
  if ('fallback' in selection) return { values: await weightedAverage(job), report: { fallback: selection.fallback } };
  const system = await buildTaskSystem(job, selection.subspace, models, backend, options);
  try {
    return await solveSystem(system, selection.subspace, models);
  } finally {
    system.dispose();
  }
}
