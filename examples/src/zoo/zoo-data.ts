import { identity } from '../data/image-transforms.js';
import { firstExamples, transformImages, type LabelledImages } from '../data/labelled-images.js';
import { loadMnistDigits } from '../data/mnist-digits.js';
import { buildSplits } from '../data/splits.js';
import { selectTasks, type TaskDefinition } from '../data/tasks.js';
import type { ZooConfig } from './zoo-config.js';

/** Every data set of the demo, built deterministically from the config. */
export interface ZooData {
  readonly tasks: readonly TaskDefinition[];
  /** Plain digits for the base model. */
  readonly pretrain: LabelledImages;
  /** Per task, in task order: its training, statistics, validation and test sets (the task's transformation applied). */
  readonly train: readonly LabelledImages[];
  readonly statistics: readonly LabelledImages[];
  readonly validation: readonly LabelledImages[];
  readonly test: readonly LabelledImages[];
}

export function buildZooData(config: ZooConfig): ZooData {
  const digits = loadMnistDigits();
  const tasks = selectTasks(config.tasks);
  const splits = buildSplits(digits, { tasks: tasks.length, seed: config.splitSeed, fractionUsed: config.fractionUsed });
  return {
    tasks,
    pretrain: transformImages(digits, splits.pretrain, identity),
    train: tasks.map((t, i) => transformImages(digits, splits.taskTrain[i], t.transform)),
    statistics: tasks.map((t) => firstExamples(transformImages(digits, splits.statistics, t.transform), config.statistics.examples)),
    validation: tasks.map((t) => firstExamples(transformImages(digits, splits.validation, t.transform), config.validationExamples)),
    test: tasks.map((t) => transformImages(digits, splits.test, t.transform)),
  };
}
