import type { Backend } from '@mats/core';
import { DiagonalFisherAccumulator } from './diagonal-fisher-accumulator.js';
import type { FloatBatch } from './float-batch.js';
import { GramAccumulator } from './gram-accumulator.js';
import type { NamedStatistic, StatisticsSource } from './named-statistic.js';
import { statisticKey } from './statistic-keys.js';

export interface ParameterGradientStatisticsOptions {
  /** Full Fisher block [d, d]; only for 1-D parameters [d]. Default: true for 1-D parameters. */
  readonly block?: boolean;
  /** Where the block's sum accumulates; a float64 CPU backend by default. */
  readonly backend?: Backend;
}

/**
 * Statistics of any parameter from its per-example gradients g_n = d log p(y_n | x_n) / d theta
 * (PyTorch: torch.func.vmap(grad), or one backward pass per example): the diagonal Fisher
 * (1/N) sum_n g_n .* g_n, and for a 1-D parameter [d] the full block (1/N) sum_n g_n g_n^T.
 * For layer norms, embeddings and anything that is not a linear layer.
 */
export class ParameterGradientStatistics implements StatisticsSource {
  private readonly fisher: DiagonalFisherAccumulator;
  private readonly block: GramAccumulator | undefined;

  constructor(
    readonly parameter: string,
    readonly shape: readonly number[],
    options: ParameterGradientStatisticsOptions = {},
  ) {
    this.fisher = new DiagonalFisherAccumulator(shape, statisticKey(parameter, 'fisher'));
    const wantsBlock = options.block ?? shape.length === 1;
    if (wantsBlock && shape.length !== 1) {
      throw new RangeError(`${parameter}: a fisher_block is only estimated for 1-D parameters, not shape [${shape.join(', ')}]`);
    }
    if (wantsBlock) this.block = new GramAccumulator(shape[0], statisticKey(parameter, 'fisher_block'), options.backend);
  }

  get examples(): number {
    return this.fisher.count;
  }

  /** Adds per-example gradients [n, ...shape], row-major. */
  add(gradients: FloatBatch): void {
    this.fisher.add(gradients);
    this.block?.add(gradients);
  }

  statistics(): NamedStatistic[] {
    const out: NamedStatistic[] = [
      { key: statisticKey(this.parameter, 'fisher'), parameter: this.parameter, kind: 'fisher', shape: [...this.shape], data: this.fisher.mean() },
    ];
    if (this.block !== undefined) {
      const d = this.shape[0];
      out.push({ key: statisticKey(this.parameter, 'fisher_block'), parameter: this.parameter, kind: 'fisher_block', shape: [d, d], data: this.block.mean() });
    }
    return out;
  }

  dispose(): void {
    this.block?.dispose();
  }
}
