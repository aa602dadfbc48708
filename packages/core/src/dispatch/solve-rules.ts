/**
 * solve(op, b, options): closed forms where the structure has one (DESIGN.md §4), PCG for
 * everything else. Each closed form is an exact inverse computed once per operator (cached
 * beside it), so a block solved twice factorizes once.
 */
import type { Typed } from 'typed-function';
import type { Tensor } from '../backend/backend.js';
import type { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import type { DenseOperator } from '../operators/dense.js';
import type { DiagonalOperator } from '../operators/diagonal.js';
import type { GramOperator } from '../operators/gram.js';
import { IdentityOperator } from '../operators/identity.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import type { ScaledOperator } from '../operators/scaled.js';
import type { SumOperator } from '../operators/sum.js';
import type { SolveOptions } from '../solver/solve-types.js';
import { solveBlockwise, solveByPcg, solveScaled, solveWithInverse } from './closed-form-solve.js';
import { cachedInverse, denseInverse, diagonalInverse, gramInverse, kroneckerInverse, type ExactInverse } from './exact-inverses.js';
import type { ResolvePreconditioner } from './resolve-preconditioner.js';
import type { Rule } from './rule.js';
import { sumOfDiagonalsInverse, sumOfGramsInverse, sumOfTwoKroneckersInverse } from './sum-closed-forms.js';

/**
 * A solve rule from an exact inverse, cached beside the operator under cacheKey (shared with
 * the 'auto' preconditioner). resolve serves the PCG paths (refinement, fallback).
 */
export function closedFormRule<T extends LinearOperator>(
  type: string,
  rule: string,
  make: (op: T) => ExactInverse,
  resolve: ResolvePreconditioner,
  cacheKey = 'exact',
): Rule {
  return {
    signature: `${type},any,any`,
    rule,
    fn: (op: T, b: Tensor, options: SolveOptions) => solveWithInverse(op, b, options, rule, () => cachedInverse(op, cacheKey, () => make(op)), resolve),
  };
}

export function solveRules(typed: Typed, resolve: ResolvePreconditioner): Rule[] {
  const closedForm = <T extends LinearOperator>(type: string, rule: string, make: (op: T) => ExactInverse) => closedFormRule(type, rule, make, resolve);
  const byPcg = (op: LinearOperator, b: Tensor, o: SolveOptions) => solveByPcg(op, b, o, resolve);
  return [
    closedForm('IdentityOperator', 'identity', (op: IdentityOperator) => ({ operator: new IdentityOperator(op.backend, op.shape) })),
    closedForm('DiagonalOperator', 'diagonal', (op: DiagonalOperator) => diagonalInverse(op.backend, op.hostValues, op.shape)),
    closedForm('DenseOperator', 'dense-cholesky', (op: DenseOperator) => denseInverse(op)),
    closedForm('KroneckerOperator', 'kronecker', (op: KroneckerOperator) => kroneckerInverse(op)),
    closedForm('GramOperator', 'gram', (op: GramOperator) => gramInverse(op.backend, op.hostA, op.shape[0], op.tags.psd)),
    {
      signature: 'ScaledOperator,any,any',
      rule: 'scaled',
      fn: typed.referToSelf((self) => (op: ScaledOperator, b: Tensor, o: SolveOptions) => solveScaled(op, b, o, self, resolve)),
    },
    {
      signature: 'BlockDiagonalOperator,any,any',
      rule: 'blockwise',
      fn: typed.referToSelf((self) => (op: BlockDiagonalOperator, b: Tensor, o: SolveOptions) => solveBlockwise(op, b, o, self)),
    },
    closedForm('SumOfDiagonals', 'sum-of-diagonals', (op: SumOperator) => sumOfDiagonalsInverse(op)),
    closedForm('SumOfGrams', 'sum-of-grams', (op: SumOperator) => sumOfGramsInverse(op)),
    closedForm('SumOfTwoKroneckers', 'two-kroneckers', (op: SumOperator) => sumOfTwoKroneckersInverse(op)),
    { signature: 'SumOperator,any,any', rule: 'pcg', fn: byPcg },
    { signature: 'LinearOperator,any,any', rule: 'pcg', fn: byPcg },
  ];
}
