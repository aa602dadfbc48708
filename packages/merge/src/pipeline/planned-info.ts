/**
 * The plan's view of a merged tensor before any value is read (PlannedTensorInfo): what
 * `--dry-run` asks a method's describe() with, so that it applies the rules merge() will.
 */
import type { PlannedTensorInfo, StatisticKind } from '../methods/method.js';
import type { PlannedTensor } from './sources.js';

/**
 * Infos of the merged tensors, by name, with each tensor's model weights (a config may vary them
 * by tensor); siblings resolve among them (none in an elementwise plan).
 */
export function plannedTensorInfos(tensors: readonly PlannedTensor[], weightsOf: (name: string) => readonly number[], elementwise: boolean): Map<string, PlannedTensorInfo> {
  const infos = new Map<string, PlannedTensorInfo>();
  for (const t of tensors) {
    if (t.action !== 'merge') continue;
    infos.set(t.name, {
      name: t.name,
      shape: t.shape,
      size: t.size,
      dtype: t.dtype,
      weights: weightsOf(t.name),
      hasStatistic: (i: number, kind: StatisticKind) => t.statistics[i]?.has(kind) ?? false,
      sibling: (name: string) => (elementwise ? undefined : infos.get(name)),
    });
  }
  return infos;
}
