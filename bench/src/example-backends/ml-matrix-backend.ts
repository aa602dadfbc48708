/**
 * A small Backend of your own, to show how `npm run bench -- --backend` measures one: gemm by
 * ml-matrix's mmul, level-1 operations as plain loops over Float64Arrays, and the host
 * factorizations borrowed from @mats/backend-cpu. float64 only (ml-matrix has no float32).
 * It passes core's backend conformance suite (bench/test/backend-conformance.test.ts runs it).
 *
 *   npm run bench -- --backend ./bench/dist/example-backends/ml-matrix-backend.js --only gemm,kfac-matvec
 *
 * What the bench needs from such a module: a factory, exported as createBackend(dtype) or as
 * the default export, and optionally the dtypes it supports.
 */
import { hostLinalg } from '@mats/backend-cpu';
import {
  checkHostLength,
  checkOperands,
  checkRange,
  elementwiseOperands,
  formatShape,
  gemmDims,
  shapeSize,
  ShapeError,
  type Backend,
  type DType,
  type HostArray,
  type HostLinalg,
  type Shape,
  type Tensor,
  type Transpose,
} from '@mats/core';
import { Matrix } from 'ml-matrix';

export const dtypes: readonly DType[] = ['float64'];

class FlatTensor implements Tensor {
  readonly dtype = 'float64';
  constructor(
    readonly backend: Backend,
    readonly shape: Shape,
    readonly size: number,
    /** Shared with reshaped views, so that dispose reaches them all. */
    readonly storage: { data: Float64Array; disposed: boolean },
  ) {}
  get disposed(): boolean {
    return this.storage.disposed;
  }
  get data(): Float64Array {
    return this.storage.data;
  }
}

export class MlMatrixBackend implements Backend {
  readonly name = 'ml-matrix-example';
  readonly mode = 'ml-matrix mmul';
  readonly dtype = 'float64';
  readonly linalg: HostLinalg = hostLinalg;

  zeros(shape: Shape): Tensor {
    const size = shapeSize(shape);
    return new FlatTensor(this, [...shape], size, { data: new Float64Array(size), disposed: false });
  }

  fromArray(data: ArrayLike<number>, shape: Shape): Tensor {
    const size = shapeSize(shape);
    if (data.length !== size) throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${formatShape(shape)}`);
    return new FlatTensor(this, [...shape], size, { data: Float64Array.from(data), disposed: false });
  }

  toArray(x: Tensor): Float64Array {
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
    if (size !== t.size) throw new ShapeError(`reshape: cannot view ${formatShape(t.shape)} as ${formatShape(shape)}`);
    return new FlatTensor(this, [...shape], size, t.storage);
  }

  dispose(x: Tensor): void {
    const t = x as FlatTensor;
    if (t.backend !== this || t.storage.disposed) return;
    t.storage.disposed = true;
    t.storage.data = new Float64Array(0);
  }

  dot(x: Tensor, y: Tensor): number {
    const [a, b] = this.pair('dot', x, y);
    let s = 0;
    for (let i = 0; i < a.size; i++) s += a.data[i] * b.data[i];
    return s;
  }

  nrm2(x: Tensor): number {
    const t = this.own('nrm2', x);
    // Scaled by the largest magnitude, so that squares neither over- nor underflow.
    let scale = 0;
    for (let i = 0; i < t.size; i++) scale = Math.max(scale, Math.abs(t.data[i]));
    if (scale === 0 || !Number.isFinite(scale)) return scale;
    let s = 0;
    for (let i = 0; i < t.size; i++) s += (t.data[i] / scale) ** 2;
    return scale * Math.sqrt(s);
  }

  axpy(alpha: number, x: Tensor, y: Tensor): void {
    const [a, b] = this.pair('axpy', x, y);
    for (let i = 0; i < a.size; i++) b.data[i] += alpha * a.data[i];
  }

  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): void {
    const [a, b] = this.pair('axpby', x, y);
    for (let i = 0; i < a.size; i++) b.data[i] = alpha * a.data[i] + (beta === 0 ? 0 : beta * b.data[i]);
  }

  scal(alpha: number, x: Tensor): void {
    const t = this.own('scal', x);
    for (let i = 0; i < t.size; i++) t.data[i] *= alpha;
  }

  copy(src: Tensor, dst: Tensor): void {
    const [a, b] = this.pair('copy', src, dst);
    b.data.set(a.data.subarray(0, a.size));
  }

  copyRange(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, length: number): void {
    checkOperands(this, 'copyRange', src, dst);
    checkRange('copyRange', src, srcOffset, length, 'source');
    checkRange('copyRange', dst, dstOffset, length, 'destination');
    (dst as FlatTensor).data.set((src as FlatTensor).data.subarray(srcOffset, srcOffset + length), dstOffset);
  }

  fill(x: Tensor, value: number): void {
    const t = this.own('fill', x);
    t.data.fill(value, 0, t.size);
  }

  mul(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = elementwiseOperands<FlatTensor>(this, 'mul', x, y, out);
    for (let i = 0; i < a.size; i++) o.data[i] = a.data[i] * b.data[i];
  }

  div(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = elementwiseOperands<FlatTensor>(this, 'div', x, y, out);
    for (let i = 0; i < a.size; i++) o.data[i] = a.data[i] / b.data[i];
  }

  add(x: Tensor, y: Tensor, out: Tensor): void {
    const [a, b, o] = elementwiseOperands<FlatTensor>(this, 'add', x, y, out);
    for (let i = 0; i < a.size; i++) o.data[i] = a.data[i] + b.data[i];
  }

  gemm(transA: Transpose, transB: Transpose, alpha: number, a: Tensor, b: Tensor, beta: number, c: Tensor): void {
    checkOperands(this, 'gemm', a, b, c);
    const { m, n } = gemmDims(transA, transB, a, b, c);
    const [ta, tb, tc] = [a, b, c] as FlatTensor[];
    if (tc.storage === ta.storage || tc.storage === tb.storage) throw new ShapeError('gemm: C must not share storage with A or B');
    const opA = this.matrix(ta, transA);
    const opB = this.matrix(tb, transB);
    const product = opA.mmul(opB);
    for (let i = 0; i < m; i++) {
      const row = product.getRow(i);
      for (let j = 0; j < n; j++) {
        const old = beta === 0 ? 0 : beta * tc.data[i * n + j]; // beta = 0 overwrites (NaN included)
        tc.data[i * n + j] = alpha * row[j] + old;
      }
    }
  }

  /** op(T) as an ml-matrix Matrix (a copy into its arrays of rows). */
  private matrix(t: FlatTensor, trans: Transpose): Matrix {
    const [rows, cols] = t.shape;
    const m = new Matrix(rows, cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, t.data[i * cols + j]);
    return trans === 'N' ? m : m.transpose();
  }

  private own(operation: string, x: Tensor): FlatTensor {
    checkOperands(this, operation, x);
    return x as FlatTensor;
  }

  private pair(operation: string, x: Tensor, y: Tensor): [FlatTensor, FlatTensor] {
    return elementwiseOperands<FlatTensor>(this, operation, x, y) as [FlatTensor, FlatTensor];
  }
}

/** The factory the bench calls: one backend per dtype. */
export function createBackend(dtype: DType): Backend {
  if (dtype !== 'float64') throw new TypeError(`ml-matrix-example backend: float64 only, not ${dtype}`);
  return new MlMatrixBackend();
}
