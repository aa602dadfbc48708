/**
 * Statistics estimation: accumulators that turn per-example (or per-token) layer inputs and
 * output gradients, or per-example parameter gradients, from any framework into the
 * statistics the task-subspace methods need (DESIGN.md §6, METHODS.md "Statistics").
 */
export { STATISTIC_KINDS, STATISTIC_KEY_SEPARATOR, N_EXAMPLES_METADATA_KEY, statisticKey, parseStatisticKey } from './statistic-keys.js';
export type { FloatBatch } from './float-batch.js';
export type { NamedStatistic, StatisticsSource } from './named-statistic.js';
export { GramAccumulator } from './gram-accumulator.js';
export { DiagonalFisherAccumulator } from './diagonal-fisher-accumulator.js';
export { LinearLayerStatistics } from './linear-layer-statistics.js';
export type { LinearLayerStatisticsOptions } from './linear-layer-statistics.js';
export { ParameterGradientStatistics } from './parameter-gradient-statistics.js';
export type { ParameterGradientStatisticsOptions } from './parameter-gradient-statistics.js';
export { ModelStatistics } from './model-statistics.js';
export { softmaxRows, logLikelihoodGradients, sampleLabels } from './classifier-gradients.js';
export { SeededRandom } from './seeded-random.js';
export { writeStatisticsFile } from './write-statistics-file.js';
export type { StatisticsFileOptions } from './write-statistics-file.js';
