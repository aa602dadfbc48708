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

/** alpha t as a new tensor. */
function scaled(t: Tensor, alpha: number): Tensor {
  const out = t.backend.zeros(t.shape);
  t.backend.copy(t, out);
  t.backend.scal(alpha, out);
  return out;
}

function checkAlpha(alpha: number): void {
  if (!Number.isFinite(alpha)) throw new RangeError(`scale: alpha must be finite, got ${alpha}`);
}

export function scaleRules(typed: Typed): Rule[] {
  return [
    {
      signature: 'DiagonalOperator,number',
      rule: 'scale-diagonal',
      fn: (op: DiagonalOperator, alpha: number) => {
        checkAlpha(alpha);
        const t = scaled(op.values, alpha);
        const out = new DiagonalOperator(t);
        adoptTensors(out, t);
        return out;
      },
    },
    {
      signature: 'KroneckerOperator,number',
      rule: 'scale-kronecker-factor',
      fn: (op: KroneckerOperator, alpha: number) => {
        checkAlpha(alpha);
        const g = scaled(op.g, alpha);
        const out = new KroneckerOperator(g, op.a, { psd: op.tags.psd && alpha >= 0 });
        adoptTensors(out, g);
        return out;
      },
    },
    {
      signature: 'GramOperator,number',
      rule: 'scale-gram-factor',
      fn: (op: GramOperator, alpha: number) => {
        checkAlpha(alpha);
        const a = scaled(op.a, alpha);
        const out = new GramOperator(a, op.shape[0], { psd: op.tags.psd && alpha >= 0 });
        adoptTensors(out, a);
        return out;
      },
    },
    {
      signature: 'DenseOperator,number',
      rule: 'scale-dense',
      fn: (op: DenseOperator, alpha: number) => {
        checkAlpha(alpha);
        const m = scaled(op.matrix, alpha);
        const out = new DenseOperator(m, { shape: op.shape, psd: op.tags.psd && alpha >= 0 });
        adoptTensors(out, m);
        return out;
      },
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
