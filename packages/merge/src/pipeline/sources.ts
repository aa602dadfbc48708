/** Where each input of a planned tensor is read from. */
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import type { StatisticKind } from '../methods/method.js';
import type { SafetensorsDType } from '../safetensors/dtype.js';

export interface TensorSource {
  readonly checkpoint: Checkpoint;
  /** The name stored in the checkpoint (an alias when the tensor is tied). */
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
}

export interface PlannedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** dtype in the reference checkpoint (the base, or the first model without a base). */
  readonly dtype: SafetensorsDType;
  /** merge: floating point, combined by the method. copy: integer/bool, copied from the reference. */
  readonly action: 'merge' | 'copy';
  readonly outputDtype: SafetensorsDType;
  readonly base?: TensorSource;
  readonly models: readonly TensorSource[];
  /** Per model, the statistics present for this tensor. */
  readonly statistics: readonly ReadonlyMap<StatisticKind, TensorSource>[];
}
