import { LinearLayerStatistics, type LinearLayerStatisticsOptions } from './linear-layer-statistics.js';
import type { NamedStatistic, StatisticsSource } from './named-statistic.js';
import { ParameterGradientStatistics, type ParameterGradientStatisticsOptions } from './parameter-gradient-statistics.js';
import { N_EXAMPLES_METADATA_KEY } from './statistic-keys.js';

/**
 * The statistics of one model: what goes into its statistics file. Register one source per
 * linear layer or parameter, feed them batch by batch, then take statistics() and metadata().
 */
export class ModelStatistics {
  private readonly sources: StatisticsSource[] = [];

  /** Registers a linear layer (inputs and output gradients in, K-FAC factors and Fishers out). */
  linear(options: LinearLayerStatisticsOptions): LinearLayerStatistics {
    return this.register(new LinearLayerStatistics(options));
  }

  /** Registers a parameter whose per-example gradients will be added. */
  parameter(name: string, shape: readonly number[], options?: ParameterGradientStatisticsOptions): ParameterGradientStatistics {
    return this.register(new ParameterGradientStatistics(name, shape, options));
  }

  /** Registers any other source (a user-defined estimator). */
  register<S extends StatisticsSource>(source: S): S {
    this.sources.push(source);
    return source;
  }

  /**
   * The number of examples every source saw. The file's metadata holds one n_examples, so
   * sources fed different numbers of examples are an error that names them.
   */
  get examples(): number {
    if (this.sources.length === 0) throw new RangeError('ModelStatistics: no statistics were registered');
    const counts = new Set(this.sources.map((s) => s.examples));
    if (counts.size > 1) {
      const detail = this.sources.map((s, i) => `${describe(s, i)}: ${s.examples}`).join(', ');
      throw new RangeError(`ModelStatistics: sources saw different numbers of examples (${detail}); feed every source the same examples`);
    }
    return this.sources[0].examples;
  }

  /** Every estimate, in registration order; duplicate keys are an error. */
  statistics(): NamedStatistic[] {
    const examples = this.examples;
    if (examples === 0) throw new RangeError('ModelStatistics: no examples were added');
    const out: NamedStatistic[] = [];
    const seen = new Set<string>();
    for (const source of this.sources) {
      for (const statistic of source.statistics()) {
        if (seen.has(statistic.key)) throw new RangeError(`ModelStatistics: ${statistic.key} is estimated by two sources`);
        seen.add(statistic.key);
        out.push(statistic);
      }
    }
    return out;
  }

  /** The file's metadata: n_examples. */
  metadata(): Record<string, string> {
    return { [N_EXAMPLES_METADATA_KEY]: String(this.examples) };
  }

  dispose(): void {
    for (const source of this.sources) (source as { dispose?: () => void }).dispose?.();
  }
}

function describe(source: StatisticsSource, index: number): string {
  if (source instanceof LinearLayerStatistics) return source.weight;
  if (source instanceof ParameterGradientStatistics) return source.parameter;
  return `source ${index}`;
}
