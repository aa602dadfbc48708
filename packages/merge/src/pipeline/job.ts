/**
 * A TensorJob over planned sources: every input is read at most once (positioned reads of the
 * job's element range only) and shared by the method and its nested calls.
 */
import type { StatisticKind, TensorJob } from '../methods/method.js';
import { allocateFloats, type FloatArray, type Precision } from '../safetensors/decode.js';
import { asFileSystemError } from '../util/file-errors.js';
import type { ArrayPool } from './array-pool.js';
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
  /** Arrays taken from the pool, given back by release(). */
  private readonly held: FloatArray[] = [];

  constructor(
    readonly tensor: PlannedTensor,
    readonly index: number,
    readonly offset: number,
    readonly length: number,
    readonly precision: Precision,
    readonly weights: readonly number[],
    /** Checks the weights read (base and models) for NaN and Inf; statistics are checked in planMerge. */
    private readonly guard?: NonFiniteGuard,
    /** Where the ranged reads and work arrays come from (the streaming merge pass); fresh arrays without. */
    private readonly pool?: ArrayPool,
    /** The pipeline's job of another whole tensor (bias folding); none in elementwise plans and preparation passes. */
    private readonly siblings: (name: string) => InputJob | undefined = () => undefined,
  ) {
    this.name = tensor.name;
    this.shape = tensor.shape;
    this.size = tensor.size;
    this.dtype = tensor.dtype;
    this.modelCount = tensor.models.length;
    this.hasBase = tensor.base !== undefined;
  }

  sibling(name: string): InputJob | undefined {
    return name === this.name ? this : this.siblings(name);
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

  /** A zeroed array of the job's length and precision, valid until release(). */
  workArray(): FloatArray {
    return this.take(this.precision);
  }

  /**
   * A zeroed array for the method's result: float32 when a float32 merge writes F32 (rounded
   * once, as the writer would), float64 otherwise (the writer rounds it once to the output dtype).
   */
  resultArray(): FloatArray {
    return this.take(this.precision === 'float32' && this.tensor.outputDtype === 'F32' ? 'float32' : 'float64');
  }

  private take(precision: Precision): FloatArray {
    if (this.pool === undefined) return allocateFloats(precision, this.length);
    const a = this.pool.take(precision, this.length, true);
    this.held.push(a);
    return a;
  }

  /**
   * Gives the job's pooled arrays back, once every read of it has settled (a prefetched input
   * the method never awaited may still be in flight): call it after the job's result is written.
   */
  async release(): Promise<void> {
    await Promise.allSettled(this.cache.values());
    for (const a of this.held) this.pool!.give(a);
    this.held.length = 0;
  }

  /** role: the input's name in the config ("models[1]") when its values are checked for NaN and Inf. */
  private read(key: string, source: TensorSource, ranged: boolean, role?: string): Promise<FloatArray> {
    let p = this.cache.get(key);
    if (p === undefined) {
      const file = source.checkpoint.get(source.name)?.file ?? source.checkpoint.path;
      const offset = ranged ? this.offset : 0;
      const into = ranged && this.pool !== undefined ? this.pool.take(this.precision, this.length) : undefined;
      if (into !== undefined) this.held.push(into);
      p = source.checkpoint.readFloats(source.name, this.precision, ranged ? { offset, length: this.length } : undefined, into).then(
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
