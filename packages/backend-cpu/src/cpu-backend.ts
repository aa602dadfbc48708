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
  type Shape,
  type Tensor,
  type Transpose,
} from '@mats/core';
import { CpuTensor, type FloatArray } from './cpu-tensor.js';
import { GemmScratch, gemmFlat } from './gemm-driver.js';
import { hostLinalg } from './host-linalg.js';
import { resolveVariant, type CpuBackendOptions, type CpuKernelVariant } from './kernel-variants.js';
import { createKernelSet, type KernelSet } from './kernels/kernel-set.js';
import { kernelMemory } from './wasm/kernel-memory.js';
import { WasmGemm } from './wasm/wasm-gemm.js';

const DEFAULT_WASM_MIN_WORK = 32 ** 3;
const DEFAULT_THREAD_MIN_WORK = 64 ** 3;

/**
 * The CPU backend: flat row-major Float64Array or Float32Array storage; plain TypeScript
 * kernels (one monomorphic copy per backend instance) and, where the runtime allows,
 * WebAssembly SIMD gemm on one or several threads (kernel-variants.ts).
 */
export class CpuBackend implements Backend {
  readonly name = 'cpu';
  /** The kernel variant that runs: 'typescript', 'wasm-simd' or 'wasm-simd-threads'. */
  readonly mode: CpuKernelVariant;
  /** Threads gemm may use, the caller's included (1 unless mode is 'wasm-simd-threads'). */
  readonly threads: number;
  /** Why 'auto' settled for a slower variant, when it did. */
  readonly modeNote: string | undefined;
  readonly linalg: HostLinalg = hostLinalg;
  private readonly kernels: KernelSet = createKernelSet();
  private readonly scratch: GemmScratch;
  private readonly allocate: (n: number) => FloatArray;
  private readonly wasmGemm: WasmGemm | undefined;
  private readonly wasmMinWork: number;

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
    const memory = resolved.variant === 'typescript' ? undefined : kernelMemory();
    if (typeof memory === 'object') this.wasmGemm = new WasmGemm(memory, this.kernels, dtype, resolved.threads, threadMinWork);
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
    return new CpuTensor(this, this.dtype, [...shape], size, { data: this.allocate(size), disposed: false });
  }

  fromArray(data: ArrayLike<number>, shape: Shape): Tensor {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${formatShape(shape)} (${size} elements)`);
    }
    const storage = this.allocate(size);
    storage.set(data);
    return new CpuTensor(this, this.dtype, [...shape], size, { data: storage, disposed: false });
  }

  toArray(x: Tensor): HostArray {
    return this.own('toArray', x).data.slice(0, x.size);
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
    t.storage.data = this.allocate(0);
  }

  dot(x: Tensor, y: Tensor): number {
    const [a, b] = this.pair('dot', x, y);
    return this.kernels.dot(a.data, b.data, a.size);
  }

  nrm2(x: Tensor): number {
    const t = this.own('nrm2', x);
    const sum = this.kernels.scaledSumSquares(t.data, t.size, 1);
    // The plain sum of squares over- or underflows only for extreme float64 values; then
    // scale by the largest magnitude (the classic BLAS nrm2 remedy) in a second pass.
    if (Number.isFinite(sum) && sum > 1e-280) return Math.sqrt(sum);
    const scale = this.kernels.maxAbs(t.data, t.size);
    if (scale === 0 || !Number.isFinite(scale)) return scale;
    return scale * Math.sqrt(this.kernels.scaledSumSquares(t.data, t.size, scale));
  }

  axpy(alpha: number, x: Tensor, y: Tensor): void {
    const [a, b] = this.pair('axpy', x, y);
    this.kernels.axpy(alpha, a.data, b.data, a.size);
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): void {
    const [a, b] = this.pair('axpby', x, y);
    if (beta === 0) {
      // beta = 0 overwrites y, NaN included (BLAS convention).
      b.data.fill(0, 0, b.size);
      this.kernels.axpy(alpha, a.data, b.data, a.size);
    } else {
      this.kernels.axpby(alpha, a.data, beta, b.data, a.size);
    }
  }

  scal(alpha: number, x: Tensor): void {
    const t = this.own('scal', x);
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
    this.kernels.mul(a.data, b.data, o.data, a.size);
  }

  div(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('div', x, y, out);
    this.kernels.div(a.data, b.data, o.data, a.size);
  }

  add(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('add', x, y, out);
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
    if (this.wasmGemm && work > 0 && work >= this.wasmMinWork && alpha !== 0) {
      if (this.wasmGemm.run(ra, rb, m, n, k, alpha, ta.data, tb.data, beta, tc.data)) return;
    }
    gemmFlat(this.kernels, this.scratch, ra, rb, m, n, k, alpha, ta.data, tb.data, beta, tc.data);
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
