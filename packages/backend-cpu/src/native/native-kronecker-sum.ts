/**
 * The K-FAC sum matvec y = sum_i G_i x A_i on the native BLAS: per model, T = G_i x and then
 * y += T A_i, two gemms with one T buffer (numpy's loop, without its temporaries).
 *
 * The factors are fixed (Backend.prepareKroneckerSum's contract), so products in the tensors'
 * own precision read them where they are, with no copy: on this machine the first touch of a
 * fresh copy costs more than the gemms that read it (page faults, about 8 ms per 2 MiB). A
 * factor disposed while prepared is refused at the next apply rather than read after reuse.
 * Products in float32 on float64 tensors convert the factors once.
 */
import type { FloatArray } from '../cpu-tensor.js';
import type { NativeBlas } from './native-blas.js';

/** A tensor's storage record (CpuTensor.storage). */
export interface FactorStorage {
  readonly data: FloatArray;
  readonly disposed: boolean;
}

export class NativeKroneckerSum {
  private readonly float64: boolean;
  private readonly g: FloatArray[];
  private readonly a: FloatArray[];
  private disposed = false;

  /**
   * g: M factors [m, m], a: M factors [n, n] (row-major), products in `precision`; buffers:
   * three [m, n] arrays of that precision (x, T, y), the caller's to free after dispose.
   */
  constructor(
    private readonly blas: NativeBlas,
    precision: 'float64' | 'float32',
    private readonly storages: readonly FactorStorage[],
    models: number,
    readonly m: number,
    readonly n: number,
    private readonly buffers: { x: FloatArray; t: FloatArray; y: FloatArray },
  ) {
    this.float64 = precision === 'float64';
    const own = (s: FactorStorage, length: number): FloatArray => {
      if (s.data instanceof Float64Array === this.float64) return s.data;
      const out = this.float64 ? new Float64Array(length) : new Float32Array(length);
      out.set(s.data.subarray(0, length));
      return out;
    };
    this.g = storages.slice(0, models).map((s) => own(s, m * m));
    this.a = storages.slice(models).map((s) => own(s, n * n));
  }

  /** y [m, n] <- sum_i G_i x A_i; x [m, n]. y may be x. */
  apply(x: FloatArray, y: FloatArray): void {
    if (this.disposed) throw new Error('prepared K-FAC sum: used after dispose()');
    if (this.storages.some((s) => s.disposed)) throw new Error('prepared K-FAC sum: one of its factors was disposed');
    const { m, n, blas, float64, buffers } = this;
    // x is read in place unless y is x or the products run in the other precision; likewise y
    // is written in place unless it must be converted.
    const sameType = (v: FloatArray) => v instanceof Float64Array === float64;
    let xs = x;
    if (!sameType(x) || x.buffer === y.buffer && x.byteOffset === y.byteOffset) {
      buffers.x.set(x.subarray(0, m * n));
      xs = buffers.x;
    }
    const ys = sameType(y) ? y : buffers.y;
    for (let i = 0; i < this.g.length; i++) {
      blas.gemm(float64, false, false, m, n, m, 1, this.g[i], m, xs, n, 0, buffers.t, n);
      blas.gemm(float64, false, false, m, n, n, 1, buffers.t, n, this.a[i], n, i === 0 ? 0 : 1, ys, n);
    }
    if (ys !== y) y.set(ys.subarray(0, m * n));
  }

  dispose(): void {
    this.disposed = true;
    this.g.length = 0;
    this.a.length = 0;
  }
}
