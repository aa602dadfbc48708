/**
 * @mats/merge/browser: the merge engine without Node. The same config parser, planner,
 * pipeline and methods as the CLI, reading inputs and writing the output through a MergeIo the
 * caller gives (BlobInputFiles over dropped File objects, BlobOutputTarget or an OPFS target),
 * so a merge in a page gives the same bytes as `mats merge` of the same config.
 *
 * Nothing reachable from here imports a node: module (a test bundles this entry for the browser
 * and checks); the modules that default to the file system get node-io.browser.ts in place of
 * node-io.ts through the "browser" field of package.json.
 */
export { UserError, SafetensorsError, ValidationError } from './errors.js';

// I/O
export { FileAccessError, type ByteSink, type ByteSource, type InputFiles, type MergeIo, type NamedInput, type OutputFolder, type OutputSurvey, type OutputTarget } from './io/files.js';
export { BlobInputFiles, normalizePath } from './io/blob-files.js';
export { BlobOutputTarget } from './io/blob-output.js';

// safetensors and checkpoints
export { SafetensorsFile, type ElementRange } from './safetensors/reader.js';
export { serializeSafetensors, type TensorData } from './safetensors/writer.js';
export type { FloatArray, Precision } from './safetensors/decode.js';
export type { SafetensorsDType } from './safetensors/dtype.js';
export { Checkpoint, type CheckpointTensor } from './checkpoint/checkpoint.js';
export { INDEX_FILE, SINGLE_FILE } from './checkpoint/shard-index.js';

// config, methods, pipeline
export { parseConfig, type MergeConfig, type ModelEntry } from './config/load.js';
export { configSchema, parseByteSize, OUTPUT_DTYPES, type OutputDType } from './config/schema.js';
export type { MergeMethod, StatisticKind, TensorReport } from './methods/method.js';
export { allMethods, findMethod, methodNames } from './methods/registry.js';
export { planMerge, type MergePlan, type PlanOptions } from './pipeline/plan.js';
export { runMerge, type MergeEvent, type MergeSummary, type RunOptions } from './pipeline/run.js';
export { describePlan } from './cli/describe-plan.js';
export { describeReport, describeSummary, describeTensor } from './cli/describe-report.js';
export { formatBytes } from './util/format.js';
export { PACKAGE_VERSION } from './version.js';
