/**
 * add(a, b): the operator a + b, keeping structure where the sum has one (DESIGN.md §4):
 * Diagonal + Diagonal is a Diagonal, Gram + Gram a Gram of the summed factors, Dense + Dense
 * a Dense; sums are flattened; anything else becomes a SumOperator.
 */
import type { Backend, Tensor } from '../backend/backend.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import type { IdentityOperator } from '../operators/identity.js';
import { checkSameBlock, type LinearOperator } from '../operators/linear-operator.js';
import { adoptTensors } from '../operators/owned.js';
import { SumOperator } from '../operators/sum.js';
import type { Rule } from './rule.js';

/** out = x + y as a new tensor. */
function added(backend: Backend, x: Tensor, y: Tensor): Tensor {
  const out = backend.zeros(x.shape);
  backend.add(x, y, out);
  return out;
}

function owning<T extends LinearOperator>(op: T, t: Tensor): T {
  adoptTensors(op, t);
  return op;
}

function identityPlusDiagonal(i: IdentityOperator, d: DiagonalOperator): DiagonalOperator {
  checkSameBlock('add', [i, d]);
  const t = d.backend.zeros(d.shape);
  d.backend.fill(t, 1);
  d.backend.add(t, d.values, t);
  return owning(new DiagonalOperator(t), t);
}

export const ADD_RULES: readonly Rule[] = [
  {
    signature: 'DiagonalOperator,DiagonalOperator',
    rule: 'diagonal+diagonal',
    fn: (a: DiagonalOperator, b: DiagonalOperator) => {
      checkSameBlock('add', [a, b]);
      const t = added(a.backend, a.values, b.values);
      return owning(new DiagonalOperator(t), t);
    },
  },
  { signature: 'IdentityOperator,DiagonalOperator', rule: 'identity+diagonal', fn: identityPlusDiagonal },
  { signature: 'DiagonalOperator,IdentityOperator', rule: 'identity+diagonal', fn: (d: DiagonalOperator, i: IdentityOperator) => identityPlusDiagonal(i, d) },
  {
    signature: 'GramOperator,GramOperator',
    rule: 'gram+gram',
    fn: (a: GramOperator, b: GramOperator) => {
      checkSameBlock('add', [a, b]);
      const t = added(a.backend, a.a, b.a);
      return owning(new GramOperator(t, a.shape[0], { psd: a.tags.psd && b.tags.psd }), t);
    },
  },
  {
    signature: 'DenseOperator,DenseOperator',
    rule: 'dense+dense',
    fn: (a: DenseOperator, b: DenseOperator) => {
      checkSameBlock('add', [a, b]);
      const t = added(a.backend, a.matrix, b.matrix);
      return owning(new DenseOperator(t, { shape: a.shape, psd: a.tags.psd && b.tags.psd }), t);
    },
  },
  { signature: 'SumOperator,SumOperator', rule: 'flatten', fn: (a: SumOperator, b: SumOperator) => new SumOperator([...a.parts, ...b.parts]) },
  { signature: 'SumOperator,LinearOperator', rule: 'flatten', fn: (a: SumOperator, b: LinearOperator) => new SumOperator([...a.parts, b]) },
  { signature: 'LinearOperator,SumOperator', rule: 'flatten', fn: (a: LinearOperator, b: SumOperator) => new SumOperator([a, ...b.parts]) },
  { signature: 'LinearOperator,LinearOperator', rule: 'sum', fn: (a: LinearOperator, b: LinearOperator) => new SumOperator([a, b]) },
];
