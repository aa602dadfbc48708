import { SeededRandom } from '@mats/merge';
import { DIGIT_CLASSES, type MnistDigits } from './mnist-digits.js';

/** Fractions of each digit class that go to each split; they must add up to at most 1. */
export interface SplitFractions {
  /** Plain digits the base model is pretrained on. */
  readonly pretrain: number;
  /** Digits shared out among the tasks' training sets (each image to exactly one task). */
  readonly taskTrain: number;
  /**
   * Held-out digits the statistics (Fishers, Grams) are estimated on, every task under its own
   * transformation: training data no model was fitted to, as in the MaTS reference code.
   */
  readonly statistics: number;
  /** Validation images: every task sees them under its own transformation. */
  readonly validation: number;
  /** Test images: every task sees them under its own transformation. */
  readonly test: number;
}

export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { pretrain: 0.2, taskTrain: 0.4, statistics: 0.1, validation: 0.1, test: 0.2 };

/** Indices into MnistDigits, one array per split. */
export interface DataSplits {
  readonly pretrain: Int32Array;
  /** taskTrain[i]: task i's training images; disjoint across tasks. */
  readonly taskTrain: readonly Int32Array[];
  readonly statistics: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
}

export interface SplitOptions {
  readonly tasks: number;
  readonly seed: number;
  readonly fractions?: SplitFractions;
  /** Use only this fraction of each class (a quick run); 1 uses every image. */
  readonly fractionUsed?: number;
}

/**
 * Deterministic, stratified, disjoint splits: each digit class is permuted by a seeded
 * generator and cut into consecutive pieces, so every split has the same class balance and no
 * image is in two splits. The task training images are dealt out to the tasks in turn, so the
 * tasks' training sets are disjoint from each other too, and no model ever trains on a
 * statistics, validation or test image.
 */
export function buildSplits(digits: MnistDigits, options: SplitOptions): DataSplits {
  const { tasks, seed } = options;
  const fractions = options.fractions ?? DEFAULT_SPLIT_FRACTIONS;
  const fractionUsed = options.fractionUsed ?? 1;
  const shares = [fractions.pretrain, fractions.taskTrain, fractions.statistics, fractions.validation, fractions.test];
  const total = shares.reduce((sum, f) => sum + f, 0);
  if (total > 1 + 1e-12 || shares.some((f) => !(f >= 0))) {
    throw new RangeError(`split fractions must be >= 0 and add up to at most 1, got ${JSON.stringify(fractions)}`);
  }
  if (!(fractionUsed > 0 && fractionUsed <= 1)) throw new RangeError(`fractionUsed must be in (0, 1], got ${fractionUsed}`);
  if (!Number.isInteger(tasks) || tasks < 1) throw new RangeError(`tasks must be a positive integer, got ${tasks}`);

  const pretrain: number[] = [];
  const taskTrain: number[][] = Array.from({ length: tasks }, () => []);
  const statistics: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  const random = new SeededRandom(seed);
  for (let digit = 0; digit < DIGIT_CLASSES; digit++) {
    const members = digits.byClass[digit];
    const order = random.derive(`class-${digit}`).permutation(members.length);
    const used = Math.floor(members.length * fractionUsed);
    // Cut points from cumulative fractions, so rounding never makes the pieces overlap.
    const cuts = [0, ...shares].map((_, i, all) => Math.round(all.slice(0, i + 1).reduce((s, f) => s + f, 0) * used));
    const piece = (k: number) => Array.from(order.subarray(cuts[k], cuts[k + 1]), (i) => members[i]);
    pretrain.push(...piece(0));
    piece(1).forEach((image, position) => taskTrain[position % tasks].push(image));
    statistics.push(...piece(2));
    validation.push(...piece(3));
    test.push(...piece(4));
  }
  // Mix the classes, so that any prefix of a split (a quick evaluation) is balanced too.
  const mixed = (list: number[], name: string) => random.derive(name).shuffle(Int32Array.from(list));
  return {
    pretrain: mixed(pretrain, 'order-pretrain'),
    taskTrain: taskTrain.map((list, task) => mixed(list, `order-task-${task}`)),
    statistics: mixed(statistics, 'order-statistics'),
    validation: mixed(validation, 'order-validation'),
    test: mixed(test, 'order-test'),
  };
}
