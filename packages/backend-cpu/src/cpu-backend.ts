import {
  checkHostLength,
  checkOperands,
  checkRange,
  elementwiseOperands,
  formatShape,
  gemmDims,
  ShapeError,
  shapeSize,
  type Backend,
  type DType,
  type HostArray,
  type HostLinalg,
  type PreparedOperator,
  type Shape,
  type Tensor,
  type Transpose,
} from '@mats/core';
import { CpuTensor, type FloatArray } from './cpu-tensor.js';
import { GemmScratch, gemmFlat } from './gemm-driver.js';
import { hostLinalg } from './host-linalg.js';
import { resolveVariant, type CpuBackendOptions, type CpuKernelVariant } from './kernel-variants.js';
import { createKernelSet, type KernelSet } from './kernels/kernel-set.js';
import { nativeBlas, type NativeBlas } from './native/native-blas.js';
import { NativeKroneckerSum } from './native/native-kronecker-sum.js';
import { kernelMemory, type KernelMemory } from './wasm/kernel-memory.js';
import { hostVectorsFor, THREAD_MIN_ELEMENTS, type HostVectors } from './wasm/host-vectors.js';
import { PreparedKroneckerSum } from './wasm/prepared-kronecker-sum.js';
import { WasmGemm } from './wasm/wasm-gemm.js';

const DEFAULT_WASM_MIN_WORK = 32 ** 3;
const DEFAULT_THREAD_MIN_WORK = 64 ** 3;
/**
 * Tensors of at least this many elements live in the kernel memory, where the level-1
 * operations run on the WebAssembly kernels (on every core above THREAD_MIN_ELEMENTS);
 * smaller ones stay in ordinary typed arrays and the TypeScript kernels.
 */
const SHARED_MIN_ELEMENTS = 1 << 14;

/** Returns the kernel memory of tensors that were dropped without dispose(). */
const storageFinalizer = new FinalizationRegistry<{ vectors: HostVectors; address: number }>(({ vectors, address }) => {
  vectors.releaseAddress(address);
});

/**
 * The CPU backend: flat row-major Float64Array or Float32Array storage; plain TypeScript
 * kernels (one monomorphic copy per backend instance) and, where the runtime allows,
 * WebAssembly SIMD gemm on one or several threads, or the system BLAS's (kernel-variants.ts).
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  /** The kernel variant that runs: 'typescript', 'wasm-simd', 'wasm-simd-threads' or 'blas'. */
  readonly mode: CpuKernelVariant;
  /**
   * Threads the WebAssembly kernels may use, the caller's included (1 unless mode is
   * 'wasm-simd-threads' or 'blas'; the BLAS runs its own, OPENBLAS_NUM_THREADS).
   */
  readonly threads: number;
  /** Why 'auto' settled for a slower variant, when it did. */
  readonly modeNote: string | undefined;
  readonly linalg: HostLinalg = hostLinalg;
  private readonly kernels: KernelSet = createKernelSet();
  private readonly scratch: GemmScratch;
  private readonly allocate: (n: number) => FloatArray;
  private readonly wasmGemm: WasmGemm | undefined;
  /** The system BLAS, on the 'blas' variant. */
  private readonly blas: NativeBlas | undefined;
  private readonly wasmMinWork: number;
  private readonly memory: KernelMemory | undefined;
  private readonly vectors: HostVectors | undefined;
  private readonly level1MinElements: number;
  private readonly level1ThreadMin: number;

  constructor(
    readonly dtype: DType,
    options: CpuBackendOptions = {},
  ) {
    if (dtype !== 'float64' && dtype !== 'float32') {
      throw new TypeError(`cpu backend: unsupported dtype ${String(dtype)}; use 'float64' or 'float32'`);
    }
    this.allocate = dtype === 'float64' ? (n) => new Float64Array(n) : (n) => new Float32Array(n);
    this.scratch = new GemmScratch(this.allocate);
    const resolved = resolveVariant(options);
    this.mode = resolved.variant;
    this.threads = resolved.threads;
    this.modeNote = resolved.note;
    this.wasmMinWork = checkWork('wasmMinWork', options.wasmMinWork ?? DEFAULT_WASM_MIN_WORK);
    const threadMinWork = checkWork('threadMinWork', options.threadMinWork ?? DEFAULT_THREAD_MIN_WORK);
    this.level1MinElements = checkWork('level1MinElements', options.level1MinElements ?? SHARED_MIN_ELEMENTS);
    this.level1ThreadMin = checkWork('level1ThreadMinElements', options.level1ThreadMinElements ?? THREAD_MIN_ELEMENTS);
    const memory = resolved.variant === 'typescript' ? undefined : kernelMemory();
    if (typeof memory === 'object') {
      this.memory = memory;
      this.wasmGemm = new WasmGemm(memory, this.kernels, dtype, resolved.threads, threadMinWork);
      this.vectors = hostVectorsFor(memory, resolved.threads);
    }
    const blas = resolved.variant === 'blas' ? nativeBlas() : undefined;
    this.blas = typeof blas === 'object' ? blas : undefined;
  }

  /**
   * Resolves once the worker threads of 'wasm-simd-threads' are started and ready (at once
   * for the other variants). Optional: until then, gemm runs on the calling thread alone.
   */
  async warmUp(): Promise<void> {
    await this.wasmGemm?.warmUp();
  }

  /** Helper threads that took part in this process's last threaded gemm (for tests). */
  get lastGemmHelpers(): number {
    return this.wasmGemm?.lastHelpers ?? 0;
  }

  zeros(shape: Shape): Tensor {
    const size = shapeSize(shape);
    return new CpuTensor(this, this.dtype, [...shape], size, this.storage(size));
  }

  fromArray(data: ArrayLike<number>, shape: Shape): Tensor {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${formatShape(shape)} (${size} elements)`);
    }
    const storage = this.storage(size);
    storage.data.set(data);
    return new CpuTensor(this, this.dtype, [...shape], size, storage);
  }

  /**
   * Zeroed storage for n elements: in the kernel memory for large tensors (where the level-1
   * kernels can run on every core), an ordinary typed array otherwise or when the kernel
   * memory is full. Kernel memory is returned by dispose(), or by the garbage collector.
   */
  private storage(n: number): CpuTensor['storage'] {
    const vectors = this.vectors;
    if (vectors !== undefined && n >= this.level1MinElements && n > 0) {
      const data = vectors.allocate(this.dtype, n);
      if (data !== undefined) {
        const storage = { data, disposed: false };
        storageFinalizer.register(storage, { vectors, address: data.byteOffset }, storage);
        return storage;
      }
    }
    return { data: this.allocate(n), disposed: false };
  }

  toArray(x: Tensor): HostArray {
    // A fresh array filled by set(), not slice(): slice() of a view of the shared kernel memory
    // is slower here (0.8 against 0.1 ms per 2 MiB once warm, measured in Node 20).
    const out = this.allocate(x.size);
    out.set(this.own('toArray', x).data.subarray(0, x.size));
    return out;
  }

  write(x: Tensor, data: ArrayLike<number>): void {
    const t = this.own('write', x);
    checkHostLength('write', data.length, t);
    t.data.set(data);
  }

  read<T extends HostArray>(x: Tensor, out: T): T {
    const t = this.own('read', x);
    checkHostLength('read', out.length, t);
    out.set(t.data.subarray(0, t.size));
    return out;
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    const t = this.own('reshape', x);
    const size = shapeSize(shape);
    if (size !== t.size) {
      throw new ShapeError(`reshape: cannot view ${formatShape(t.shape)} (${t.size} elements) as ${formatShape(shape)} (${size})`);
    }
    return new CpuTensor(this, this.dtype, [...shape], size, t.storage);
  }

  dispose(x: Tensor): void {
    const t = x as CpuTensor;
    if (t.backend !== this || t.storage.disposed) return;
    t.storage.disposed = true;
    if (this.vectors?.addressOf(t.storage.data) !== undefined) {
      storageFinalizer.unregister(t.storage);
      this.vectors.release(t.storage.data);
    }
    t.storage.data = this.allocate(0);
  }

  dot(x: Tensor, y: Tensor): number {
    const [a, b] = this.pair('dot', x, y);
    return this.vectors?.reduce('dot', a.size, a.data, b.data, 1, this.level1ThreadMin) ?? this.kernels.dot(a.data, b.data, a.size);
  }

  nrm2(x: Tensor): number {
    const t = this.own('nrm2', x);
    const v = this.vectors;
    const sumSquares = (scale: number) => v?.reduce('sumSquares', t.size, t.data, undefined, scale, this.level1ThreadMin) ?? this.kernels.scaledSumSquares(t.data, t.size, scale);
    const sum = sumSquares(1);
    // The plain sum of squares over- or underflows only for extreme float64 values; then
    // scale by the largest magnitude (the classic BLAS nrm2 remedy) in a second pass.
    if (Number.isFinite(sum) && sum > 1e-280) return Math.sqrt(sum);
    const scale = v?.reduce('maxAbs', t.size, t.data, undefined, 1, this.level1ThreadMin) ?? this.kernels.maxAbs(t.data, t.size);
    if (scale === 0 || !Number.isFinite(scale)) return scale;
    return scale * Math.sqrt(sumSquares(scale));
  }

  axpy(alpha: number, x: Tensor, y: Tensor): void {
    const [a, b] = this.pair('axpy', x, y);
    if (this.vectors?.map('axpy', a.size, a.data, b.data, undefined, alpha, 0, this.level1ThreadMin)) return;
    this.kernels.axpy(alpha, a.data, b.data, a.size);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): void {
    const [a, b] = this.pair('axpby', x, y);
    if (beta === 0) {
      // beta = 0 overwrites y, NaN included (BLAS convention).
      b.data.fill(0, 0, b.size);
      if (this.vectors?.map('axpy', a.size, a.data, b.data, undefined, alpha, 0, this.level1ThreadMin)) return;
      this.kernels.axpy(alpha, a.data, b.data, a.size);
    } else {
      if (this.vectors?.map('axpby', a.size, a.data, b.data, undefined, alpha, beta, this.level1ThreadMin)) return;
      this.kernels.axpby(alpha, a.data, beta, b.data, a.size);
    }
  }

  scal(alpha: number, x: Tensor): void {
    const t = this.own('scal', x);
    if (this.vectors?.map('scal', t.size, undefined, t.data, undefined, alpha, 0, this.level1ThreadMin)) return;
    this.kernels.scal(alpha, t.data, t.size);
  }

  copy(src: Tensor, dst: Tensor): void {
    const [a, b] = this.pair('copy', src, dst);
    b.data.set(a.data.subarray(0, a.size));
  }

  copyRange(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, length: number): void {
    checkOperands(this, 'copyRange', src, dst);
    checkRange('copyRange', src, srcOffset, length, 'source');
    checkRange('copyRange', dst, dstOffset, length, 'destination');
    const s = (src as CpuTensor).data;
    (dst as CpuTensor).data.set(s.subarray(srcOffset, srcOffset + length), dstOffset);
  }

  fill(x: Tensor, value: number): void {
    const t = this.own('fill', x);
    t.data.fill(value, 0, t.size);
  }

  mul(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('mul', x, y, out);
    if (this.vectors?.map('mul', a.size, a.data, b.data, o.data, 0, 0, this.level1ThreadMin)) return;
    this.kernels.mul(a.data, b.data, o.data, a.size);
  }

  div(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('div', x, y, out);
    if (this.vectors?.map('div', a.size, a.data, b.data, o.data, 0, 0, this.level1ThreadMin)) return;
    this.kernels.div(a.data, b.data, o.data, a.size);
  }

  add(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('add', x, y, out);
    if (this.vectors?.map('add', a.size, a.data, b.data, o.data, 0, 0, this.level1ThreadMin)) return;
    this.kernels.add(a.data, b.data, o.data, a.size);
  }

  gemm(transA: Transpose, transB: Transpose, alpha: number, a: Tensor, b: Tensor, beta: number, c: Tensor): void {
    checkOperands(this, 'gemm', a, b, c);
    const { m, n, k } = gemmDims(transA, transB, a, b, c);
    const [ta, tb, tc] = [a, b, c] as CpuTensor[];
    if (tc.storage === ta.storage || tc.storage === tb.storage) {
      throw new ShapeError('gemm: C must not share storage with A or B');
    }
    const [ra, rb] = [transA === 'T', transB === 'T'];
    const work = m * n * k;
    if (this.blas) {
      // Row-major operands as stored: A is [m, k] or, transposed, [k, m]; likewise B. BLAS
      // wants every leading dimension >= 1, even for an empty operand.
      const ld = (cols: number) => Math.max(1, cols);
      this.blas.gemm(this.dtype === 'float64', ra, rb, m, n, k, alpha, ta.data, ld(ra ? m : k), tb.data, ld(rb ? k : n), beta, tc.data, ld(n));
      return;
    }
    if (this.wasmGemm && work > 0 && work >= this.wasmMinWork && alpha !== 0) {
      if (this.wasmGemm.run(ra, rb, m, n, k, alpha, ta.data, tb.data, beta, tc.data)) return;
    }
    gemmFlat(this.kernels, this.scratch, ra, rb, m, n, k, alpha, ta.data, tb.data, beta, tc.data);
  }

  /**
   * The K-FAC sum matvec y <- sum_i G_i x A_i with the factors packed once into the kernel
   * memory and the 2 M gemms of an apply fused per block of rows on every core
   * (wasm/prepared-kronecker-sum.ts). precision 'float32' on a float64 backend runs the
   * products in float32. On the 'blas' variant, the same sum as 2 M native gemms per apply
   * (native/native-kronecker-sum.ts). Undefined on the 'typescript' variant, for factors that
   * are not square, and when the kernel memory cannot hold the packed factors.
   */
  prepareKroneckerSum(g: readonly Tensor[], a: readonly Tensor[], options: { precision?: DType } = {}): PreparedOperator | undefined {
    const memory = this.memory;
    const precision = options.precision ?? this.dtype;
    if (memory === undefined || g.length === 0 || g.length !== a.length) return undefined;
    if (precision === 'float64' && this.dtype === 'float32') return undefined; // no gain in widening
    const factors = [...g, ...a].map((t) => this.own('prepareKroneckerSum', t));
    const m = g[0].shape[0];
    const n = a[0].shape[0];
    const square = (t: Tensor, k: number) => t.shape.length === 2 && t.shape[0] === k && t.shape[1] === k;
    if (!g.every((t) => square(t, m)) || !a.every((t) => square(t, n))) return undefined;
    if (this.blas) {
      // Buffers from this backend (the kernel memory, reused: no fresh pages per solve).
      const buffers = [0, 1, 2].map(() => (precision === this.dtype ? this.zeros([m, n]) : undefined));
      const array = (i: number) => (buffers[i] as CpuTensor | undefined)?.data ?? new Float32Array(m * n);
      const native = new NativeKroneckerSum(this.blas, precision, factors.map((t) => t.storage), g.length, m, n, { x: array(0), t: array(1), y: array(2) });
      return this.preparedSum(native, factors, m, n, () => {
        for (const b of buffers) if (b) this.dispose(b);
      });
    }
    let prepared: PreparedKroneckerSum;
    try {
      const data = factors.map((t) => t.data);
      prepared = new PreparedKroneckerSum(memory, precision, this.threads, data.slice(0, g.length), data.slice(g.length), m, n);
    } catch (e) {
      if (e instanceof RangeError) return undefined; // the kernel memory cannot hold it: use gemm
      throw e;
    }
    return this.preparedSum(prepared, factors, m, n);
  }

  /** The PreparedOperator of a prepared K-FAC sum on arrays: operand checks, then its apply. */
  private preparedSum(
    prepared: { apply(x: FloatArray, y: FloatArray): void; dispose(): void },
    factors: readonly CpuTensor[],
    m: number,
    n: number,
    release: () => void = () => {},
  ): PreparedOperator {
    return {
      apply: (x, out) => {
        const tx = this.own('kroneckerSum apply', x);
        const tout = this.own('kroneckerSum apply', out);
        if (tx.size !== m * n || tout.size !== m * n) {
          throw new ShapeError(`kroneckerSum apply: x and out must be [${m}, ${n}], got ${formatShape(x.shape)} and ${formatShape(out.shape)}`);
        }
        if (factors.some((f) => f.storage === tout.storage)) {
          // The native form reads the factors in place: writing one would corrupt the sum.
          throw new ShapeError('kroneckerSum apply: out must not be one of the factors');
        }
        prepared.apply(tx.data, tout.data);
      },
      dispose: () => {
        prepared.dispose();
        release();
      },
    };
  }

  private own(operation: string, x: Tensor): CpuTensor {
    checkOperands(this, operation, x);
    return x as CpuTensor;
  }

  private pair(operation: string, x: Tensor, y: Tensor): [CpuTensor, CpuTensor] {
    return elementwiseOperands<CpuTensor>(this, operation, x, y) as [CpuTensor, CpuTensor];
  }

  private triple(operation: string, x: Tensor, y: Tensor, out: Tensor): [CpuTensor, CpuTensor, CpuTensor] {
    return elementwiseOperands<CpuTensor>(this, operation, x, y, out) as [CpuTensor, CpuTensor, CpuTensor];
  }
}


function checkWork(name: string, value: number): number {
  if (!(value >= 0)) throw new RangeError(`cpu backend: ${name} must be a number >= 0, got ${value}`);
  return value;
}

/**
 * A CPU backend of the given dtype (float64 by default), with the fastest kernels this runtime
 * supports unless options.kernels names a variant.
 */
export function createCpuBackend(dtype: DType = 'float64', options: CpuBackendOptions = {}): CpuBackend {
  return new CpuBackend(dtype, options);
}
