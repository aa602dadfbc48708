import { createHash } from 'node:crypto';

/** How one model of the zoo is trained (minibatch SGD with momentum, cosine schedule). */
export interface TrainingSchedule {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly momentum: number;
  /** Global gradient-norm clip (see train.ts). */
  readonly clipNorm: number;
}

/** Everything that determines the zoo, its statistics and the demo's data: the cache key. */
export interface ZooConfig {
  /** A label for logs and reports ('full', 'ci'). */
  readonly name: string;
  /** Hidden layer widths; inputs are 784 pixels and outputs 10 classes. */
  readonly hidden: readonly number[];
  /** Task names (data/tasks.ts), in table order. */
  readonly tasks: readonly string[];
  /** Seed of the data splits. */
  readonly splitSeed: number;
  /** Seed of initialisation, shuffles and label sampling. */
  readonly seed: number;
  /** Fraction of each digit class used (1: all 10,000 digits). */
  readonly fractionUsed: number;
  readonly pretrain: TrainingSchedule;
  readonly finetune: TrainingSchedule;
  readonly multitask: TrainingSchedule;
  readonly statistics: {
    /** At most this many held-out examples per task (the reference code uses up to 1000). */
    readonly examples: number;
    /** 'true': labels sampled from the model (seeded); 'empirical': the gold labels. */
    readonly fisher: 'true' | 'empirical';
  };
  /** Validation examples per task used to choose knobs (a prefix of the validation split). */
  readonly validationExamples: number;
}

const SGD = { batchSize: 32, momentum: 0.9, clipNorm: 1 } as const;

const ALL_TASKS = ['rotate90', 'rotate180', 'flip', 'invert', 'shift', 'blur', 'dilate', 'pixelate'];

/** The demo: 784-128-64-10, eight tasks, all 10,000 digits. */
export const FULL_ZOO: ZooConfig = {
  name: 'full',
  hidden: [128, 64],
  tasks: ALL_TASKS,
  splitSeed: 1,
  seed: 42,
  fractionUsed: 1,
  pretrain: { ...SGD, epochs: 30, learningRate: 0.05 },
  finetune: { ...SGD, epochs: 40, learningRate: 0.02 },
  multitask: { ...SGD, epochs: 15, learningRate: 0.02 },
  statistics: { examples: 1000, fisher: 'true' },
  validationExamples: 500,
};

/** The reduced run CI executes end to end: a smaller MLP on a quarter of the digits. */
export const CI_ZOO: ZooConfig = {
  name: 'ci',
  hidden: [32],
  tasks: ALL_TASKS,
  splitSeed: 1,
  seed: 42,
  fractionUsed: 0.25,
  pretrain: { ...SGD, epochs: 20, learningRate: 0.05 },
  finetune: { ...SGD, epochs: 30, learningRate: 0.02 },
  multitask: { ...SGD, epochs: 10, learningRate: 0.02 },
  statistics: { examples: 200, fisher: 'true' },
  validationExamples: 100,
};

/**
 * Other zoos, to check that what the demo's default and grids do is not tuned to the demo's
 * zoo alone (issue 14): other seeds and splits, another width and depth, another task set.
 * They run with the same plans (`npm run demo -- --zoo seed`).
 */
export const OTHER_ZOOS: readonly ZooConfig[] = [
  { ...FULL_ZOO, name: 'seed', seed: 7, splitSeed: 2 },
  { ...FULL_ZOO, name: 'width', hidden: [256], seed: 11, splitSeed: 3 },
  { ...FULL_ZOO, name: 'tasks', tasks: ['rotate90', 'flip', 'invert', 'shift', 'dilate', 'pixelate'], hidden: [64, 64], seed: 3, splitSeed: 4 },
];

/** Every zoo by name: full (the demo's), ci, and the others. */
export const ZOOS: ReadonlyMap<string, ZooConfig> = new Map([FULL_ZOO, CI_ZOO, ...OTHER_ZOOS].map((z) => [z.name, z]));

/**
 * Bumped whenever training code changes what a config produces, so that a cache written by
 * older code is not reused.
 */
export const ZOO_FORMAT_VERSION = 3;

/**
 * Bumped whenever statistics estimation changes what a config produces (3: input means for
 * bias folding); it names the statistics files, so new statistics need no retraining.
 */
export const STATISTICS_FORMAT_VERSION = 3;

/** The part of a config that determines the trained models (statistics and validation aside). */
function trainingPart(config: ZooConfig): unknown {
  const { statistics: _statistics, validationExamples: _validation, ...training } = config;
  return training;
}

/** A short stable hash of what determines the trained models: names the cache folder. */
export function zooKey(config: ZooConfig): string {
  const text = JSON.stringify({ version: ZOO_FORMAT_VERSION, config: trainingPart(config) });
  return `${config.name}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** The two ways to label the output gradients of the statistics (METHODS.md "Statistics"). */
export type FisherKind = ZooConfig['statistics']['fisher'];
export const FISHER_KINDS: readonly FisherKind[] = ['true', 'empirical'];
