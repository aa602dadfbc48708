import { writeSafetensorsFile } from '../safetensors/writer.js';
import { replaceFile } from '../util/replace-file.js';
import type { ModelStatistics } from './model-statistics.js';
import type { NamedStatistic } from './named-statistic.js';

export interface StatisticsFileOptions {
  /** Storage dtype of every tensor: F32 (default, half the size) or F64. */
  readonly dtype?: 'F32' | 'F64';
  /** More metadata (strings) next to n_examples: how the statistics were made, say. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes a model's statistics file (DESIGN.md §6): one safetensors file, tensors keyed
 * `<param>::<kind>`, metadata n_examples. The file appears under its name only when complete:
 * it is written beside it and renamed, so an interrupted run leaves no file that looks finished.
 */
export async function writeStatisticsFile(
  path: string,
  statistics: ModelStatistics | { readonly statistics: readonly NamedStatistic[]; readonly metadata: Readonly<Record<string, string>> },
  options: StatisticsFileOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  const tensors = typeof statistics.statistics === 'function' ? statistics.statistics() : statistics.statistics;
  const metadata = typeof statistics.metadata === 'function' ? statistics.metadata() : statistics.metadata;
  await replaceFile(path, (partial) =>
    writeSafetensorsFile(
      partial,
      tensors.map((s) => ({ name: s.key, dtype, shape: s.shape, data: s.data })),
      { ...options.metadata, ...metadata },
    ),
  );
}
