/**
 * The K-FAC sum matvec y = sum_i G_i x A_i with its factors packed once into the kernel memory
 * (assembly/kfac.ts runs the fused gemm pairs on every core). An apply copies x in (converting
 * it when the products run in another precision than the tensors), packs it, runs, and copies
 * y out: O(mn) around O(M mn (m + n)) flops.
 *
 * The packed factors take M (m^2 + n^2) elements of the kernel memory, freed by dispose (and
 * by the garbage collector if the operator is dropped without it).
 */
import type { FloatArray } from '../cpu-tensor.js';
import { COUNTER_ADDRESS, TILE_SCRATCH_ADDRESS, type KernelMemory } from './kernel-memory.js';

/** Depth of a k slice (as in the gemms). */
const KC = 256;
/** Products with fewer multiply-adds than this run on the calling thread alone. */
const THREAD_MIN_WORK = 64 ** 3;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/** Frees the kernel memory of prepared operators that were dropped without dispose(). */
const finalizer = new FinalizationRegistry<{ memory: KernelMemory; addresses: number[] }>(({ memory, addresses }) => {
  for (const a of addresses) memory.heap.release(a);
});

export class PreparedKroneckerSum {
  private readonly s: number;
  private readonly nr: number;
  private readonly kernel: 'kfacF64' | 'kfacF32';
  private readonly addresses: number[] = [];
  private readonly token = {};
  private readonly gp: number;
  private readonly ap: number;
  private readonly xRaw: number;
  private readonly xp: number;
  private readonly y: number;
  private readonly tBase: number;
  private readonly tStride: number;
  private readonly mc: number;
  private readonly threads: number;
  private disposed = false;

  /**
   * g: M factors [m, m], a: M factors [n, n] (row-major), computed with in `precision`.
   * Throws RangeError when the kernel memory cannot hold the packed factors.
   */
  constructor(
    private readonly memory: KernelMemory,
    precision: 'float64' | 'float32',
    threads: number,
    g: readonly FloatArray[],
    a: readonly FloatArray[],
    readonly m: number,
    readonly n: number,
  ) {
    this.s = precision === 'float64' ? 8 : 4;
    this.nr = precision === 'float64' ? 4 : 8;
    this.kernel = precision === 'float64' ? 'kfacF64' : 'kfacF32';
    const models = g.length;
    const mp = roundUp(m, 4);
    const np = roundUp(n, this.nr);
    const work = models * m * n * (m + n);
    this.threads = work >= THREAD_MIN_WORK ? threads : 1;
    // Enough row blocks (about four per thread) for the threads to finish together.
    this.mc = Math.max(4, Math.min(128, roundUp(Math.ceil(m / (4 * this.threads)), 4)));
    const mcp = roundUp(this.mc, 4);
    this.tStride = roundUp((this.mc * np + mcp * n) * this.s, 64);
    try {
      this.gp = this.alloc(models * mp * m);
      this.ap = this.alloc(models * n * np);
      this.xRaw = this.alloc(Math.max(m * n, m * m, n * n));
      this.xp = this.alloc(m * np);
      this.y = this.alloc(m * n);
      this.tBase = this.alloc((this.threads * this.tStride) / this.s);
    } catch (e) {
      this.dispose();
      throw e;
    }
    finalizer.register(this, { memory, addresses: this.addresses }, this.token);
    // Pack every factor once: G_i as A-operand row panels (k = m), A_i as B-operand column
    // panels (k = n), through the raw buffer (a typed-array copy converts the precision).
    const exports = memory.exports;
    const suffix = precision === 'float64' ? 'F64' : 'F32';
    for (let i = 0; i < models; i++) {
      this.view().set(g[i].subarray(0, m * m), this.xRaw / this.s);
      exports[`packA${suffix}`](this.xRaw, m, 0, m, m, 1, this.gp + i * mp * m * this.s);
      this.view().set(a[i].subarray(0, n * n), this.xRaw / this.s);
      exports[`packB${suffix}`](this.xRaw, n, 0, n, n, this.ap + i * n * np * this.s);
    }
    this.models = models;
  }

  private readonly models: number;

  private alloc(elements: number): number {
    const address = this.memory.tryAlloc(elements * this.s);
    if (address === undefined) {
      throw new RangeError(`prepared K-FAC sum: the kernel memory cannot hold ${((elements * this.s) / 2 ** 20).toFixed(0)} MiB more`);
    }
    this.addresses.push(address);
    return address;
  }

  private view(): FloatArray {
    const v = this.memory.view();
    return this.s === 8 ? v.f64 : v.f32;
  }

  /** y [m, n] <- sum_i G_i x A_i; x [m, n]. y may be x. */
  apply(x: FloatArray, y: FloatArray): void {
    if (this.disposed) throw new Error('prepared K-FAC sum: used after dispose()');
    const { m, n, s } = this;
    this.view().set(x.subarray(0, m * n), this.xRaw / s);
    this.memory.exports[s === 8 ? 'packBF64' : 'packBF32'](this.xRaw, n, 0, m, n, this.xp);
    const args = [COUNTER_ADDRESS, m, n, this.models, this.gp, roundUp(m, 4) * m * s, this.xp, this.ap, n * roundUp(n, this.nr) * s, this.y, this.mc, KC, TILE_SCRATCH_ADDRESS, this.tBase, this.tStride];
    this.memory.runClaim(this.kernel, args, this.threads);
    y.set(this.view().subarray(this.y / s, this.y / s + m * n));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this.token);
    for (const a of this.addresses) this.memory.heap.release(a);
    this.addresses.length = 0;
  }
}
