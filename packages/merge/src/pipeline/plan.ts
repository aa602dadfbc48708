/**
 * Planning a merge: everything is validated from headers alone before the first tensor is
 * computed (inputs open and agree in names, shapes and dtypes; every statistic the method needs
 * exists with the right shape; the output can be written), and every problem is reported at
 * once. The plan then says, per tensor, what happens, and estimates memory and output size.
 */
import type { Backend } from '@mats/core';
import { Checkpoint, DEFAULT_ALIASES, type AliasMap } from '../checkpoint/checkpoint.js';
import { pathExists, planShards, type ShardPlan } from '../checkpoint/output.js';
import { findTemporaryFolders, type TemporaryFolder } from '../checkpoint/temporary-folders.js';
import type { MergeConfig } from '../config/load.js';
import { ValidationError } from '../errors.js';
import type { StatisticKind, TensorDescriptor } from '../methods/method.js';
import { dtypeBytes, isFloatDType, isReadableDType, type SafetensorsDType, type WritableDType } from '../safetensors/dtype.js';
import type { TensorSpec } from '../safetensors/layout.js';
import { formatShape, listSome } from '../util/format.js';
import { naturalCompare } from '../util/natural-order.js';
import { createBackend } from './backend.js';
import { outputOverlapsInputs, type NamedInput } from './output-overlap.js';
import { checkStatisticsHeaders, checkStatisticsValues, type StatisticToCheck } from './statistics-checks.js';
import { bindMethod, bindingsInOrder, isElementwise, requiresBase, statisticNeeds, type MethodBinding } from './bind.js';
import type { CompanionFile } from '../checkpoint/hf-folder.js';
import { planOutputFolderFiles } from './companion-files.js';
import { estimateMemory, type MemoryEstimate } from './memory-estimate.js';

export type { MemoryEstimate } from './memory-estimate.js';
import { provenance } from './provenance.js';
import type { PlannedTensor, TensorSource } from './sources.js';
import { resolveTensorSettings, staticParameters, type TensorSettings } from './tensor-settings.js';

/**
 * Default size of one job of an elementwise method: 256 Ki elements (1 MB in float32). Measured
 * on task_arithmetic over 5 x 1 GB models: 2^18 against 2^22 halved peak RSS (140 vs 435 MB)
 * and was no slower (large fresh buffers cost page faults; small ones stay in cache).
 */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 18;

export interface PlanOptions {
  /** Output folder; overrides output.path. */
  readonly out?: string;
  /** Replace an existing output. */
  readonly force?: boolean;
  /** Elements per job for elementwise methods. */
  readonly chunkElements?: number;
  /** Merge inputs that hold NaN or Inf, with a warning (also config.allowNonFinite). */
  readonly allowNonFinite?: boolean;
}


export interface MergePlan {
  readonly config: MergeConfig;
  /** The method tree bound with the config's parameters (knobs given per tensor take defaults here). */
  readonly binding: MethodBinding;
  /** Each merged tensor's parameters and weights (tensor-settings.ts). */
  readonly settings: TensorSettings;
  readonly backend: Backend;
  readonly tensors: readonly PlannedTensor[];
  /** The merged tensors' descriptors, in plan order. */
  readonly merged: readonly TensorDescriptor[];
  readonly elementwise: boolean;
  readonly chunkElements: number;
  readonly usesBase: boolean;
  readonly outputPath: string;
  readonly force: boolean;
  readonly shards: readonly ShardPlan[];
  readonly outputBytes: number;
  readonly inputBytes: number;
  readonly memory: MemoryEstimate;
  readonly metadata: Readonly<Record<string, string>>;
  /** NaN and Inf in the inputs are merged with a warning instead of refused (pipeline/nonfinite.ts). */
  readonly allowNonFinite: boolean;
  /** Found while planning, for the user: non-finite statistics under allowNonFinite. */
  readonly warnings: readonly string[];
  /** Temporary folders of earlier merges into the same output (checkpoint/temporary-folders.ts); the merge removes the stale ones. */
  readonly temporaryFolders: readonly TemporaryFolder[];
  /** Files of a Hugging Face folder written beside the tensors (config.json, tokenizer files). */
  readonly companionFiles: readonly CompanionFile[];
  /** Closes every input file. */
  close(): Promise<void>;
}

const OUTPUT_DTYPE: Record<string, WritableDType> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };

/** Problems about many tensors, grouped so that a thousand missing names make one line. */
class ProblemList {
  readonly lines: string[] = [];
  private readonly groups = new Map<string, string[]>();

  add(line: string): void {
    this.lines.push(line);
  }

  /** Adds `item` to the group "<subject>: <what> for N tensors: a, b, ...". */
  group(subject: string, item: string): void {
    const g = this.groups.get(subject);
    if (g === undefined) this.groups.set(subject, [item]);
    else g.push(item);
  }

  all(): string[] {
    return [...this.lines, ...[...this.groups].map(([subject, items]) => `${subject} (${items.length}): ${listSome(items)}`)];
  }
}

async function openAll(paths: (string | undefined)[], problems: ProblemList, roles: string[]): Promise<(Checkpoint | undefined)[]> {
  const settled = await Promise.allSettled(paths.map((p) => (p === undefined ? Promise.resolve(undefined) : Checkpoint.open(p))));
  return settled.map((s, i) => {
    if (s.status === 'fulfilled') return s.value;
    problems.add(`${roles[i]}: ${(s.reason as Error).message}`);
    return undefined;
  });
}

export async function planMerge(config: MergeConfig, options: PlanOptions = {}): Promise<MergePlan> {
  const problems = new ProblemList();
  const bindingProblems: string[] = [];
  const binding = bindMethod({ method: config.method, parameters: staticParameters(config) }, 'parameters', bindingProblems);
  for (const p of bindingProblems) problems.add(p);
  const usesBase = binding !== undefined && requiresBase(binding);
  if (usesBase && config.base === undefined) {
    if (binding!.method.requiresBase(binding!.parameters)) problems.add(`base: method ${config.method} takes task vectors against a base model; add base: PATH`);
    else {
      // A nested call needs it (mats's default initialisation is task arithmetic): name it.
      const needing = bindingsInOrder(binding!).filter((b) => b.method.requiresBase(b.parameters)).map((b) => `${b.path} (${b.method.name})`);
      problems.add(`base: method ${config.method} needs a base model for ${needing.join(', ')}; add base: PATH, or change ${needing.length === 1 ? 'it' : 'them'}`);
    }
  }

  const warnings: string[] = [];
  const allowNonFinite = options.allowNonFinite === true || config.allowNonFinite;
  const outputPath = options.out ?? config.output.path;
  let temporaryFolders: TemporaryFolder[] = [];
  if (outputPath === undefined) problems.add('output.path: no output folder; give one on the command line (mats merge CONFIG OUTPUT) or set output.path in the config');
  else {
    const overlaps = await outputOverlapsInputs(outputPath, namedInputs(config));
    for (const p of overlaps) problems.add(p);
    if (overlaps.length === 0 && !options.force && (await pathExists(outputPath))) problems.add(`output ${outputPath} already exists; pass --force to replace it`);
    temporaryFolders = await findTemporaryFolders(outputPath);
    for (const folder of temporaryFolders) {
      if (folder.state === 'running') problems.add(`output ${outputPath}: another merge is writing it: ${folder.path} (${folder.reason}); wait for it to finish, or stop it`);
    }
  }

  const backend = await createBackend(config.backend, config.precision);
  if ('problem' in backend) problems.add(backend.problem);

  // Open every input (headers only), all at once; each failure is one problem.
  const M = config.models.length;
  const roles = ['base', ...config.models.map((_, i) => `models[${i}]`), ...config.models.map((_, i) => `models[${i}].stats`)];
  const opened = await openAll([config.base, ...config.models.map((m) => m.path), ...config.models.map((m) => m.stats)], problems, roles);
  const base = opened[0];
  const models = opened.slice(1, 1 + M);
  const stats = opened.slice(1 + M);
  const closeAll = () => Promise.all(opened.map((c) => c?.close())).then(() => undefined);

  const aliasMap: Record<string, readonly string[]> = { ...DEFAULT_ALIASES };
  for (const [k, v] of Object.entries(config.aliases)) aliasMap[k] = [...v, ...(DEFAULT_ALIASES[k] ?? [])];
  const aliases: AliasMap = aliasMap;

  const reference = config.base !== undefined ? base : models[0];
  const referenceRole = config.base !== undefined ? 'base' : 'models[0]';
  const tensors: PlannedTensor[] = [];
  if (reference !== undefined && models.every((m) => m !== undefined) && (config.base === undefined || base !== undefined)) {
    const names = reference.names().sort(naturalCompare);
    const nameSet = new Set(names);
    // Each model must hold every reference tensor (directly or through an alias) with the same shape and dtype.
    const sources: TensorSource[][] = names.map(() => []);
    models.forEach((model, i) => {
      const role = `models[${i}] (${model!.path})`;
      const used = new Set<string>();
      names.forEach((name, t) => {
        const ref = reference.get(name)!;
        const found = model!.resolve(name, aliases);
        if (found === undefined) {
          problems.group(`${role}: missing tensors that the ${referenceRole} has`, name);
          return;
        }
        used.add(found.tensor.name);
        const { tensor } = found;
        if (formatShape(tensor.shape) !== formatShape(ref.shape)) problems.group(`${role}: shapes differ from the ${referenceRole}`, `${name} ${formatShape(tensor.shape)} vs ${formatShape(ref.shape)}`);
        else if (tensor.dtype !== ref.dtype) problems.group(`${role}: dtypes differ from the ${referenceRole}`, `${name} ${tensor.dtype} vs ${ref.dtype}`);
        sources[t].push({ checkpoint: model!, name: tensor.name, dtype: tensor.dtype, shape: tensor.shape });
      });
      for (const extra of model!.names()) {
        if (!nameSet.has(extra) && !used.has(extra)) problems.group(`${role}: tensors the ${referenceRole} does not have`, extra);
      }
    });

    names.forEach((name, t) => {
      const ref = reference.get(name)!;
      const float = isFloatDType(ref.dtype);
      if (float && !isReadableDType(ref.dtype)) problems.group(`${referenceRole}: unsupported dtypes (readable floats: F64, F32, F16, BF16)`, `${name} (${ref.dtype})`);
      const action = float ? 'merge' : 'copy';
      const outputDtype: SafetensorsDType = action === 'copy' || config.output.dtype === 'same' ? ref.dtype : OUTPUT_DTYPE[config.output.dtype];
      const baseSource = base === undefined ? undefined : { checkpoint: base, name, dtype: ref.dtype, shape: ref.shape };
      const statistics = config.models.map(() => new Map<StatisticKind, TensorSource>());
      tensors.push({ name, shape: ref.shape, size: ref.size, dtype: ref.dtype, action, outputDtype, base: baseSource, models: sources[t], statistics });
    });
  }

  // Statistics: every key of every statistics file checked against its tensor (headers), then
  // each need of the method checked for each model, then the values of every statistic the
  // merge will read (statistics-checks.ts).
  const badKeys = stats.map((file, i) => (file === undefined || tensors.length === 0 ? new Set<string>() : checkStatisticsHeaders(file, `models[${i}].stats`, tensorShapesOf(tensors, i), problems)));
  const toCheck: StatisticToCheck[] = [];
  if (binding !== undefined) {
    const neededKinds = new Set<StatisticKind>();
    const modelsWithProblems = new Set<number>();
    for (const tensor of tensors) {
      if (tensor.action !== 'merge') continue;
      for (const need of statisticNeeds(binding, tensor)) {
        neededKinds.add(need.kind);
        config.models.forEach((entry, i) => {
          const file = stats[i];
          if (entry.stats === undefined) {
            if (need.presence === 'required') {
              problems.group(`models[${i}]: no stats file, but method ${config.method} needs ${need.kind}`, tensor.name);
              modelsWithProblems.add(i);
            }
            return;
          }
          if (file === undefined) return; // failed to open: already a problem
          const key = `${tensor.name}::${need.kind}`;
          const aliasKey = `${tensor.models[i]?.name}::${need.kind}`;
          const found = file.get(key) ?? file.get(aliasKey);
          if (found === undefined) {
            if (need.presence === 'required') {
              problems.group(`models[${i}].stats (${file.path}): missing statistics`, key);
              modelsWithProblems.add(i);
            }
            return;
          }
          if (badKeys[i].has(found.name)) return; // reported by the header check
          if (formatShape(found.shape) !== formatShape(need.shape)) problems.group(`models[${i}].stats (${file.path}): wrong shapes`, `${key} ${formatShape(found.shape)}, expected ${formatShape(need.shape)}`);
          else if (!isReadableDType(found.dtype) || !isFloatDType(found.dtype)) problems.group(`models[${i}].stats (${file.path}): unsupported dtypes`, `${key} (${found.dtype})`);
          else {
            const source = { checkpoint: file, name: found.name, dtype: found.dtype, shape: found.shape };
            (tensor.statistics[i] as Map<StatisticKind, TensorSource>).set(need.kind, source);
            toCheck.push({ where: `models[${i}].stats (${file.path})`, kind: need.kind, source });
          }
        });
      }
    }
    // A model that takes part without any statistic the method can use would make every tensor
    // fall back to the average: almost surely a missing stats file or keys named differently.
    if (neededKinds.size > 0) {
      config.models.forEach((entry, i) => {
        if (entry.weight === 0 || modelsWithProblems.has(i) || badKeys[i].size > 0 || (entry.stats !== undefined && stats[i] === undefined)) return;
        if (tensors.some((t) => t.statistics[i].size > 0)) return;
        const kinds = [...neededKinds].join(', ');
        const example = tensors.find((t) => t.action === 'merge' && statisticNeeds(binding, t).length > 0);
        const keys = example === undefined ? '' : ` (keys look like '${example.name}::${statisticNeeds(binding, example)[0].kind}')`;
        problems.add(
          entry.stats === undefined
            ? `models[${i}]: no stats file, but method ${config.method} merges in task subspaces estimated from statistics (${kinds}); add stats: PATH, or every tensor falls back to the average`
            : `models[${i}].stats (${stats[i]!.path}): none of its keys is a statistic method ${config.method} uses (${kinds})${keys}; every tensor would fall back to the average`,
        );
      });
    }
  }
  await checkStatisticsValues(toCheck, problems, { allow: allowNonFinite, warn: (w) => warnings.push(w) });

  const companionFiles = await planOutputFolderFiles(config, tensors, problems);
  const mergedNames = tensors.filter((t) => t.action === 'merge').map((t) => t.name);
  const settings = binding === undefined ? undefined : resolveTensorSettings(config, binding, mergedNames, tensors.map((t) => t.name), problems);

  const all = problems.all();
  if (all.length > 0 || binding === undefined || settings === undefined || 'problem' in backend || outputPath === undefined) {
    await closeAll();
    throw new ValidationError(`cannot merge: ${all.length} problem${all.length === 1 ? '' : 's'} found before reading any tensor`, all);
  }

  const chunkElements = Math.max(1, Math.floor(options.chunkElements ?? DEFAULT_CHUNK_ELEMENTS));
  const elementwise = isElementwise(binding);
  const specs: TensorSpec[] = tensors.map((t) => ({ name: t.name, dtype: t.outputDtype, shape: t.shape }));
  const shards = planShards(specs, config.output.shardSize);
  const outputBytes = shards.reduce((s, x) => s + x.bytes, 0);
  const inputBytes = tensors.reduce((s, t) => s + (t.models.length + (t.base === undefined ? 0 : 1)) * (t.action === 'merge' ? 1 : 0) * t.size * bytesOf(t.dtype), 0);
  const metadata = provenance(config, binding, settings);
  return {
    config,
    binding,
    settings,
    backend,
    tensors,
    merged: tensors.filter((t) => t.action === 'merge'),
    elementwise,
    chunkElements,
    usesBase,
    outputPath,
    force: options.force ?? false,
    shards,
    outputBytes,
    inputBytes,
    memory: estimateMemory({ tensors, binding, elementwise, chunkElements, precisionBytes: config.precision === 'float64' ? 8 : 4, usesBase, baselineBytes: await readyBaseline(backend, tensors, binding) }),
    metadata,
    allowNonFinite,
    warnings,
    temporaryFolders,
    companionFiles,
    close: closeAll,
  };
}

/**
 * This process's resident set, ready to merge: a method that solves in task subspaces runs the
 * backend's linear algebra, so the backend's worker threads (the CPU backend's wasm-simd-threads)
 * are started first and counted here.
 */
async function readyBaseline(backend: Backend, tensors: readonly PlannedTensor[], binding: MethodBinding): Promise<number> {
  const solves = tensors.some((t) => t.action === 'merge' && statisticNeeds(binding, t).length > 0);
  const warmUp = (backend as { warmUp?: () => Promise<void> }).warmUp;
  if (solves && typeof warmUp === 'function') await warmUp.call(backend);
  return process.memoryUsage().rss;
}

/** Every path the config reads: the output may be none of them, nor hold one. */
function namedInputs(config: MergeConfig): NamedInput[] {
  const inputs: NamedInput[] = [];
  if (config.base !== undefined) inputs.push({ role: 'base', path: config.base });
  config.models.forEach((m, i) => {
    inputs.push({ role: `models[${i}]`, path: m.path });
    if (m.stats !== undefined) inputs.push({ role: `models[${i}].stats`, path: m.stats });
  });
  if (config.output.tokenizerSource !== undefined) inputs.push({ role: 'output.tokenizer_source', path: config.output.tokenizerSource });
  inputs.push({ role: 'the config', path: config.source }); // '<inline>' resolves to nothing: skipped
  return inputs;
}

/** Names a statistics key of model i may use for each merged tensor (the reference's, and model i's own under tied weights), with the tensor's shape. */
function tensorShapesOf(tensors: readonly PlannedTensor[], i: number): Map<string, readonly number[]> {
  const shapes = new Map<string, readonly number[]>();
  for (const t of tensors) {
    shapes.set(t.name, t.shape);
    const stored = t.models[i]?.name;
    if (stored !== undefined) shapes.set(stored, t.shape);
  }
  return shapes;
}

function bytesOf(dtype: SafetensorsDType): number {
  return isReadableDType(dtype) ? dtypeBytes(dtype) : 1;
}

