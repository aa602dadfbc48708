/**
 * Operators of a kind of your own in the arbitraries: you give an arbitrary of its parameters
 * and how to build it; fast-check draws and shrinks the parameters, and the kit composes the
 * operator the way merges do (scaled, summed with a diagonal, as a block of a block-diagonal),
 * so your kind gets the coverage the built-in structures get.
 */
import fc from 'fast-check';
import type { Backend } from '../backend/backend.js';
import { blockSize, describeOperator, type LinearOperator } from '../operators/linear-operator.js';
import { matrixOfApply } from './matrices.js';
import { HostData, blockDiagonal, diagonal, scaled, sum, type Built } from './operator-builders.js';

/**
 * How to draw operators of a kind of your own: an arbitrary of its parameters (fast-check
 * shrinks them), how to build the operator from them and, optionally, its matrix.
 */
export interface OperatorKindGenerator<P = any> {
  /** The kind of the operators it builds (their `kind`); names the structures in messages. */
  readonly kind: string;
  /** A fast-check arbitrary of the parameters; spdOperator needs them to give SPD operators. */
  readonly parameters: fc.Arbitrary<P>;
  /** The operator of these parameters, on `backend` (whose dtype it must have). */
  build(backend: Backend, parameters: P): LinearOperator;
  /**
   * The operator's [n, n] float64 matrix (block flattened row-major), written from the
   * parameters by plain code of your own, not by calling the operator. Optional, but without
   * it the reference is apply's own matrix, and an apply that is wrong yet linear and
   * symmetric (say, an index off by one in both triangles) goes unseen.
   */
  matrix?(parameters: P): Float64Array;
}

/** Identity for a generator: lets TypeScript infer P from `parameters` for `build` and `matrix`. */
export function operatorKind<P>(generator: OperatorKindGenerator<P>): OperatorKindGenerator<P> {
  return generator;
}

/** How a kind's operator is composed: alone, scaled, plus a diagonal, in a block-diagonal. */
export const KIND_COMPOSITIONS = ['alone', 'scaled', 'plus-diagonal', 'block-diagonal'] as const;
export type KindComposition = (typeof KIND_COMPOSITIONS)[number];

/** What fast-check draws and shrinks for a kind. */
export interface KindOperatorSpec {
  /** 'tridiagonal', 'scaled tridiagonal', 'tridiagonal + diagonal', 'block-diagonal of tridiagonal'. */
  readonly structure: string;
  readonly kind: string;
  readonly composition: KindComposition;
  /** The kind's parameters; the second set builds the block-diagonal's other block of the kind. */
  readonly parameters: readonly [unknown, unknown];
  /** Seeds the diagonal of 'plus-diagonal' and 'block-diagonal'. */
  readonly seed: number;
  /** The factor of 'scaled'. */
  readonly alpha: number;
}

/** The structure name of a kind in a composition. */
export function kindStructure(kind: string, composition: KindComposition): string {
  switch (composition) {
    case 'alone':
      return kind;
    case 'scaled':
      return `scaled ${kind}`;
    case 'plus-diagonal':
      return `${kind} + diagonal`;
    case 'block-diagonal':
      return `block-diagonal of ${kind}`;
  }
}

/** An arbitrary of specs of a kind, in the given compositions. */
export function kindSpecs(generator: OperatorKindGenerator, compositions: readonly KindComposition[] = KIND_COMPOSITIONS): fc.Arbitrary<KindOperatorSpec> {
  return fc
    .record({
      composition: fc.constantFrom(...compositions),
      parameters: fc.tuple(generator.parameters, generator.parameters),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      alpha: fc.double({ min: 0.25, max: 4, noNaN: true }),
    })
    .map((s) => ({ structure: kindStructure(generator.kind, s.composition), kind: generator.kind, ...s }));
}

/**
 * The operator of a kind's spec and its reference matrix: the generator's matrix() where it
 * has one (`fromReference`), else the matrix apply gives.
 */
export function buildKindOperator(backend: Backend, generator: OperatorKindGenerator, spec: KindOperatorSpec, shift: number): Built & { fromReference: boolean } {
  const own = (parameters: unknown): Built => {
    const operator = generator.build(backend, parameters);
    if (operator.dtype !== backend.dtype) {
      throw new TypeError(`the generator of kind '${generator.kind}' built ${describeOperator(operator)} in ${operator.dtype} on a ${backend.dtype} backend`);
    }
    const n = blockSize(operator);
    const dense = generator.matrix ? generator.matrix(parameters) : matrixOfApply(operator, backend);
    if (dense.length !== n * n) {
      throw new RangeError(`matrix() of kind '${generator.kind}' has ${dense.length} entries for ${describeOperator(operator)}, expected ${n} x ${n}`);
    }
    return { operator, dense };
  };
  const data = new HostData(backend, spec.seed, shift);
  const a = own(spec.parameters[0]);
  const fromReference = generator.matrix !== undefined;
  switch (spec.composition) {
    case 'alone':
      return { ...a, fromReference };
    case 'scaled':
      return { ...scaled(a, spec.alpha, backend.dtype), fromReference };
    case 'plus-diagonal':
      return { ...sum([a, diagonal(data, blockSize(a.operator), a.operator.shape)]), fromReference };
    case 'block-diagonal': {
      const size = 1 + (spec.seed % 3);
      return { ...blockDiagonal([a, diagonal(data, size, [size]), own(spec.parameters[1])]), fromReference };
    }
  }
}
