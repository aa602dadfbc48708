/**
 * The runtime types dispatch tells apart, most specific first. typed-function tries the types
 * of a signature in the order they were added, so a generic type added before a specific one
 * would silently shadow every structured rule: 'LinearOperator' always goes last, and the
 * refinements of SumOperator (all Diagonals, all Grams, two Kroneckers, any Kroneckers) come
 * before SumOperator itself. User kinds are inserted just before 'LinearOperator'.
 */
import type { TypeDef } from 'typed-function';
import { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import { IdentityOperator } from '../operators/identity.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import { isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';

const sumOf = (x: unknown, part: (p: LinearOperator) => boolean) => x instanceof SumOperator && x.parts.every(part);
const isKronecker = (p: LinearOperator) => p instanceof KroneckerOperator;

export const BUILT_IN_TYPES: readonly TypeDef[] = [
  { name: 'IdentityOperator', test: (x) => x instanceof IdentityOperator },
  { name: 'DiagonalOperator', test: (x) => x instanceof DiagonalOperator },
  { name: 'DenseOperator', test: (x) => x instanceof DenseOperator },
  { name: 'KroneckerOperator', test: (x) => x instanceof KroneckerOperator },
  { name: 'GramOperator', test: (x) => x instanceof GramOperator },
  { name: 'ScaledOperator', test: (x) => x instanceof ScaledOperator },
  { name: 'BlockDiagonalOperator', test: (x) => x instanceof BlockDiagonalOperator },
  { name: 'SumOfDiagonals', test: (x) => sumOf(x, (p) => p instanceof DiagonalOperator || p instanceof IdentityOperator) },
  { name: 'SumOfGrams', test: (x) => sumOf(x, (p) => p instanceof GramOperator) },
  { name: 'SumOfTwoKroneckers', test: (x) => sumOf(x, isKronecker) && (x as SumOperator).parts.length === 2 },
  { name: 'SumOfKroneckers', test: (x) => sumOf(x, isKronecker) },
  { name: 'SumOperator', test: (x) => x instanceof SumOperator },
];

/** Any object with kind, shape, dtype and apply. */
export const GENERIC_TYPE: TypeDef = { name: 'LinearOperator', test: isLinearOperator };

/** The kinds built-in operators use; a user kind must differ from these. */
export const BUILT_IN_KINDS: ReadonlySet<string> = new Set([
  'identity',
  'diagonal',
  'dense',
  'kronecker',
  'gram',
  'scaled',
  'sum',
  'block-diagonal',
  'two-kronecker-inverse',
]);

/** The typed-function type name of a user kind. */
export const userTypeName = (kind: string) => `kind:${kind}`;
