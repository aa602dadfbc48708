/**
 * The pieces the arbitraries build operators from: seeded host data rounded to the backend's
 * dtype, and each operator together with its exact float64 matrix, built by plain reference
 * code from the same numbers.
 */
import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import { mulberry32, randomSpd } from './random.js';
import { referenceKronecker } from './reference.js';

/** An operator and its [n, n] float64 matrix (block flattened row-major). */
export interface Built {
  operator: LinearOperator;
  dense: Float64Array;
}

/** Seeded host data rounded to the backend's dtype, and its upload. */
export class HostData {
  private readonly next: () => number;
  private counter = 0;

  constructor(
    readonly backend: Backend,
    readonly seed: number,
    readonly shift: number,
  ) {
    this.next = mulberry32(seed);
  }

  /** A random SPD [n, n] matrix (as stored by the backend) and its tensor. */
  spd(n: number): { host: Float64Array; tensor: Tensor } {
    const host = rounded(randomSpd(n, this.seed * 7919 + ++this.counter, this.shift), this.backend.dtype);
    return { host, tensor: this.backend.fromArray(host, [n, n]) };
  }

  /** Positive entries in [shift, shift + 2). */
  positive(size: number): Float64Array {
    return rounded(Float64Array.from({ length: size }, () => this.shift + 2 * this.next()), this.backend.dtype);
  }
}

/** The values as the dtype stores them. */
export function rounded(values: Float64Array, dtype: DType): Float64Array {
  return dtype === 'float32' ? values.map(Math.fround) : values;
}

export function diagonal(data: HostData, size: number, shape: Shape): Built {
  const d = data.positive(size);
  return { operator: new DiagonalOperator(data.backend.fromArray(d, shape)), dense: diagonalMatrix(d) };
}

export function dense(data: HostData, n: number): Built {
  const m = data.spd(n);
  return { operator: new DenseOperator(m.tensor, { psd: true }), dense: m.host };
}

export function kronecker(data: HostData, rows: number, cols: number): Built {
  const g = data.spd(rows);
  const a = data.spd(cols);
  return { operator: new KroneckerOperator(g.tensor, a.tensor, { psd: true }), dense: referenceKronecker(g.host, a.host, rows, cols) };
}

export function gram(data: HostData, rows: number, cols: number): Built {
  const a = data.spd(cols);
  const eye = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) eye[i * rows + i] = 1;
  return { operator: new GramOperator(a.tensor, rows, { psd: true }), dense: referenceKronecker(eye, a.host, rows, cols) };
}

/** alpha A, with alpha as the dtype stores it. */
export function scaled(inner: Built, alpha: number, dtype: DType): Built {
  const a = rounded(Float64Array.of(alpha), dtype)[0];
  return { operator: new ScaledOperator(a, inner.operator), dense: inner.dense.map((v) => a * v) };
}

export function sum(parts: Built[]): Built {
  const dense = new Float64Array(parts[0].dense.length);
  for (const p of parts) for (let i = 0; i < dense.length; i++) dense[i] += p.dense[i];
  return { operator: new SumOperator(parts.map((p) => p.operator)), dense };
}

export function blockDiagonal(blocks: Built[]): Built {
  return { operator: new BlockDiagonalOperator(blocks.map((b) => b.operator)), dense: blockDiagonalMatrix(blocks.map((b) => b.dense)) };
}

export function diagonalMatrix(d: Float64Array): Float64Array {
  const n = d.length;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = d[i];
  return m;
}

function blockDiagonalMatrix(blocks: Float64Array[]): Float64Array {
  const sizes = blocks.map((b) => Math.sqrt(b.length));
  const n = sizes.reduce((a, b) => a + b, 0);
  const m = new Float64Array(n * n);
  let o = 0;
  blocks.forEach((b, k) => {
    const s = sizes[k];
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) m[(o + i) * n + o + j] = b[i * s + j];
    o += s;
  });
  return m;
}
