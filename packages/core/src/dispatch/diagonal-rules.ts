/**
 * diagonal(op): the exact diagonal as a new tensor. Built-in leaves use their own method
 * (Kronecker: outer product of the factor diagonals; Gram: diag(A) repeated); composites
 * recurse through dispatch, so a user operator with a registered diagonal rule works inside
 * a Sum, a Scaled or a BlockDiagonal.
 */
import type { Typed } from 'typed-function';
import { blockDiagonalDiagonal, type BlockDiagonalOperator } from '../operators/block-diagonal.js';
import { requireDiagonal } from '../operators/dense-of.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { scaledDiagonal, type ScaledOperator } from '../operators/scaled.js';
import { sumDiagonal, type SumOperator } from '../operators/sum.js';
import { OWN_DIAGONAL_TYPES, type Rule } from './rule.js';

export function diagonalRules(typed: Typed): Rule[] {
  return [
    ...OWN_DIAGONAL_TYPES.map((t) => ({ signature: t, rule: 'own-diagonal', fn: (op: LinearOperator) => requireDiagonal(op) })),
    { signature: 'ScaledOperator', rule: 'scaled-diagonal', fn: typed.referToSelf((self) => (op: ScaledOperator) => scaledDiagonal(op, self)) },
    {
      signature: 'BlockDiagonalOperator',
      rule: 'block-diagonals',
      fn: typed.referToSelf((self) => (op: BlockDiagonalOperator) => blockDiagonalDiagonal(op, self)),
    },
    { signature: 'SumOperator', rule: 'sum-of-part-diagonals', fn: typed.referToSelf((self) => (op: SumOperator) => sumDiagonal(op, self)) },
    { signature: 'LinearOperator', rule: 'own-diagonal', fn: (op: LinearOperator) => requireDiagonal(op) },
  ];
}
