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
import { hostLinalg } from '@mats/backend-cpu';
import { GPU } from 'gpu.js';
import { flattenOutput, isTexture, layoutKey, readBuffer, releaseBuffer, shareBuffer, type DeviceBuffer } from './device-buffer.js';
import { describeDevice } from './device-info.js';
import { GpuTensor, type GpuStorage } from './gpu-tensor.js';
import { KernelCache, type KernelSpec } from './kernel-cache.js';
import { gemmSource } from './kernels/gemm.js';
import { ADD, AXPBY, AXPY, COPY_RANGE, DIV, FILL, MUL, SCALE, UPLOAD } from './kernels/level1.js';
import { chooseMode, isGlMode, KERNEL_CLASS, type GpuMode } from './modes.js';
import { Reductions, type ReductionStrategy } from './reductions.js';

export interface GpuBackendOptions {
  /** Storage precision; gpu.js computes in float32 only, so 'float32' is the one accepted. */
  dtype?: DType;
  /** A gpu.js mode to run exactly; throws GpuUnavailableError when it cannot run here. */
  mode?: GpuMode;
  /**
   * Refuse to run without a GPU context (headlessgl, webgl2 or webgl): throws
   * GpuUnavailableError naming each mode and why, instead of running on the CPU.
   */
  requireGpu?: boolean;
  /**
   * How dot and nrm2 finish. 'device' (default): compensated block sums on the device, the
   * last few pairs summed on the host in float64; falls back to 'host' when a probe on the
   * first reduction finds that the shader compiler cancels the compensation. 'host': the
   * operands are read back and everything runs in float64 (vector-sized readbacks).
   */
  reduction?: ReductionStrategy;
}

/**
 * The Backend on gpu.js, float32 only. Tensors live in gpu.js textures (pipeline mode) in the
 * GL modes and never visit the host between operations; only toArray and the last stage of a
 * reduction read back. Each kernel is compiled once for the sizes and layouts it serves.
 * Factorizations of small dense factors run on the host in float64 (the CPU backend's).
 */
export class GpuBackend implements Backend {
  readonly name = 'gpu';
  /** The gpu.js mode that really runs. */
  readonly mode: GpuMode;
  readonly dtype: DType = 'float32';
  readonly linalg: HostLinalg = hostLinalg;
  /** True when the mode runs on a GPU context (a software GL renderer counts). */
  readonly onGpu: boolean;
  /** The gpu.js instance; its kernels share the context the backend's textures live in. */
  readonly gpu: GPU;
  /** Largest tensor (in elements) one texture holds in this mode. */
  readonly maxElements: number;
  private readonly kernels: KernelCache;
  private readonly reductions: Reductions;
  private destroyed = false;

  constructor(options: GpuBackendOptions = {}) {
    const dtype = options.dtype ?? 'float32';
    if (dtype !== 'float32') {
      throw new TypeError(
        `gpu backend: dtype ${String(dtype)} is not supported; gpu.js computes in float32 only ` +
          `(no float64 in any mode). Use 'float32', or the cpu backend for float64`,
      );
    }
    this.mode = chooseMode(options.mode, options.requireGpu === true);
    this.onGpu = isGlMode(this.mode);
    this.gpu = new GPU({ mode: this.mode });
    this.kernels = new KernelCache(this.gpu, this.mode);
    this.maxElements = this.onGpu ? 4 * maxTextureSize(this.mode) ** 2 : 2 ** 32 - 1;
    this.reductions = new Reductions(this.kernels, options.reduction ?? 'device', (buffer) => this.upload(buffer));
  }

  /** A line saying which mode runs on what, e.g. for logs and benchmark reports. */
  describe(): string {
    return `gpu.js ${this.mode}${this.onGpu ? ` on ${describeDevice(this.gpu)}` : ' (no GPU: kernels run on the host)'}`;
  }

  /** How dot and nrm2 finish (after the startup probe, once a reduction has run). */
  get reduction(): ReductionStrategy {
    return this.reductions.strategy;
  }

  /** Kernels compiled so far (each once per operation, size and layout). */
  get compiledKernels(): number {
    return this.kernels.size;
  }

  /** Times gpu.js recompiled a cached kernel for other argument types; stays 0 by design. */
  get kernelSwitches(): number {
    return this.kernels.switches;
  }

  // Storage

  zeros(shape: Shape): Tensor {
    const size = this.checkedSize('zeros', shape);
    return this.tensor(shape, size, size === 0 ? null : this.fillBuffer(size, 0));
  }

  fromArray(data: ArrayLike<number>, shape: Shape): Tensor {
    const size = this.checkedSize('fromArray', shape);
    if (data.length !== size) {
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${formatShape(shape)} (${size} elements)`);
    }
    return this.tensor(shape, size, size === 0 ? null : this.upload(Float32Array.from(data)));
  }

  toArray(x: Tensor): HostArray {
    const t = this.own('toArray', x);
    const buffer = t.storage.buffer;
    return buffer === null ? new Float32Array(0) : readBuffer(buffer, t.size);
  }

  write(x: Tensor, data: ArrayLike<number>): void {
    const t = this.own('write', x);
    checkHostLength('write', data.length, t);
    // One upload pass, like fromArray, swapped in as t's storage (textures are immutable).
    if (t.size > 0) this.replaceBuffer(t, this.upload(Float32Array.from(data)));
  }

  read<T extends HostArray>(x: Tensor, out: T): T {
    const t = this.own('read', x);
    checkHostLength('read', out.length, t);
    const buffer = t.storage.buffer;
    if (buffer !== null) out.set(readBuffer(buffer, t.size));
    return out;
  }

  reshape(x: Tensor, shape: Shape): Tensor {
    const t = this.own('reshape', x);
    const size = shapeSize(shape);
    if (size !== t.size) {
      throw new ShapeError(`reshape: cannot view ${formatShape(t.shape)} (${t.size} elements) as ${formatShape(shape)} (${size})`);
    }
    return new GpuTensor(this, this.dtype, [...shape], size, t.storage);
  }

  dispose(x: Tensor): void {
    const t = x as GpuTensor;
    if (t.backend !== this || t.storage.disposed) return;
    t.storage.disposed = true;
    if (t.storage.buffer !== null) releaseBuffer(t.storage.buffer);
    t.storage.buffer = null;
  }

  /**
   * Releases every kernel and the GL context. Tensors of this backend are unusable afterwards
   * (their textures die with the context).
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.kernels.destroy();
    await this.gpu.destroy();
  }

  // Level 1

  dot(x: Tensor, y: Tensor): number {
    const [a, b] = this.pair('dot', x, y);
    if (a.size === 0) return 0;
    return this.reductions.dot(buffer(a), buffer(b), a.size);
  }

  nrm2(x: Tensor): number {
    const t = this.own('nrm2', x);
    if (t.size === 0) return 0;
    return this.reductions.nrm2(buffer(t), t.size);
  }

  axpy(alpha: number, x: Tensor, y: Tensor): void {
    const [a, b] = this.pair('axpy', x, y);
    if (a.size === 0) return;
    this.replaceBuffer(b, this.elementwise('axpy', AXPY, a.size, [alpha, buffer(a), buffer(b)]));
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): void {
    const [a, b] = this.pair('axpby', x, y);
    if (a.size === 0) return;
    // beta = 0 overwrites y without reading it, so NaN in y does not leak (BLAS convention).
    const out =
      beta === 0
        ? this.elementwise('scale', SCALE, a.size, [alpha, buffer(a)])
        : this.elementwise('axpby', AXPBY, a.size, [alpha, buffer(a), beta, buffer(b)]);
    this.replaceBuffer(b, out);
  }

  scal(alpha: number, x: Tensor): void {
    const t = this.own('scal', x);
    if (t.size === 0) return;
    this.replaceBuffer(t, this.elementwise('scale', SCALE, t.size, [alpha, buffer(t)]));
  }

  copy(src: Tensor, dst: Tensor): void {
    const [a, b] = this.pair('copy', src, dst);
    if (a === b || a.storage === b.storage || a.size === 0) return;
    // Buffers are never written in place, so dst can share src's texture (reference counted).
    this.replaceBuffer(b, shareBuffer(buffer(a)));
  }

  copyRange(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, length: number): void {
    checkOperands(this, 'copyRange', src, dst);
    checkRange('copyRange', src, srcOffset, length, 'source');
    checkRange('copyRange', dst, dstOffset, length, 'destination');
    if (length === 0) return;
    const [s, d] = [src as GpuTensor, dst as GpuTensor];
    if (length === d.size && s.size === d.size && s.storage !== d.storage) {
      this.replaceBuffer(d, shareBuffer(buffer(s)));
      return;
    }
    const [bufS, bufD] = [buffer(s), buffer(d)];
    const key = `copyRange:${d.size}:${layoutKey(bufS)}:${layoutKey(bufD)}`;
    const spec: KernelSpec = { source: COPY_RANGE, output: [d.size], integerArguments: true };
    const out = this.run(key, spec, [bufS, bufD, srcOffset, dstOffset, length]);
    this.replaceBuffer(d, out);
  }

  fill(x: Tensor, value: number): void {
    const t = this.own('fill', x);
    if (t.size === 0) return;
    this.replaceBuffer(t, this.fillBuffer(t.size, value));
  }

  mul(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('mul', x, y, out);
    if (a.size > 0) this.replaceBuffer(o, this.elementwise('mul', MUL, a.size, [buffer(a), buffer(b)]));
  }

  div(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('div', x, y, out);
    if (a.size > 0) this.replaceBuffer(o, this.elementwise('div', DIV, a.size, [buffer(a), buffer(b)]));
  }

  add(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = this.triple('add', x, y, out);
    if (a.size > 0) this.replaceBuffer(o, this.elementwise('add', ADD, a.size, [buffer(a), buffer(b)]));
  }

  // Level 3

  gemm(transA: Transpose, transB: Transpose, alpha: number, a: Tensor, b: Tensor, beta: number, c: Tensor): void {
    checkOperands(this, 'gemm', a, b, c);
    const { m, n, k } = gemmDims(transA, transB, a, b, c);
    const [ta, tb, tc] = [a, b, c] as GpuTensor[];
    if (tc.storage === ta.storage || tc.storage === tb.storage) {
      throw new ShapeError('gemm: C must not share storage with A or B');
    }
    if (m === 0 || n === 0) return;
    if (alpha === 0 || k === 0) {
      // C <- beta C; A and B are not read (BLAS convention).
      if (beta === 0) this.fill(tc, 0);
      else if (beta !== 1) this.scal(beta, tc);
      return;
    }
    const readC = beta !== 0;
    const [bufA, bufB, bufC] = [buffer(ta), buffer(tb), buffer(tc)];
    const key =
      `gemm${transA}${transB}${readC ? '+C' : ''}:${m}x${n}x${k}:` +
      `${layoutKey(bufA)}:${layoutKey(bufB)}${readC ? `:${layoutKey(bufC)}` : ''}`;
    const spec: KernelSpec = { source: gemmSource(transA, transB, readC), output: [n, m], constants: { m, n, k } };
    const out = this.run(key, spec, readC ? [alpha, bufA, bufB, beta, bufC] : [alpha, bufA, bufB]);
    this.replaceBuffer(tc, out);
  }

  // Internals

  /** Runs a cached kernel and returns its output as a tensor buffer. */
  private run(key: string, spec: KernelSpec, args: unknown[]): DeviceBuffer {
    const out = this.kernels.run(key, () => spec, args);
    if (isTexture(out as DeviceBuffer)) return out as DeviceBuffer;
    // cpu and webasm: a host array, or rows of one for a 2-D output.
    const size = spec.output.reduce((p, d) => p * d, 1);
    return flattenOutput(out, size);
  }

  /** A 1-D elementwise kernel over `size` elements; the key carries each buffer's layout. */
  private elementwise(name: string, source: string, size: number, args: unknown[]): DeviceBuffer {
    const layouts = args.filter((a) => typeof a !== 'number').map((a) => layoutKey(a as DeviceBuffer));
    return this.run(`${name}:${size}:${layouts.join(':')}`, { source, output: [size] }, args);
  }

  private upload(data: Float32Array): DeviceBuffer {
    // In the host modes the array is the storage; in the GL modes one kernel pass uploads it.
    if (!this.onGpu) return data;
    return this.run(`upload:${data.length}`, { source: UPLOAD, output: [data.length] }, [data]);
  }

  private fillBuffer(size: number, value: number): DeviceBuffer {
    if (!this.onGpu) return new Float32Array(size).fill(value);
    return this.run(`fill:${size}`, { source: FILL, output: [size] }, [value]);
  }

  /** Replaces t's buffer (seen by every view of its storage) and releases the old one. */
  private replaceBuffer(t: GpuTensor, next: DeviceBuffer): void {
    const previous = t.storage.buffer;
    t.storage.buffer = next;
    if (previous !== null) releaseBuffer(previous);
  }

  private tensor(shape: Shape, size: number, buffer: DeviceBuffer | null): GpuTensor {
    const storage: GpuStorage = { buffer, disposed: false };
    return new GpuTensor(this, this.dtype, [...shape], size, storage);
  }

  private checkedSize(operation: string, shape: Shape): number {
    const size = shapeSize(shape);
    if (size > this.maxElements) {
      const holder = this.onGpu
        ? `one ${this.mode} texture holds (4 values a texel, ${Math.sqrt(this.maxElements / 4)}^2 texels)`
        : 'one Float32Array holds';
      throw new ShapeError(
        `${operation}: shape ${formatShape(shape)} has ${size} elements, more than the ${this.maxElements} ${holder}; split it into blocks`,
      );
    }
    return size;
  }

  private own(operation: string, x: Tensor): GpuTensor {
    checkOperands(this, operation, x);
    return x as GpuTensor;
  }

  private pair(operation: string, x: Tensor, y: Tensor): [GpuTensor, GpuTensor] {
    return elementwiseOperands<GpuTensor>(this, operation, x, y) as [GpuTensor, GpuTensor];
  }

  private triple(operation: string, x: Tensor, y: Tensor, out: Tensor): [GpuTensor, GpuTensor, GpuTensor] {
    return elementwiseOperands<GpuTensor>(this, operation, x, y, out) as [GpuTensor, GpuTensor, GpuTensor];
  }
}

/** The buffer of a live, non-empty tensor. */
function buffer(t: GpuTensor): DeviceBuffer {
  const b = t.storage.buffer;
  if (b === null) throw new Error(`gpu backend: tensor ${formatShape(t.shape)} has no buffer`);
  return b;
}

/** The context's MAX_TEXTURE_SIZE as gpu.js probed it (4096, WebGL's floor, if unknown). */
function maxTextureSize(mode: GpuMode): number {
  const features = (KERNEL_CLASS[mode] as unknown as { features: { maxTextureSize?: number } | null }).features;
  return features?.maxTextureSize ?? 4096;
}


/** A gpu.js backend (float32). The default mode is the best available; backend.mode says which. */
export function createGpuBackend(options: GpuBackendOptions = {}): GpuBackend {
  return new GpuBackend(options);
}
