/**
 * preconditioner(op), the 'auto' choice: the best M ~ A^-1 dispatch knows for the operator.
 * An exact inverse where a closed form exists (PCG then takes one step), the Kronecker
 * approximation for a Sum of Kroneckers, Jacobi where the diagonal is known, else none.
 */
import type { Typed } from 'typed-function';
import type { Tensor } from '../backend/backend.js';
import { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import type { DenseOperator } from '../operators/dense.js';
import type { DiagonalOperator } from '../operators/diagonal.js';
import type { GramOperator } from '../operators/gram.js';
import { IdentityOperator } from '../operators/identity.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { derived } from '../operators/derived.js';
import { ScaledOperator } from '../operators/scaled.js';
import type { SumOperator } from '../operators/sum.js';
import { denseInverse, diagonalInverse, gramInverse, kroneckerInverse } from './exact-inverses.js';
import {
  DEFAULT_KRONECKER_APPROXIMATION,
  NO_PRECONDITIONER,
  dampedGram,
  exactOr,
  exactPreconditioner,
  jacobi,
  jacobiOrNone,
  kronecker,
  type Preconditioner,
} from './preconditioners.js';
import type { Rule } from './rule.js';
import { summedGram, sumOfDiagonalsInverse, sumOfGramsInverse, sumOfTwoKroneckersInverse } from './sum-closed-forms.js';

export function preconditionerRules(typed: Typed, diagonalOf: (op: LinearOperator) => Tensor): Rule[] {
  const jacobiOf = (op: LinearOperator) => jacobiOrNone(op, diagonalOf);
  return [
    { signature: 'IdentityOperator', rule: 'none', fn: () => NO_PRECONDITIONER },
    {
      signature: 'DiagonalOperator',
      rule: 'exact-diagonal',
      fn: (op: DiagonalOperator) => exactPreconditioner(op, 'diagonal', () => diagonalInverse(op.backend, op.hostValues, op.shape)),
    },
    {
      signature: 'DenseOperator',
      rule: 'exact-dense-or-jacobi',
      fn: (op: DenseOperator) => exactOr(op, 'dense', () => denseInverse(op), () => jacobi(op, diagonalOf)),
    },
    {
      signature: 'KroneckerOperator',
      rule: 'exact-or-damped-kronecker',
      fn: (op: KroneckerOperator) => exactOr(op, 'kronecker', () => kroneckerInverse(op), () => kronecker(op, [op], 'sum', diagonalOf)),
    },
    {
      signature: 'GramOperator',
      rule: 'exact-or-damped-gram',
      fn: (op: GramOperator) =>
        exactOr(op, 'gram', () => gramInverse(op.backend, op.hostA, op.shape[0], op.tags.psd), () => dampedGram(op, op.hostA, op.shape[0], diagonalOf)),
    },
    {
      signature: 'ScaledOperator',
      rule: 'scaled-inverse',
      fn: typed.referToSelf((self) => (op: ScaledOperator) => {
        if (!(op.alpha > 0)) return jacobiOf(op);
        const inner: Preconditioner = self(op.inner);
        if (!inner.operator) return inner;
        const operator = derived(op, 'scaled-preconditioner', () => new ScaledOperator(1 / op.alpha, inner.operator!));
        return { ...inner, operator };
      }),
    },
    {
      signature: 'BlockDiagonalOperator',
      rule: 'blockwise',
      fn: typed.referToSelf((self) => (op: BlockDiagonalOperator) => {
        const each: Preconditioner[] = op.blocks.map((b) => self(b));
        // A block without a preconditioner gets the identity, which needs a backend to live on.
        if (!op.backend && each.some((p) => !p.operator)) return jacobiOf(op);
        const operator = derived(
          op,
          'blockwise-preconditioner',
          () => new BlockDiagonalOperator(each.map((p, i) => p.operator ?? new IdentityOperator(op.backend!, op.blocks[i].shape))),
          (p) => p.dispose(),
        );
        const kinds = [...new Set(each.map((p) => p.description))].join(', ');
        const notes = each.map((p) => p.note).filter(Boolean);
        return { operator, description: `blockwise (${kinds})`, note: notes.length ? notes.join('; ') : undefined };
      }),
    },
    { signature: 'SumOfDiagonals', rule: 'exact-sum-of-diagonals', fn: (op: SumOperator) => exactPreconditioner(op, 'sum of diagonals', () => sumOfDiagonalsInverse(op)) },
    {
      signature: 'SumOfGrams',
      rule: 'exact-or-damped-sum-of-grams',
      fn: (op: SumOperator) => exactOr(op, 'sum of grams', () => sumOfGramsInverse(op), () => dampedGram(op, summedGram(op), op.shape[0], diagonalOf)),
    },
    {
      signature: 'SumOfTwoKroneckers',
      rule: 'exact-two-kroneckers',
      fn: (op: SumOperator) =>
        exactOr(op, 'two kroneckers', () => sumOfTwoKroneckersInverse(op), () => kronecker(op, op.parts as KroneckerOperator[], DEFAULT_KRONECKER_APPROXIMATION, diagonalOf)),
    },
    {
      signature: 'SumOfKroneckers',
      rule: 'kronecker-approximation',
      fn: (op: SumOperator) => kronecker(op, op.parts as KroneckerOperator[], DEFAULT_KRONECKER_APPROXIMATION, diagonalOf),
    },
    { signature: 'SumOperator', rule: 'jacobi-or-none', fn: jacobiOf },
    { signature: 'LinearOperator', rule: 'jacobi-or-none', fn: jacobiOf },
  ];
}
