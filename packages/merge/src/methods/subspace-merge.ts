/**
 * The frame every task-subspace method shares: find the tensor's settings (per-tensor rules),
 * fold a weight's bias into it where the statistics allow (bias-folding.ts), pick the
 * subspace (or fall back to the weighted average, saying why), build its system on the
 * backend, let the method solve it, and release everything the system holds whatever happens.
 */
import type { Backend } from '@mats/core';
import { weightedAverage } from './average.js';
import { FoldedJob, foldDecision, keepEarlyResult, takeEarlyResult, type FoldPair } from './bias-folding.js';
import { describeDamping as damping, factorPlan, type FactorPlan } from './factor-controls.js';
import type { PlannedTensorInfo, TensorJob, TensorReport, TensorResult } from './method.js';
import type { FloatArray } from '../safetensors/decode.js';
import { activeModels, selectSubspace, type Subspace } from './subspace.js';
import { buildTaskSystem, type TaskSystem } from './task-system.js';
import type { TensorSettings } from './tensor-rules.js';

/**
 * Float64 arrays of one model's statistics size a task-subspace merge holds at its peak
 * (task-system.ts, core's solve): model i's prepared factor and its upload, the running sum and
 * the sum it replaces, the solve's factorisation and workspace, and the two operands the CPU
 * backend's gemm and host linear algebra copy into WebAssembly memory (which keeps its size).
 */
export const SUBSPACE_STATISTIC_COPIES = 8;

/** Bytes of those copies for a job whose largest model has statisticElements of statistics. */
export const subspaceStatisticBytes = (statisticElements: number): number => SUBSPACE_STATISTIC_COPIES * 8 * statisticElements;

export interface SubspaceMergeOptions {
  /** Subspace and factor knobs per tensor name. */
  readonly settings: TensorSettings;
  /** Floor of diagonal Fisher entries. */
  readonly floor: number;
  /** Fold a 2-D weight's bias into it where every model has the weight's input_mean. */
  readonly foldBias: boolean;
  /**
   * The calling method binding (its parameters object): a folded pair's second tensor is kept
   * for it alone, so a nested call (an initialisation) never takes another binding's result.
   */
  readonly owner: object;
}

/** The tensors a solved block is made of: the tensor itself, or a weight with its bias. */
export interface MergeBlock {
  /** What the system is built from: the tensor's job, or the folded [W | b] job. */
  readonly job: TensorJob;
  /** The pipeline's jobs whose values make the block, in order (one, or weight then bias). */
  readonly parts: readonly TensorJob[];
  /** The block's values from its parts' (an initialisation computed per tensor). */
  join(values: readonly FloatArray[]): FloatArray;
}

export type SolveBlock = (system: TaskSystem, subspace: Subspace, models: readonly number[], block: MergeBlock) => Promise<TensorResult>;

export async function mergeInSubspace(job: TensorJob, backend: Backend, options: SubspaceMergeOptions, solveSystem: SolveBlock): Promise<TensorResult> {
  if (job.length === 0) return { values: new Float64Array(0) };
  const kept = takeEarlyResult(job, options.owner);
  if (kept !== undefined) return kept;
  const models = activeModels(job);
  const fold = options.foldBias && job.length === job.size ? foldDecision(job, (name) => options.settings.of(name).settings.subspace, models) : {};
  if ('pair' in fold) return mergeFolded(job, fold.pair, backend, options, models, solveSystem);
  const { settings } = options.settings.of(job.name);
  const selection = selectSubspace(job, settings.subspace, models);
  const foldNote = 'note' in fold && fold.note !== undefined ? { bias_folding: fold.note } : undefined;
  if ('fallback' in selection) return { values: await weightedAverage(job), report: { fallback: selection.fallback, ...(foldNote !== undefined ? { details: foldNote } : {}) } };
  const block: MergeBlock = { job, parts: [job], join: (values) => values[0] };
  const result = await solveIn(block, selection.subspace, models, factorPlan(settings, options.floor), backend, solveSystem);
  return foldNote === undefined ? result : { ...result, report: { ...result.report, details: { ...result.report?.details, ...foldNote } } };
}

/**
 * Solves the folded [W | b] system once, returns this tensor's part and keeps the other's for
 * when the pipeline reaches it. The weight's report carries the solve; the bias's says where
 * it went.
 */
async function mergeFolded(
  job: TensorJob,
  pair: FoldPair<TensorJob>,
  backend: Backend,
  options: SubspaceMergeOptions,
  models: readonly number[],
  solveSystem: SolveBlock,
): Promise<TensorResult> {
  const folded = new FoldedJob(pair);
  const { settings } = options.settings.of(pair.weight.name);
  const selection = selectSubspace(folded, settings.subspace, models);
  // foldDecision checked the weight's subspace and every model's input_mean: this cannot fall back.
  if (!('subspace' in selection)) throw new Error(`tensor ${folded.name}: the folded block has no ${settings.subspace} subspace (${selection.fallback})`);
  const block: MergeBlock = { job: folded, parts: [pair.weight, pair.bias], join: (values) => folded.join(values) };
  const result = await solveIn(block, selection.subspace, models, factorPlan(settings, options.floor), backend, solveSystem);
  const { weight, bias } = folded.split(result.values);
  const folding = `[${pair.weight.name} | ${pair.bias.name}] over [a; 1]`;
  const weightResult: TensorResult = { values: weight, report: withDetail(result.report, { bias_folding: folding }) };
  const biasResult: TensorResult = { values: bias, report: { details: { subspace: selection.subspace, bias_folding: `${folding}: solved with ${pair.weight.name}` } } };
  const [mine, other, otherJob] = job === pair.weight ? [weightResult, biasResult, pair.bias] : [biasResult, weightResult, pair.weight];
  keepEarlyResult(otherJob, options.owner, other);
  return mine;
}

async function solveIn(
  block: MergeBlock,
  subspace: Subspace,
  models: readonly number[],
  plan: FactorPlan,
  backend: Backend,
  solveSystem: SolveBlock,
): Promise<TensorResult> {
  const system = await buildTaskSystem(block.job, subspace, models, backend, plan);
  try {
    const result = await solveSystem(system, subspace, models, block);
    return system.diagnostics === undefined ? result : { ...result, report: { ...result.report, diagnostics: { ...system.diagnostics, ...result.report?.diagnostics } } };
  } finally {
    system.dispose();
  }
}

function withDetail(report: TensorReport | undefined, detail: Record<string, string>): TensorReport {
  return { ...report, details: { ...report?.details, ...detail } };
}

/** The settings and fold a tensor gets, as --dry-run shows them (the same rules as merge). */
export function describeSubspaceMerge(tensor: PlannedTensorInfo, options: Omit<SubspaceMergeOptions, 'owner'>): string {
  const models = activeModels(tensor);
  const { settings, rule } = options.settings.of(tensor.name);
  const fold = options.foldBias ? foldDecision(tensor, (name) => options.settings.of(name).settings.subspace, models) : {};
  const from = rule === undefined ? '' : `, tensors[${rule}]`;
  if ('pair' in fold) {
    const weightSettings = options.settings.of(fold.pair.weight.name);
    const subspace = selectSubspace(fold.pair.weight, weightSettings.settings.subspace, models);
    const what = 'subspace' in subspace ? subspace.subspace : '?';
    const weightRule = weightSettings.rule === undefined ? '' : `, tensors[${weightSettings.rule}]`;
    return `${what}${weightRule}, folded [${fold.pair.weight.name} | ${fold.pair.bias.name}]${tensor === fold.pair.bias ? '' : describeKnobs(what, weightSettings.settings)}`;
  }
  const selection = selectSubspace(tensor, settings.subspace, models);
  if ('fallback' in selection) return `${selection.fallback}${'note' in fold && fold.note !== undefined ? `; ${fold.note}` : ''}`;
  return `${selection.subspace}${from}${describeKnobs(selection.subspace, settings)}${'note' in fold && fold.note !== undefined ? `; ${fold.note}` : ''}`;
}

/** The knobs that matter for a subspace, in short: ", G damping 1, A damping 0". */
function describeKnobs(subspace: string, settings: ReturnType<TensorSettings['of']>['settings']): string {
  const plan = factorPlan(settings, 0);
  const shrink = settings.shrink === 1 ? '' : `, shrink ${settings.shrink}`;
  switch (subspace) {
    case 'kfac':
      return `${shrink}, damping G ${damping(plan.grad.damping)}${plan.grad.normalize ? ' (normalised)' : ''}, A ${damping(plan.input.damping)}`;
    case 'gram':
      return `${shrink}, damping A ${damping(plan.input.damping)}`;
    case 'diagonal':
    case 'block':
      return `, damping ${damping(plan.fisher)}`;
    default:
      return '';
  }
}
