/**
 * fast-check arbitraries for random symmetric positive definite operators of every structure,
 * and of kinds of your own, for people who test solvers (theirs or ours). Each value carries
 * the operator, built on the backend under test, and the exact float64 matrix it stands for,
 * built from the same data by plain reference code, with its extreme eigenvalues for
 * condition-aware tolerances.
 *
 * fast-check draws a small spec (structure, dimensions, seed, scale; a kind's parameters) and
 * shrinks it; the bulk numbers come from the seeded generator, rounded to the backend's dtype
 * first so that the reference matrix is exactly the operator's. A value prints as its spec in
 * one line (fast-check's toStringMethod), never as the backend behind it.
 */
import fc from 'fast-check';
import type { Backend } from '../backend/backend.js';
import { formatShape } from '../backend/shape.js';
import { IdentityOperator } from '../operators/identity.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { buildKindOperator, kindSpecs, KIND_COMPOSITIONS, type KindComposition, type KindOperatorSpec, type OperatorKindGenerator } from './kind-arbitraries.js';
import { symmetricPart } from './matrices.js';
import { HostData, blockDiagonal, dense, diagonal, diagonalMatrix, gram, kronecker, scaled, sum, type Built } from './operator-builders.js';
import { referenceSymmetricEigen } from './reference.js';

/** Every built-in structure the arbitraries generate. */
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
  /** A built-in structure, or a kind's composition ('tridiagonal', 'scaled tridiagonal', ...). */
  readonly structure: OperatorStructure | (string & {});
  readonly operator: LinearOperator;
  /**
   * The [n, n] float64 matrix of the operator (block flattened row-major): exact for the
   * built-in structures; for a kind, its generator's matrix() or, without one, apply's matrix
   * (`fromReference` says which).
   */
  readonly dense: Float64Array;
  /** Whether dense was written independently of the operator's apply. */
  readonly fromReference: boolean;
  /** Block size: the order of dense. */
  readonly n: number;
  /** Smallest and largest eigenvalue of dense (of its symmetric part). */
  readonly lambdaMin: number;
  readonly lambdaMax: number;
  /** lambdaMax / lambdaMin; Infinity when dense is not positive definite. */
  readonly condition: number;
  /** The spec fast-check drew (what a failure prints). */
  readonly spec: OperatorSpec | KindOperatorSpec;
}

/** What fast-check draws and shrinks for a built-in structure. */
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
  /** Built-in structures to draw from (default: all of them, or none when `kinds` is given). */
  structures?: readonly OperatorStructure[] | undefined;
  /**
   * Kinds of your own to draw, each in every composition of `compositions`: alone, scaled,
   * plus a diagonal, and as a block of a block-diagonal. They must give SPD operators.
   */
  kinds?: readonly OperatorKindGenerator[] | undefined;
  /** The compositions kinds are drawn in (default all: KIND_COMPOSITIONS). */
  compositions?: readonly KindComposition[] | undefined;
  /** Largest block dimension (rows, cols, factor order; default 4). */
  maxDimension?: number | undefined;
  /** Most terms in a sum or blocks in a block-diagonal (default 4). */
  maxTerms?: number | undefined;
  /**
   * Shift of every random SPD factor, R R^T / n + shift I (default 0.5): its eigenvalues lie
   * in [shift, shift + ~4], which keeps the condition numbers float32 can handle. Also the
   * smallest entry of the diagonals composed with kinds.
   */
  shift?: number | undefined;
}

/** An arbitrary of SPD operators on `backend`, with their exact dense matrices. */
export function spdOperator(backend: Backend, options: SpdOperatorOptions = {}): fc.Arbitrary<GeneratedOperator> {
  const kinds = options.kinds ?? [];
  const structures = options.structures ?? (kinds.length > 0 ? [] : OPERATOR_STRUCTURES);
  const shift = options.shift ?? 0.5;
  const maxDimension = options.maxDimension ?? 4;
  const arbitraries: fc.Arbitrary<GeneratedOperator>[] = kinds.map((kind) =>
    kindSpecs(kind, options.compositions ?? KIND_COMPOSITIONS).map((spec) => generateKindOperator(backend, kind, spec, shift)),
  );
  if (structures.length > 0) {
    const spec = fc.record({
      structure: fc.constantFrom(...structures),
      rows: fc.integer({ min: 1, max: maxDimension }),
      cols: fc.integer({ min: 1, max: maxDimension }),
      terms: fc.integer({ min: 2, max: Math.max(2, options.maxTerms ?? 4) }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      alpha: fc.double({ min: 0.25, max: 4, noNaN: true }),
    });
    arbitraries.unshift(spec.map((s) => generateOperator(backend, s, shift)));
  }
  if (arbitraries.length === 0) throw new RangeError('spdOperator: no structures and no kinds to draw from');
  return arbitraries.length === 1 ? arbitraries[0] : fc.oneof(...arbitraries);
}

/** Builds the operator a built-in spec describes, and its reference matrix. Deterministic in the spec. */
export function generateOperator(backend: Backend, spec: OperatorSpec, shift = 0.5): GeneratedOperator {
  const built = build(new HostData(backend, spec.seed, shift), spec);
  return generated(built, spec, true);
}

/** Builds the operator of a kind's spec, and its reference matrix. Deterministic in the spec. */
export function generateKindOperator(backend: Backend, generator: OperatorKindGenerator, spec: KindOperatorSpec, shift = 0.5): GeneratedOperator {
  const built = buildKindOperator(backend, generator, spec, shift);
  return generated(built, spec, built.fromReference);
}

/** One line naming a generated operator: its structure, shape, dtype and spec. */
export function describeGenerated(g: GeneratedOperator): string {
  const head = `${g.structure} ${formatShape(g.operator.shape)} ${g.operator.dtype}`;
  const spec = g.spec;
  if (!('composition' in spec)) {
    return `${head} (spec: structure '${spec.structure}', rows ${spec.rows}, cols ${spec.cols}, terms ${spec.terms}, seed ${spec.seed}, alpha ${spec.alpha})`;
  }
  const parts = [`parameters ${short(fc.stringify(spec.parameters[0]))}`];
  if (spec.composition === 'scaled') parts.push(`alpha ${spec.alpha}`);
  if (spec.composition === 'plus-diagonal' || spec.composition === 'block-diagonal') parts.push(`seed ${spec.seed}`);
  if (spec.composition === 'block-diagonal') parts.push(`second block's parameters ${short(fc.stringify(spec.parameters[1]))}`);
  return `${head} (${parts.join(', ')})`;
}

function short(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

function generated(built: Built, spec: OperatorSpec | KindOperatorSpec, fromReference: boolean): GeneratedOperator {
  const n = Math.sqrt(built.dense.length);
  const { values } = referenceSymmetricEigen(symmetricPart(built.dense, n), n);
  const lambdaMin = values[0];
  const lambdaMax = values[n - 1];
  const g: GeneratedOperator = {
    structure: spec.structure,
    operator: built.operator,
    dense: built.dense,
    fromReference,
    n,
    lambdaMin,
    lambdaMax,
    condition: lambdaMin > 0 ? lambdaMax / lambdaMin : Infinity,
    spec,
  };
  // fast-check prints a counterexample with this, instead of walking the operator's backend.
  Object.defineProperty(g, fc.toStringMethod, { value: () => describeGenerated(g) });
  return g;
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
    case 'scaled':
      return scaled(kronecker(data, rows, cols), spec.alpha, data.backend.dtype);
    case 'block-diagonal': {
      // Blocks of different structures and sizes: a whole model's parameters, in miniature.
      const leaves: ((r: number) => Built)[] = [
        (r) => diagonal(data, r * cols, [r * cols]),
        (r) => dense(data, r * cols),
        (r) => kronecker(data, r, cols),
        (r) => gram(data, r, cols),
      ];
      return blockDiagonal(Array.from({ length: terms }, (_, i) => leaves[(spec.seed + i) % leaves.length](1 + ((rows + i) % rows))));
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
