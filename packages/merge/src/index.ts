/**
 * @mats/merge: safetensors checkpoints, merging methods, the merge pipeline and the `mats` CLI.
 */
export { UserError, SafetensorsError, ValidationError } from './errors.js';

// safetensors
export { SafetensorsFile, type ElementRange } from './safetensors/reader.js';
export { SafetensorsWriter, serializeSafetensors, writeSafetensorsFile, type TensorData } from './safetensors/writer.js';
export { planFile, type TensorSpec, type FileLayout } from './safetensors/layout.js';
export type { TensorInfo, SafetensorsHeader } from './safetensors/header.js';
export type { FloatArray, Precision } from './safetensors/decode.js';
export {
  DTYPE_WRITE_ORDER,
  READABLE_DTYPES,
  WRITABLE_DTYPES,
  type SafetensorsDType,
  type ReadableDType,
  type WritableDType,
} from './safetensors/dtype.js';
export { bfloat16ToNumber, doubleToBfloat16, doubleToHalf, halfToNumber } from './safetensors/float16.js';

// checkpoints
export { Checkpoint, DEFAULT_ALIASES, type AliasMap, type CheckpointTensor } from './checkpoint/checkpoint.js';
export { CheckpointOutput, planShards, type ShardPlan } from './checkpoint/output.js';
export { MODEL_CONFIG_FILES, TOKENIZER_FILES, type CompanionFile } from './checkpoint/hf-folder.js';
export { INDEX_FILE, SINGLE_FILE, resolveShardPath } from './checkpoint/shard-index.js';

// config
export { loadConfig, parseConfig, type MergeConfig, type ModelEntry, type ParseOptions } from './config/load.js';
export { configSchema, parseByteSize, OUTPUT_DTYPES, type OutputDType } from './config/schema.js';
export { gradientAt, valueAt, type FilteredValue, type Gradient, type TensorValue } from './config/tensor-values.js';
export { layerOf, layerPositions } from './config/layer-position.js';
export { convertMergekitConfig, isMergekitConfig, MERGEKIT_METHODS, type ConvertedConfig, type ConvertOptions } from './config/mergekit.js';

// methods
export type {
  BoundMethod,
  MergeContext,
  MergeMethod,
  MethodCall,
  MethodRuntime,
  PrepareContext,
  StatisticKind,
  StatisticNeed,
  TensorDescriptor,
  TensorJob,
  TensorReport,
  TensorResult,
} from './methods/method.js';
export { defineMethod } from './methods/method.js';
export { allMethods, findMethod, methodNames, registerMethod } from './methods/registry.js';
export { average } from './methods/average.js';
export { taskArithmetic } from './methods/task-arithmetic.js';
export { ties } from './methods/ties.js';
export { dare, dareTransform } from './methods/dare.js';
export { breadcrumbs, applyBreadcrumbsMask } from './methods/breadcrumbs.js';
export { taskVector, withL1Rescale, type TaskVectorTransform } from './methods/task-vectors.js';
export { taskArithmeticMerge, type TaskArithmeticOptions } from './methods/task-arithmetic.js';
export { tiesMerge, tiesPrepare, type TiesOptions, type TiesState } from './methods/ties.js';
export { fisher } from './methods/fisher.js';
export { regmean } from './methods/regmean.js';
export { mats, type MatsParameters } from './methods/mats.js';
export { SUBSPACES, type Subspace, type SubspaceChoice } from './methods/subspace.js';
export { MagnitudeSelector, applyKeepRule, topMagnitudeMask } from './methods/magnitude-select.js';

// pipeline
export { planMerge, DEFAULT_CHUNK_ELEMENTS, type MergePlan, type PlanOptions } from './pipeline/plan.js';
export type { MemoryEstimate } from './pipeline/memory-estimate.js';
export type { TensorSetting, TensorSettings } from './pipeline/tensor-settings.js';
export { runMerge, type MergeEvent, type MergeSummary, type RunOptions } from './pipeline/run.js';
export { PACKAGE_VERSION } from './version.js';

// CLI
export { runCli, type CliIo } from './cli/run-cli.js';

// statistics estimation (per-example / per-token inputs and gradients -> statistics files)
export * from './statistics/index.js';
