/** dispatchRule takes the arguments of the call it names (core README, "Dispatch"). */
import { DiagonalOperator, KroneckerOperator, dispatchRule, preconditioner, solve } from '@mats/core';
import { describe, expect, it } from 'vitest';
import { cpu64 as be, operator } from './helpers.js';

describe('dispatchRule', () => {
  const sum = operator('sum-of-kroneckers', 3, 2, 5).operator;
  const b = be.zeros(sum.shape);

  it("preconditioner: 'auto' is the default, and names the rule preconditioner(op, 'auto') runs", () => {
    expect(dispatchRule('preconditioner', sum, 'auto')).toBe('kronecker-approximation');
    expect(dispatchRule('preconditioner', sum)).toBe('kronecker-approximation');
    expect(preconditioner(sum, 'auto')?.kind).toBe(preconditioner(sum)?.kind);
  });

  it('preconditioner: another name is no dispatch and comes back as given; an operator gives operator', () => {
    expect(dispatchRule('preconditioner', sum, 'jacobi')).toBe('jacobi');
    expect(dispatchRule('preconditioner', sum, 'none')).toBe('none');
    const m = new DiagonalOperator(be.fromArray(new Float64Array(6).fill(1), [3, 2]));
    expect(dispatchRule('preconditioner', sum, m)).toBe('operator');
  });

  it('solve: options may be left out; reference mode and method pcg skip the closed forms, as solve does', () => {
    const two = operator('sum-of-two-kroneckers', 3, 2, 5).operator;
    expect(dispatchRule('solve', two, b)).toBe('two-kroneckers');
    expect(dispatchRule('solve', two, b, {})).toBe('two-kroneckers');
    expect(dispatchRule('solve', two, b, { method: 'pcg' })).toBe('pcg');
    expect(dispatchRule('solve', two, b, { reference: true })).toBe('pcg');
    expect(solve(two, b, { method: 'pcg' }).method).toBe('pcg');
  });

  it('add, scale and diagonal take the call arguments', () => {
    const k = operator('kronecker', 3, 2, 5).operator as KroneckerOperator;
    expect(dispatchRule('scale', k, 2)).toBe('scale-kronecker-factor');
    expect(dispatchRule('diagonal', k)).toBe('own-diagonal');
    expect(dispatchRule('add', sum, k)).toBe('flatten');
  });

  it('throws a TypeError when no rule takes the arguments', () => {
    expect(() => dispatchRule('diagonal', 'not an operator')).toThrow(TypeError);
  });
});
