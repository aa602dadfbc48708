/**
 * A TensorJob over planned sources: every input is read at most once (positioned reads of the
 * job's element range only) and shared by the method and its nested calls.
 */
import type { StatisticKind, TensorJob } from '../methods/method.js';
import type { FloatArray, Precision } from '../safetensors/decode.js';
import { asFileSystemError } from '../util/file-errors.js';
import type { NonFiniteGuard } from './nonfinite.js';
import type { PlannedTensor, TensorSource } from './sources.js';

export class InputJob implements TensorJob {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: PlannedTensor['dtype'];
  readonly modelCount: number;
  readonly hasBase: boolean;
  private readonly cache = new Map<string, Promise<FloatArray>>();

  constructor(
    readonly tensor: PlannedTensor,
    readonly index: number,
    readonly offset: number,
    readonly length: number,
    readonly precision: Precision,
    readonly weights: readonly number[],
    /** Checks the weights read (base and models) for NaN and Inf; statistics are checked in planMerge. */
    private readonly guard?: NonFiniteGuard,
  ) {
    this.name = tensor.name;
    this.shape = tensor.shape;
    this.size = tensor.size;
    this.dtype = tensor.dtype;
    this.modelCount = tensor.models.length;
    this.hasBase = tensor.base !== undefined;
  }

  base(): Promise<FloatArray> {
    const source = this.tensor.base;
    if (source === undefined) return Promise.reject(new Error(`tensor ${this.name}: the method read the base, but the config names none`));
    return this.read('base', source, true, 'base');
  }

  model(i: number): Promise<FloatArray> {
    const source = this.tensor.models[i];
    if (source === undefined) return Promise.reject(new RangeError(`tensor ${this.name}: no model ${i} (there are ${this.modelCount})`));
    return this.read(`model ${i}`, source, true, `models[${i}]`);
  }

  hasStatistic(i: number, kind: StatisticKind): boolean {
    return this.tensor.statistics[i]?.has(kind) ?? false;
  }

  statistic(i: number, kind: StatisticKind): Promise<FloatArray> {
    const source = this.tensor.statistics[i]?.get(kind);
    if (source === undefined) return Promise.reject(new Error(`tensor ${this.name}: model ${i} has no ${kind} statistic`));
    // A statistic of the tensor's own shape (diagonal Fisher) follows the job's range.
    const ranged = source.shape.length === this.shape.length && source.shape.every((d, k) => d === this.shape[k]);
    return this.read(`stat ${i} ${kind}`, source, ranged);
  }

  /** Starts reading the inputs the method will need, so that I/O overlaps the previous job's compute. */
  prefetch(withBase: boolean, statistics: boolean): void {
    const pending: Promise<unknown>[] = [];
    if (withBase && this.tensor.base !== undefined) pending.push(this.base());
    for (let i = 0; i < this.modelCount; i++) if (this.weights[i] !== 0) pending.push(this.model(i));
    if (statistics) for (let i = 0; i < this.modelCount; i++) for (const kind of this.tensor.statistics[i].keys()) pending.push(this.statistic(i, kind));
    // A failure surfaces when the method awaits the same promise; do not let it go unhandled here.
    for (const p of pending) p.catch(() => undefined);
  }

  /** role: the input's name in the config ("models[1]") when its values are checked for NaN and Inf. */
  private read(key: string, source: TensorSource, ranged: boolean, role?: string): Promise<FloatArray> {
    let p = this.cache.get(key);
    if (p === undefined) {
      const file = source.checkpoint.get(source.name)?.file ?? source.checkpoint.path;
      const offset = ranged ? this.offset : 0;
      p = source.checkpoint.readFloats(source.name, this.precision, ranged ? { offset, length: this.length } : undefined).then(
        (values) => {
          if (role !== undefined) this.guard?.input(role, file, source.name, source.shape, values, offset);
          return values;
        },
        (e: unknown) => {
          throw asFileSystemError(e, file, 'read');
        },
      );
      this.cache.set(key, p);
    }
    return p;
  }
}
