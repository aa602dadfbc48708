import type { StatisticKind } from '../methods/method.js';

/** One tensor of a statistics file: `<parameter>::<kind>` with its shape and float64 values. */
export interface NamedStatistic {
  /** `<parameter>::<kind>` */
  readonly key: string;
  readonly parameter: string;
  readonly kind: StatisticKind;
  readonly shape: readonly number[];
  /** Row-major values. */
  readonly data: Float64Array;
}

/** Anything that estimates statistics of one or more parameters from a number of examples. */
export interface StatisticsSource {
  /** Examples seen so far (the normaliser of Fishers; metadata n_examples). */
  readonly examples: number;
  /** The estimates; throws when no example was added. */
  statistics(): NamedStatistic[];
}
