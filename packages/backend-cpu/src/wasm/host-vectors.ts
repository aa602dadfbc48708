/**
 * Long arrays in the kernel memory, and the elementwise kernels that run on them on every core
 * (assembly/elementwise.ts): the CPU backend's level-1 operations on large tensors, and the
 * merge's streaming loops (task arithmetic, DARE's drop), which read file data straight into
 * such arrays so that nothing is copied between the file and the kernel.
 *
 * Worker threads can only reach the shared WebAssembly memory, so only arrays allocated here
 * take the threaded kernels; every method returns false (or undefined) for other arrays, and
 * callers then run their plain TypeScript loops. A thread hand-off costs ~13 us, so arrays
 * shorter than THREAD_MIN_ELEMENTS run on the calling thread (still in SIMD).
 */
import { COUNTER_ADDRESS, type KernelMemory } from './kernel-memory.js';

export type HostFloatArray = Float32Array | Float64Array;

/** Elements per block the threads claim (assembly/elementwise.ts BLOCK). */
const BLOCK = 16384;
/** Arrays shorter than this stay on the calling thread. */
export const THREAD_MIN_ELEMENTS = 1 << 17;
/** f64 words of the parameter block: room for the task arithmetic of MAX_MODELS models. */
const PARAM_WORDS = 512;
const MAX_MODELS = (PARAM_WORDS - 8) >> 1; // 6 header words and (x_i, w_i) pairs

export type MapOp = 'axpy' | 'axpby' | 'scal' | 'mul' | 'div' | 'add';
const MAP_CODE: Record<MapOp, number> = { axpy: 0, axpby: 1, scal: 2, mul: 3, div: 4, add: 5 };
export type ReduceOp = 'dot' | 'sumSquares' | 'maxAbs';
const REDUCE_CODE: Record<ReduceOp, number> = { dot: 0, sumSquares: 1, maxAbs: 2 };

export class HostVectors {
  private readonly params: number;
  private partials = 0;
  private partialsLength = 0;
  private readonly dropped: number;

  constructor(
    private readonly memory: KernelMemory,
    /** Threads the kernels may use, the caller's included. */
    readonly threads: number,
  ) {
    this.params = memory.heap.alloc(PARAM_WORDS * 8);
    this.dropped = memory.heap.alloc(64);
  }

  /**
   * A zeroed array of n elements in the kernel memory, or undefined when the memory cannot
   * hold it. Free it with release(); arrays are not garbage collected by themselves.
   */
  allocate(dtype: 'float32' | 'float64', n: number): HostFloatArray | undefined {
    const bytesPer = dtype === 'float64' ? 8 : 4;
    const address = this.memory.tryAlloc(Math.max(1, n) * bytesPer);
    if (address === undefined) return undefined;
    const buffer = this.memory.view().u8.buffer;
    const array = dtype === 'float64' ? new Float64Array(buffer, address, n) : new Float32Array(buffer, address, n);
    array.fill(0);
    return array;
  }

  /** Returns an array from allocate() to the kernel memory. */
  release(array: HostFloatArray): void {
    const address = this.addressOf(array);
    if (address === undefined) throw new Error('host vectors: release() of an array that is not in the kernel memory');
    this.memory.heap.release(address);
  }

  /** release() by address (for finalizers, which must not hold the array). */
  releaseAddress(address: number): void {
    this.memory.heap.release(address);
  }

  /** The byte address of an array that lives in the kernel memory, else undefined. */
  addressOf(array: ArrayBufferView): number | undefined {
    return this.memory.owns(array.buffer) ? array.byteOffset : undefined;
  }

  private threadsFor(n: number, threadMin = THREAD_MIN_ELEMENTS): number {
    return n >= threadMin ? this.threads : 1;
  }

  private suffix(array: HostFloatArray): 'F64' | 'F32' {
    return array instanceof Float64Array ? 'F64' : 'F32';
  }

  /**
   * An elementwise operation on n elements (all arrays one dtype, in the kernel memory):
   * axpy y <- alpha x + y, axpby y <- alpha x + beta y, scal y <- alpha y, mul/div/add
   * out <- x op y. False, with nothing done, when an array is not in the kernel memory.
   */
  map(op: MapOp, n: number, x: HostFloatArray | undefined, y: HostFloatArray, out: HostFloatArray | undefined, alpha = 0, beta = 0, threadMin?: number): boolean {
    const m = this.memory;
    if (!m.owns(y.buffer) || (x !== undefined && !m.owns(x.buffer)) || (out !== undefined && !m.owns(out.buffer))) return false;
    if ((x !== undefined && x.constructor !== y.constructor) || (out !== undefined && out.constructor !== y.constructor)) return false;
    this.setParams([MAP_CODE[op], n, x?.byteOffset ?? 0, y.byteOffset, out?.byteOffset ?? 0, alpha, beta]);
    m.runClaim(y instanceof Float64Array ? 'mapF64' : 'mapF32', [COUNTER_ADDRESS, this.params], this.threadsFor(n, threadMin));
    return true;
  }

  /**
   * dot (sum x y), sumSquares (sum (x / scale)^2) or maxAbs over n elements, accumulated in
   * float64 block by block and summed in block order (the same result on any number of
   * threads); undefined when an array is not in the kernel memory.
   */
  reduce(op: ReduceOp, n: number, x: HostFloatArray, y?: HostFloatArray, scale = 1, threadMin?: number): number | undefined {
    const m = this.memory;
    if (!m.owns(x.buffer) || (y !== undefined && (!m.owns(y.buffer) || y.constructor !== x.constructor))) return undefined;
    const ax = x.byteOffset;
    const ay = y?.byteOffset ?? 0;
    const blocks = Math.ceil(n / BLOCK);
    if (blocks > this.partialsLength) {
      if (this.partials) this.memory.heap.release(this.partials);
      this.partials = this.memory.heap.alloc(blocks * 8);
      this.partialsLength = blocks;
    }
    this.setParams([REDUCE_CODE[op], n, ax, ay, scale]);
    this.memory.runClaim(`reduce${this.suffix(x)}`, [COUNTER_ADDRESS, this.params, this.partials], this.threadsFor(n, threadMin));
    const partial = this.memory.view().f64;
    const base = this.partials / 8;
    let result = 0;
    if (op === 'maxAbs') {
      for (let b = 0; b < blocks; b++) {
        const v = partial[base + b];
        if (v > result || v !== v) result = v;
        if (v !== v) break;
      }
    } else {
      for (let b = 0; b < blocks; b++) result += partial[base + b];
    }
    return result;
  }

  /**
   * out = base + lambda sum_i w_i (x_i - base) (or sum_i w_i x_i when taskVectors: x_i are
   * task vectors already), accumulated in float64 and rounded once to out's dtype; false when
   * an array is not in the kernel memory or the dtypes differ.
   */
  taskArithmetic(out: HostFloatArray, base: HostFloatArray, xs: readonly HostFloatArray[], weights: readonly number[], lambda: number, taskVectors = false): boolean {
    const all = [out, base, ...xs];
    if (xs.length > MAX_MODELS || all.some((a) => a.constructor !== out.constructor || this.addressOf(a) === undefined)) return false;
    const n = out.length;
    const words = [n, lambda, this.addressOf(base)!, this.addressOf(out)!, xs.length, taskVectors ? 1 : 0];
    xs.forEach((x, i) => words.push(this.addressOf(x)!, weights[i]));
    this.setParams(words);
    this.memory.runClaim(`taskArithmetic${this.suffix(out)}`, [COUNTER_ADDRESS, this.params], this.threadsFor(n));
    return true;
  }

  /**
   * DARE's drop fused with the task vector (methods/dare-mask.ts in @mats/merge, the same
   * draws): tau_j = keep ? (x_j - base_j) * scale : 0, keep iff u_j >= p 2^32. Returns the
   * number dropped, or undefined when an array is not in the kernel memory.
   */
  dare(tau: HostFloatArray, x: HostFloatArray, base: HostFloatArray, key: number, offset: number, p: number, scale: number): number | undefined {
    if ([x, base].some((a) => a.constructor !== tau.constructor) || [tau, x, base].some((a) => this.addressOf(a) === undefined)) return undefined;
    const n = tau.length;
    // u < p 2^32 for integer u is u < ceil(p 2^32).
    this.setParams([n, offset >>> 0, key >>> 0, Math.ceil(p * 4294967296), scale, this.addressOf(x)!, this.addressOf(base)!, this.addressOf(tau)!, this.dropped]);
    const i32 = this.memory.view().i32;
    i32[this.dropped / 4] = 0;
    this.memory.runClaim(`dare${this.suffix(tau)}`, [COUNTER_ADDRESS, this.params], this.threadsFor(n));
    return i32[this.dropped / 4];
  }

  private setParams(words: readonly number[]): void {
    this.memory.view().f64.set(words, this.params / 8);
  }
}

const instances = new Map<number, HostVectors>();

/** The HostVectors of this process for a thread count (created on first use). */
export function hostVectorsFor(memory: KernelMemory, threads: number): HostVectors {
  let v = instances.get(threads);
  if (v === undefined) {
    v = new HostVectors(memory, threads);
    instances.set(threads, v);
  }
  return v;
}
