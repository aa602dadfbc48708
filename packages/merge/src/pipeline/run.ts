/**
 * Running a plan: the methods' preparation passes, then tensor by tensor (chunk by chunk for
 * elementwise methods) read -> merge -> write -> free, with the next job's reads in flight
 * while the current one computes. Output goes to a temporary folder renamed at the end; any
 * failure or interruption removes it. Every weight read and every merged value written is checked
 * for NaN and Inf (pipeline/nonfinite.ts); temporary folders left by killed merges into the same
 * output are removed first (checkpoint/temporary-folders.ts).
 */
import { writeCompanionFiles } from '../checkpoint/hf-folder.js';
import { CheckpointOutput } from '../checkpoint/output.js';
import { describeTemporaryFolder, removeIfStale } from '../checkpoint/temporary-folders.js';
import { FileSystemError, InterruptedError, UserError } from '../errors.js';
import type { BoundMethod, MethodRuntime, PrepareContext, TensorJob, TensorReport, TensorResult } from '../methods/method.js';
import { dtypeBytes, isReadableDType } from '../safetensors/dtype.js';
import { bindingsInOrder, statisticNeeds, type MethodBinding } from './bind.js';
import { InputJob } from './job.js';
import { NonFiniteGuard } from './nonfinite.js';
import type { MergePlan } from './plan.js';
import type { PlannedTensor } from './sources.js';

export type MergeEvent =
  /** A pass over the model starts (preparation passes, then 'merge'). */
  | { readonly type: 'phase'; readonly label: string; readonly totalBytes: number }
  | { readonly type: 'progress'; readonly doneBytes: number; readonly totalBytes: number }
  /** A tensor is written. */
  | {
      readonly type: 'tensor';
      readonly name: string;
      /** The method's name, or 'copy' for integer/bool tensors. */
      readonly method: string;
      readonly shape: readonly number[];
      readonly dtype: string;
      readonly seconds: number;
      readonly chunks: number;
      readonly report?: TensorReport;
    }
  | { readonly type: 'log'; readonly message: string }
  /** The temporary folder the output is written into (renamed to target at the end, removed on failure). */
  | { readonly type: 'output'; readonly temporaryFolder: string; readonly target: string };

export interface RunOptions {
  readonly onEvent?: (event: MergeEvent) => void;
  /**
   * Aborting stops between jobs (and a PCG solve between iterations) and removes the temporary
   * output; the merge throws InterruptedError (a signal name such as 'SIGINT' as the abort reason
   * is kept in it), or the reason itself when it is a UserError.
   */
  readonly signal?: AbortSignal;
}

export interface MergeSummary {
  readonly outputPath: string;
  readonly merged: number;
  readonly copied: number;
  readonly outputBytes: number;
  readonly inputBytesRead: number;
  readonly seconds: number;
  readonly passes: number;
}

type WorkItem = { kind: 'copy'; tensor: PlannedTensor } | { kind: 'job'; tensor: PlannedTensor; index: number; offset: number; length: number; last: boolean; chunks: number };

function workList(plan: MergePlan): WorkItem[] {
  const items: WorkItem[] = [];
  let index = 0;
  for (const tensor of plan.tensors) {
    if (tensor.action === 'copy') {
      items.push({ kind: 'copy', tensor });
      continue;
    }
    const step = plan.elementwise ? plan.chunkElements : Math.max(tensor.size, 1);
    const chunks = Math.max(1, Math.ceil(tensor.size / step));
    for (let c = 0; c < chunks; c++) {
      const offset = c * step;
      items.push({ kind: 'job', tensor, index: index++, offset, length: Math.min(step, tensor.size - offset), last: c === chunks - 1, chunks });
    }
  }
  return items;
}

const widthOf = (dtype: string) => (isReadableDType(dtype) ? dtypeBytes(dtype) : 1);

function jobInputBytes(plan: MergePlan, item: WorkItem): number {
  if (item.kind === 'copy') return item.tensor.size * widthOf(item.tensor.dtype);
  const inputs = item.tensor.models.length + (plan.usesBase ? 1 : 0);
  return inputs * item.length * widthOf(item.tensor.dtype);
}

export async function runMerge(plan: MergePlan, options: RunOptions = {}): Promise<MergeSummary> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => undefined);
  const items = workList(plan);
  const jobs = items.filter((i): i is Extract<WorkItem, { kind: 'job' }> => i.kind === 'job');
  const settingOf = (tensor: PlannedTensor) => plan.settings.of.get(tensor.name)!;
  const usesStatistics = plan.merged.some((t) => statisticNeeds(plan.binding, t).length > 0);
  let bytesRead = 0;
  let passes = 0;

  const checkAborted = () => {
    if (!options.signal?.aborted) return;
    const reason: unknown = options.signal.reason;
    if (reason instanceof UserError) throw reason;
    const signal = typeof reason === 'string' && reason.startsWith('SIG') ? (reason as NodeJS.Signals) : undefined;
    throw new InterruptedError(`merge interrupted${signal !== undefined ? ` by ${signal}` : ''}; nothing was written`, signal);
  };
  const guard = new NonFiniteGuard({ allow: plan.allowNonFinite, warn: (message) => emit({ type: 'log', message }) });
  const makeJob = (item: Extract<WorkItem, { kind: 'job' }>) => new InputJob(item.tensor, item.index, item.offset, item.length, plan.config.precision, settingOf(item.tensor).weights, guard);

  /** Jobs in plan order, each prefetching the next one's inputs. */
  async function* jobPass(label: string): AsyncGenerator<TensorJob> {
    passes++;
    const total = jobs.reduce((s, j) => s + jobInputBytes(plan, j), 0);
    emit({ type: 'phase', label, totalBytes: total });
    let done = 0;
    let next: InputJob | undefined;
    for (let k = 0; k < jobs.length; k++) {
      checkAborted();
      const job = next ?? makeJob(jobs[k]);
      if (next === undefined) job.prefetch(plan.usesBase, usesStatistics);
      next = k + 1 < jobs.length ? makeJob(jobs[k + 1]) : undefined;
      next?.prefetch(plan.usesBase, usesStatistics);
      yield job;
      const bytes = jobInputBytes(plan, jobs[k]);
      done += bytes;
      bytesRead += bytes;
      emit({ type: 'progress', doneBytes: done, totalBytes: total });
    }
  }

  const runtime: MethodRuntime = {
    backend: plan.backend,
    precision: plan.config.precision,
    seed: plan.config.seed,
    signal: options.signal,
    log: (message) => emit({ type: 'log', message }),
  };

  for (const message of plan.warnings) emit({ type: 'log', message });
  for (const folder of plan.temporaryFolders) {
    if (folder.state !== 'stale') emit({ type: 'log', message: describeTemporaryFolder(folder) });
    else if (await removeIfStale(folder)) emit({ type: 'log', message: `removed ${describeTemporaryFolder(folder).replace(/; mats merge removes it.*$/, '')}` });
  }

  // Bind every method tree (one per distinct set of per-tensor knobs) to its state; nested
  // methods are prepared first.
  checkAborted();
  const output = await CheckpointOutput.create(plan.outputPath, plan.shards, plan.metadata, plan.force);
  emit({ type: 'output', temporaryFolder: output.tempFolder, target: output.target });
  try {
    const roots: BoundMethod[] = [];
    const pass = plan.settings.bindings.length === 1 ? jobPass : refusePass;
    for (const setting of plan.settings.bindings) roots.push(await bindTree(setting.binding, setting.modelParameters, runtime, { tensors: plan.merged, modelCount: plan.config.models.length, weights: setting.weights, pass }));

    // The merge pass: copies and jobs in plan order, so shards fill one after another.
    passes++;
    const total = items.reduce((s, i) => s + jobInputBytes(plan, i), 0);
    emit({ type: 'phase', label: 'merge', totalBytes: total });
    let done = 0;
    let next: InputJob | undefined;
    // For each item, the next job after it (for read-ahead).
    const nextJob: (Extract<WorkItem, { kind: 'job' }> | undefined)[] = new Array(items.length);
    for (let k = items.length - 1, following: Extract<WorkItem, { kind: 'job' }> | undefined; k >= 0; k--) {
      nextJob[k] = following;
      const it = items[k];
      if (it.kind === 'job') following = it;
    }
    let tensorStart = performance.now();
    let report: TensorReport | undefined;
    for (let k = 0; k < items.length; k++) {
      checkAborted();
      const item = items[k];
      if (item.kind === 'copy') {
        const t0 = performance.now();
        const source = item.tensor.base ?? item.tensor.models[0];
        await output.writeBytes(item.tensor.name, await source.checkpoint.readBytes(source.name));
        emit({ type: 'tensor', name: item.tensor.name, method: 'copy', shape: item.tensor.shape, dtype: item.tensor.outputDtype, seconds: (performance.now() - t0) / 1000, chunks: 1 });
      } else {
        if (item.offset === 0) {
          tensorStart = performance.now();
          report = undefined;
        }
        const job = next !== undefined && next.index === item.index ? next : makeJob(item);
        if (job !== next) job.prefetch(plan.usesBase, usesStatistics);
        const following = nextJob[k];
        next = following === undefined ? undefined : makeJob(following);
        next?.prefetch(plan.usesBase, usesStatistics);
        const result = checkResult(await roots[settingOf(item.tensor).bindingIndex].merge(job), job, plan.binding.method.name);
        guard.output(plan.binding.method.name, item.tensor.name, item.tensor.shape, item.tensor.outputDtype, result.values, item.offset);
        await output.writeFloats(item.tensor.name, result.values, item.offset);
        if (result.report !== undefined) report = { ...report, ...result.report };
        if (item.last) {
          emit({ type: 'tensor', name: item.tensor.name, method: plan.binding.method.name, shape: item.tensor.shape, dtype: item.tensor.outputDtype, seconds: (performance.now() - tensorStart) / 1000, chunks: item.chunks, report });
        }
      }
      const bytes = jobInputBytes(plan, item);
      done += bytes;
      bytesRead += bytes;
      emit({ type: 'progress', doneBytes: done, totalBytes: total });
    }
    checkAborted();
    await writeCompanionFiles(output.tempFolder, plan.companionFiles);
    await output.commit();
  } catch (e) {
    await output.abort();
    if (e instanceof FileSystemError) throw new FileSystemError(e.file, e.code, `${e.message}; the partial output was removed, nothing was written`, { cause: e.cause });
    throw e;
  }
  return {
    outputPath: plan.outputPath,
    merged: plan.merged.length,
    copied: plan.tensors.length - plan.merged.length,
    outputBytes: plan.outputBytes,
    inputBytesRead: bytesRead,
    seconds: (performance.now() - started) / 1000,
    passes,
  };
}

/** The pass of a method tree whose knobs vary by tensor: the plan refuses wholeModel methods there, so none may come. */
function refusePass(): AsyncIterable<TensorJob> {
  throw new Error('a method made a whole-model pass although its knobs vary by tensor: it must declare wholeModel()');
}

type PassContext = Pick<PrepareContext<unknown>, 'tensors' | 'modelCount' | 'weights' | 'pass'>;

/** Prepares and binds a method tree, nested methods first; the root gets each model's own parameters. */
async function bindTree(root: MethodBinding, rootModelParameters: readonly unknown[], runtime: MethodRuntime, context: PassContext): Promise<BoundMethod> {
  const bound = new Map<MethodBinding, BoundMethod>();
  for (const b of bindingsInOrder(root)) {
    const modelParameters = b === root ? rootModelParameters : rootModelParameters.map(() => b.parameters);
    const state = b.method.prepare === undefined ? undefined : await b.method.prepare({ ...runtime, ...context, parameters: b.parameters, modelParameters });
    const nested = Object.fromEntries(Object.entries(b.nested).map(([k, n]) => [k, bound.get(n)!]));
    bound.set(b, {
      name: b.method.name,
      parameters: b.parameters,
      merge: (job) => b.method.merge(job, { ...runtime, parameters: b.parameters, modelParameters, state, nested }),
    });
  }
  return bound.get(root)!;
}

function checkResult(result: TensorResult, job: TensorJob, method: string): TensorResult {
  if (result.values.length !== job.length) {
    throw new Error(`method ${method} returned ${result.values.length} values for tensor ${job.name} (expected ${job.length})`);
  }
  return result;
}
