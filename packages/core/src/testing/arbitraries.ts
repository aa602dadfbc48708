/**
 * fast-check arbitraries for random symmetric positive definite operators of every structure,
 * for people who test solvers (theirs or ours). Each value carries the operator, built on the
 * backend under test, and the exact float64 matrix it stands for, built from the same data by
 * plain reference code, with its extreme eigenvalues for condition-aware tolerances.
 *
 * fast-check draws a small spec (structure, dimensions, seed, scale) and shrinks it; the bulk
 * numbers come from the seeded generator, rounded to the backend's dtype first so that the
 * reference matrix is exactly the operator's.
 */
import fc from 'fast-check';
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import { IdentityOperator } from '../operators/identity.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { mulberry32, randomSpd } from './random.js';
import { referenceKronecker, referenceSymmetricEigen } from './reference.js';

/** Every structure the arbitraries generate. */
export const OPERATOR_STRUCTURES = [
  'identity',
  'diagonal',
  'dense',
  'kronecker',
  'gram',
  'scaled',
  'block-diagonal',
  'sum-of-diagonals',
  'sum-of-grams',
  'sum-of-two-kroneckers',
  'sum-of-kroneckers',
  'mixed-sum',
] as const;

export type OperatorStructure = (typeof OPERATOR_STRUCTURES)[number];

export interface GeneratedOperator {
  readonly structure: OperatorStructure;
  readonly operator: LinearOperator;
  /** The exact [n, n] float64 matrix of the operator (block flattened row-major). */
  readonly dense: Float64Array;
  /** Block size: the order of dense. */
  readonly n: number;
  /** Smallest and largest eigenvalue of dense. */
  readonly lambdaMin: number;
  readonly lambdaMax: number;
  /** lambdaMax / lambdaMin. */
  readonly condition: number;
  /** The spec fast-check drew (printed on failure). */
  readonly spec: OperatorSpec;
}

/** What fast-check draws and shrinks. */
export interface OperatorSpec {
  readonly structure: OperatorStructure;
  readonly rows: number;
  readonly cols: number;
  /** Terms of a sum, blocks of a block-diagonal. */
  readonly terms: number;
  readonly seed: number;
  /** The ScaledOperator's factor. */
  readonly alpha: number;
}

export interface SpdOperatorOptions {
  /** Structures to draw from (default all). */
  structures?: readonly OperatorStructure[];
  /** Largest block dimension (rows, cols, factor order; default 4). */
  maxDimension?: number;
  /** Most terms in a sum or blocks in a block-diagonal (default 4). */
  maxTerms?: number;
  /**
   * Shift of every random SPD factor, R R^T / n + shift I (default 0.5): its eigenvalues lie
   * in [shift, shift + ~4], which keeps the condition numbers float32 can handle.
   */
  shift?: number;
}

/** An arbitrary of SPD operators on `backend`, with their exact dense matrices. */
export function spdOperator(backend: Backend, options: SpdOperatorOptions = {}): fc.Arbitrary<GeneratedOperator> {
  const structures = options.structures ?? OPERATOR_STRUCTURES;
  const maxDimension = options.maxDimension ?? 4;
  const spec = fc.record({
    structure: fc.constantFrom(...structures),
    rows: fc.integer({ min: 1, max: maxDimension }),
    cols: fc.integer({ min: 1, max: maxDimension }),
    terms: fc.integer({ min: 2, max: Math.max(2, options.maxTerms ?? 4) }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    alpha: fc.double({ min: 0.25, max: 4, noNaN: true }),
  });
  return spec.map((s) => generateOperator(backend, s, options.shift ?? 0.5));
}

/** Builds the operator a spec describes, and its reference matrix. Deterministic in the spec. */
export function generateOperator(backend: Backend, spec: OperatorSpec, shift = 0.5): GeneratedOperator {
  const data = new HostData(backend, spec.seed, shift);
  const { operator, dense } = build(data, spec);
  const n = Math.sqrt(dense.length);
  const { values } = referenceSymmetricEigen(dense, n);
  const lambdaMin = values[0];
  const lambdaMax = values[n - 1];
  return { structure: spec.structure, operator, dense, n, lambdaMin, lambdaMax, condition: lambdaMax / lambdaMin, spec };
}

/** Seeded host data rounded to the backend's dtype, and its upload. */
class HostData {
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

function rounded(values: Float64Array, dtype: DType): Float64Array {
  return dtype === 'float32' ? values.map(Math.fround) : values;
}

interface Built {
  operator: LinearOperator;
  dense: Float64Array;
}

function build(data: HostData, spec: OperatorSpec): Built {
  const { rows, cols, terms } = spec;
  switch (spec.structure) {
    case 'identity':
      return { operator: new IdentityOperator(data.backend, [rows, cols]), dense: diagonalMatrix(new Float64Array(rows * cols).fill(1)) };
    case 'diagonal':
      return diagonal(data, rows * cols, [rows, cols]);
    case 'dense':
      return dense(data, rows * cols);
    case 'kronecker':
      return kronecker(data, rows, cols);
    case 'gram':
      return gram(data, rows, cols);
    case 'scaled': {
      const inner = kronecker(data, rows, cols);
      const alpha = rounded(Float64Array.of(spec.alpha), data.backend.dtype)[0];
      return { operator: new ScaledOperator(alpha, inner.operator), dense: inner.dense.map((v) => alpha * v) };
    }
    case 'block-diagonal': {
      // Blocks of different structures and sizes: a whole model's parameters, in miniature.
      const leaves: ((r: number) => Built)[] = [
        (r) => diagonal(data, r * cols, [r * cols]),
        (r) => dense(data, r * cols),
        (r) => kronecker(data, r, cols),
        (r) => gram(data, r, cols),
      ];
      const blocks = Array.from({ length: terms }, (_, i) => leaves[(spec.seed + i) % leaves.length](1 + ((rows + i) % rows)));
      return { operator: new BlockDiagonalOperator(blocks.map((b) => b.operator)), dense: blockDiagonalMatrix(blocks.map((b) => b.dense)) };
    }
    case 'sum-of-diagonals':
      return sum(Array.from({ length: terms }, () => diagonal(data, rows * cols, [rows, cols])));
    case 'sum-of-grams':
      return sum(Array.from({ length: terms }, () => gram(data, rows, cols)));
    case 'sum-of-two-kroneckers':
      return sum([kronecker(data, rows, cols), kronecker(data, rows, cols)]);
    case 'sum-of-kroneckers':
      return sum(Array.from({ length: Math.max(3, terms) }, () => kronecker(data, rows, cols)));
    case 'mixed-sum':
      return sum([kronecker(data, rows, cols), gram(data, rows, cols), diagonal(data, rows * cols, [rows, cols])]);
  }
}

function diagonal(data: HostData, size: number, shape: number[]): Built {
  const d = data.positive(size);
  return { operator: new DiagonalOperator(data.backend.fromArray(d, shape)), dense: diagonalMatrix(d) };
}

function dense(data: HostData, n: number): Built {
  const m = data.spd(n);
  return { operator: new DenseOperator(m.tensor, { psd: true }), dense: m.host };
}

function kronecker(data: HostData, rows: number, cols: number): Built {
  const g = data.spd(rows);
  const a = data.spd(cols);
  return { operator: new KroneckerOperator(g.tensor, a.tensor, { psd: true }), dense: referenceKronecker(g.host, a.host, rows, cols) };
}

function gram(data: HostData, rows: number, cols: number): Built {
  const a = data.spd(cols);
  const eye = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) eye[i * rows + i] = 1;
  return { operator: new GramOperator(a.tensor, rows, { psd: true }), dense: referenceKronecker(eye, a.host, rows, cols) };
}

function sum(parts: Built[]): Built {
  const dense = new Float64Array(parts[0].dense.length);
  for (const p of parts) for (let i = 0; i < dense.length; i++) dense[i] += p.dense[i];
  return { operator: new SumOperator(parts.map((p) => p.operator)), dense };
}

function diagonalMatrix(d: Float64Array): Float64Array {
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
