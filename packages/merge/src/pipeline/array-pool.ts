/**
 * Arrays for the inputs and results of a streaming (elementwise) merge, reused from job to
 * job: each job's reads land in arrays of this pool, and are given back once its result is
 * written, so a merge of any size allocates a bounded set (about three jobs' worth: one being
 * read, one computed, one written). Where the CPU backend's WebAssembly kernels run, the arrays
 * live in its kernel memory: files are read straight into them and the elementwise kernels run
 * on them on every core, with no copy between the file and the kernel.
 *
 * Arrays are handed out by capacity (powers of two), as views of the requested length.
 */
import { hostVectors, type HostVectors } from '@mats/backend-cpu';
import type { FloatArray, Precision } from '../safetensors/decode.js';

export class ArrayPool {
  private readonly free = new Map<string, FloatArray[]>();
  /** The full-capacity array behind each view handed out. */
  private readonly bases = new WeakMap<FloatArray, FloatArray>();
  private readonly all: FloatArray[] = [];
  private readonly vectors: HostVectors | undefined;

  constructor(useKernelMemory = true) {
    this.vectors = useKernelMemory ? hostVectors() : undefined;
  }

  /** An array of n elements (contents undefined unless zeroed is set). */
  take(precision: Precision, n: number, zeroed = false): FloatArray {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(n, 1024)));
    const key = `${precision}:${capacity}`;
    let base = this.free.get(key)?.pop();
    if (base === undefined) {
      base = this.vectors?.allocate(precision, capacity) ?? (precision === 'float64' ? new Float64Array(capacity) : new Float32Array(capacity));
      this.all.push(base);
    } else if (zeroed) {
      base.fill(0, 0, n);
    }
    const view = base.subarray(0, n);
    this.bases.set(view, base);
    return view;
  }

  /** Gives an array from take() back. */
  give(view: FloatArray): void {
    const base = this.bases.get(view);
    if (base === undefined) throw new Error('array pool: give() of an array this pool did not hand out');
    this.bases.delete(view);
    const key = `${base instanceof Float64Array ? 'float64' : 'float32'}:${base.length}`;
    let list = this.free.get(key);
    if (list === undefined) this.free.set(key, (list = []));
    list.push(base);
  }

  /** Returns every array's kernel memory (at the end of the merge). */
  dispose(): void {
    if (this.vectors !== undefined) for (const a of this.all) if (this.vectors.addressOf(a) !== undefined) this.vectors.release(a);
    this.all.length = 0;
    this.free.clear();
  }
}
