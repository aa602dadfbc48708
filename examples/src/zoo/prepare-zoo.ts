import type { CpuBackend } from '@mats/backend-cpu';
import { SeededRandom, writeStatisticsFile } from '@mats/merge';
import type { LabelledImages } from '../data/labelled-images.js';
import { DIGIT_CLASSES, IMAGE_PIXELS } from '../data/mnist-digits.js';
import { Mlp } from '../mlp/mlp.js';
import { train } from '../mlp/train.js';
import type { TrainingSummary } from '../report/results.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { estimateStatistics } from './estimate-statistics.js';
import { concatenate } from '../data/labelled-images.js';
import { FISHER_KINDS, STATISTICS_FORMAT_VERSION, zooKey, type FisherKind, type TrainingSchedule, type ZooConfig } from './zoo-config.js';
import type { ZooData } from './zoo-data.js';

/** The trained zoo, as loaded back from its files. */
export interface Zoo {
  readonly base: Mlp;
  readonly tasks: readonly Mlp[];
  readonly multitask: Mlp;
  readonly training: readonly TrainingSummary[];
  /** Seconds this run spent training and estimating statistics (0 when all was cached). */
  readonly trainingSeconds: number;
  readonly statisticsSeconds: number;
}

/** Store names of the zoo's files. */
export const zooNames = {
  base: 'base',
  task: (task: string) => `task-${task}`,
  multitask: 'multitask',
  /** A task model's statistics file, for one kind of Fisher (true: the table's; empirical: the ablation's). */
  statistics: (task: string, fisher: FisherKind, examples: number) => `stats-v${STATISTICS_FORMAT_VERSION}-${fisher}-${examples}-${task}`,
};

/**
 * Trains (or loads from the store) the base model on plain digits, one model per task
 * fine-tuned from the base, and the multitask model fine-tuned from the base on every task's
 * training set; then estimates each task model's statistics on held-out digits of its task. Every model is used as read back
 * from its file (float32), so a cached run and a fresh run compute with the same numbers.
 */
export async function prepareZoo(config: ZooConfig, data: ZooData, store: CheckpointStore, backend: CpuBackend, log: (line: string) => void): Promise<Zoo> {
  const root = new SeededRandom(config.seed);
  const training: TrainingSummary[] = [];
  let trainingSeconds = 0;

  const obtain = async (name: string, schedule: TrainingSchedule, dataset: LabelledImages, start: () => Mlp): Promise<Mlp> => {
    const cached = await store.load(name);
    if (cached !== undefined) {
      training.push(summaryFromMetadata(name, cached.metadata));
      return Mlp.fromNamedArrays(backend, cached.tensors, store.pathOf(name));
    }
    const mlp = start();
    const report = train(mlp, dataset, { ...schedule, random: root.derive(`train-${name}`) });
    trainingSeconds += report.seconds;
    const summary: TrainingSummary = { model: name, examples: dataset.count, epochs: schedule.epochs, seconds: report.seconds, finalLoss: report.finalLoss, trainedNow: true };
    log(`  trained ${name.padEnd(18)} ${String(dataset.count).padStart(5)} examples x ${schedule.epochs} epochs in ${report.seconds.toFixed(1)} s, final loss ${report.finalLoss.toFixed(4)}`);
    await store.save(name, { tensors: toFloat32(mlp), metadata: metadataOf(config, summary) });
    training.push(summary);
    const stored = await store.load(name);
    if (stored === undefined) throw new Error(`${store.pathOf(name)}: written but cannot be read back`);
    return Mlp.fromNamedArrays(backend, stored.tensors, store.pathOf(name));
  };

  const sizes = [IMAGE_PIXELS, ...config.hidden, DIGIT_CLASSES];
  const base = await obtain(zooNames.base, config.pretrain, data.pretrain, () => Mlp.initialize(backend, sizes, root.derive('init')));
  const tasks: Mlp[] = [];
  for (let i = 0; i < data.tasks.length; i++) {
    tasks.push(await obtain(zooNames.task(data.tasks[i].name), config.finetune, data.train[i], () => base.clone()));
  }
  const multitask = await obtain(zooNames.multitask, config.multitask, concatenate(data.train), () => base.clone());

  // Statistics with labels sampled from each model (true Fisher, the config's usual choice) and
  // with the gold labels (empirical), so a merge can be run on either.
  const statisticsStart = performance.now();
  let estimated = 0;
  for (const fisher of FISHER_KINDS) {
    for (let i = 0; i < data.tasks.length; i++) {
      const name = zooNames.statistics(data.tasks[i].name, fisher, config.statistics.examples);
      if ((await store.load(name)) !== undefined) continue;
      const statistics = estimateStatistics(tasks[i], data.statistics[i], {
        examples: config.statistics.examples,
        fisher,
        random: root.derive(`statistics-${fisher}-${data.tasks[i].name}`),
      });
      // The user-facing writer: what a model from any framework would be written with.
      await writeStatisticsFile(store.pathOf(name), statistics, { dtype: 'F32', metadata: { fisher, zoo: zooKey(config) } });
      statistics.dispose();
      estimated++;
    }
  }
  const statisticsSeconds = estimated === 0 ? 0 : (performance.now() - statisticsStart) / 1000;
  if (estimated > 0) log(`  estimated ${estimated} statistics files (true and empirical Fisher) in ${statisticsSeconds.toFixed(1)} s`);
  return { base, tasks, multitask, training, trainingSeconds, statisticsSeconds };
}

function toFloat32(mlp: Mlp): Map<string, { shape: readonly number[]; data: Float32Array }> {
  return new Map([...mlp.toNamedArrays()].map(([name, t]) => [name, { shape: t.shape, data: Float32Array.from(t.data) }]));
}

function metadataOf(config: ZooConfig, summary: TrainingSummary): Record<string, string> {
  return {
    zoo: zooKey(config),
    architecture: [IMAGE_PIXELS, ...config.hidden, DIGIT_CLASSES].join('-'),
    examples: String(summary.examples),
    epochs: String(summary.epochs),
    training_seconds: summary.seconds.toFixed(3),
    final_loss: String(summary.finalLoss),
  };
}

function summaryFromMetadata(name: string, metadata: Readonly<Record<string, string>>): TrainingSummary {
  return {
    model: name,
    examples: Number(metadata.examples),
    epochs: Number(metadata.epochs),
    seconds: Number(metadata.training_seconds),
    finalLoss: Number(metadata.final_loss),
    trainedNow: false,
  };
}
