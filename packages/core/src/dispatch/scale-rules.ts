/**
 * scale(op, alpha): the operator alpha op, keeping structure: a scaled Diagonal, Gram, Dense or
 * Kronecker (alpha G (x) A) is one of the same kind; a scaled Sum is the Sum of scaled parts,
 * so a Sum of Kroneckers stays one; anything else becomes a ScaledOperator.
 */
import type { Typed } from 'typed-function';
import type { Tensor } from '../backend/backend.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { adoptTensors } from '../operators/owned.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import type { Rule } from './rule.js';

/**
 * The operator make() builds from alpha t, a new tensor the result owns (t is a Diagonal's
 * entries, a factor, a dense matrix: scaling one of them scales the operator).
 */
function withScaled<T extends LinearOperator>(t: Tensor, alpha: number, make: (scaled: Tensor) => T): T {
  if (!Number.isFinite(alpha)) throw new RangeError(`scale: alpha must be finite, got ${alpha}`);
  const scaled = t.backend.zeros(t.shape);
  t.backend.copy(t, scaled);
  t.backend.scal(alpha, scaled);
  const op = make(scaled);
  adoptTensors(op, scaled);
  return op;
}

export function scaleRules(typed: Typed): Rule[] {
  return [
    {
      signature: 'DiagonalOperator,number',
      rule: 'scale-diagonal',
      fn: (op: DiagonalOperator, alpha: number) => withScaled(op.values, alpha, (d) => new DiagonalOperator(d)),
    },
    {
      signature: 'KroneckerOperator,number',
      rule: 'scale-kronecker-factor',
      fn: (op: KroneckerOperator, alpha: number) =>
        withScaled(op.g, alpha, (g) => new KroneckerOperator(g, op.a, { psd: op.tags.psd && alpha >= 0 })),
    },
    {
      signature: 'GramOperator,number',
      rule: 'scale-gram-factor',
      fn: (op: GramOperator, alpha: number) => withScaled(op.a, alpha, (a) => new GramOperator(a, op.shape[0], { psd: op.tags.psd && alpha >= 0 })),
    },
    {
      signature: 'DenseOperator,number',
      rule: 'scale-dense',
      fn: (op: DenseOperator, alpha: number) =>
        withScaled(op.matrix, alpha, (m) => new DenseOperator(m, { shape: op.shape, psd: op.tags.psd && alpha >= 0 })),
    },
    {
      signature: 'ScaledOperator,number',
      rule: 'fold-scales',
      fn: (op: ScaledOperator, alpha: number) => new ScaledOperator(alpha * op.alpha, op.inner),
    },
    {
      signature: 'SumOperator,number',
      rule: 'distribute-over-sum',
      fn: typed.referToSelf((self) => (op: SumOperator, alpha: number) => new SumOperator(op.parts.map((p) => self(p, alpha)))),
    },
    { signature: 'LinearOperator,number', rule: 'scaled', fn: (op: LinearOperator, alpha: number) => new ScaledOperator(alpha, op) },
  ];
}
