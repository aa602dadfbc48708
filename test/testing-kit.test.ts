/**
 * The testing kit in the workspace: its suites pass on every built-in structure and on the
 * README's user kind (drawn from a generator of its parameters, in every composition), its
 * checks fail with the cause on operators that break the contract, and failures read in a few
 * lines. The mutation test from outside the workspace is test/outside/operator-kit.test.ts.
 */
import fc from 'fast-check';
import { DiagonalOperator, registerOperatorKind, type Backend, type LinearOperator, type Tensor } from '@mats/core';
import { createCpuBackend } from '@mats/backend-cpu';
import { CheckFailure, describeOperatorConformance, describeSolverProperties, operatorKind, spdOperator } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { CONFORMANCE_CHECKS, subjectOf } from '../packages/core/src/testing/conformance-checks.js';
import { LowRankPlusDiagonal } from '../packages/core/examples/low-rank-plus-diagonal.js';
import { checkJacobiPcg } from '../packages/core/examples/test-your-solver.js';
import { cpu32, cpu64 } from './helpers.js';

// Every built-in structure passes the operator conformance suite, as generated properties.
describeOperatorConformance('built-in structures', { create: createCpuBackend, dtypes: ['float64', 'float32'], operators: (b) => spdOperator(b), numRuns: 10 });

/** The README's user kind, C = diag(d) + U U^T, drawn from its parameters with its matrix. */
const lowRank = operatorKind({
  kind: 'low-rank-plus-diagonal',
  parameters: fc.record({ n: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 3 }), seed: fc.nat() }).map(({ n, k, seed }) => ({
    d: Array.from({ length: n }, (_, i) => 1 + ((seed + 3 * i) % 8) / 8),
    u: Array.from({ length: n * k }, (_, i) => (((seed + 5 * i) % 9) - 4) / 8),
    k,
  })),
  build: (backend: Backend, p: { d: number[]; u: number[]; k: number }) =>
    new LowRankPlusDiagonal(backend.fromArray(p.d, [p.d.length, 1]), backend.fromArray(p.u, [p.d.length, p.k])),
  matrix: ({ d, u, k }) => {
    const n = d.length;
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) m[i * n + j] += u[i * k + p]! * u[j * k + p]!;
    d.forEach((v, i) => (m[i * n + i] += v));
    return m;
  },
});
describeOperatorConformance('low-rank-plus-diagonal kind', { create: createCpuBackend, dtypes: ['float64', 'float32'], kinds: [lowRank], numRuns: 15 });
describeSolverProperties('low-rank-plus-diagonal kind', { create: createCpuBackend, dtypes: ['float64'], kinds: [lowRank], numRuns: 10 });
// The solver properties over any arbitrary of generated operators.
describeSolverProperties('an arbitrary', { create: createCpuBackend, dtypes: ['float32'], operators: (b) => spdOperator(b, { structures: ['gram', 'mixed-sum'] }), numRuns: 5 });

/**
 * A diagonal kind with a registered preconditioner rule: M = diag(1 / d) (right), or with one
 * entry negated (not positive definite: PCG would break down).
 */
function preconditionedKind(kind: string, wrong: boolean) {
  registerOperatorKind<DiagonalKind>(kind, {
    preconditioner: (op) => new DiagonalOperator(op.backend.fromArray(op.d.map((v, i) => (wrong && i === 0 ? -1 : 1) / v), op.shape)),
  });
  return (backend: Backend) => new DiagonalKind(kind, backend, [1, 2, 4]);
}
class DiagonalKind implements LinearOperator {
  readonly shape = [3];
  readonly dtype;
  readonly tags = { symmetric: true, psd: true };
  private readonly values: Tensor;
  constructor(
    readonly kind: string,
    readonly backend: Backend,
    readonly d: number[],
  ) {
    this.dtype = backend.dtype;
    this.values = backend.fromArray(d, [3]);
  }
  apply(x: Tensor, out: Tensor): void {
    this.backend.mul(this.values, x, out);
  }
}

/** A diagonal operator written by hand, with one fault planted. */
function handDiagonal(backend: Backend, fault: 'adds into out' | 'reads out' | 'writes x' | 'none'): LinearOperator {
  const d = backend.fromArray([1, 2, 3], [3]);
  const scratch = backend.zeros([3]);
  const zero = backend.zeros([3]);
  return {
    kind: 'hand-diagonal',
    shape: [3],
    dtype: backend.dtype,
    tags: { symmetric: true, psd: true },
    apply(x: Tensor, out: Tensor) {
      if (fault === 'adds into out') {
        backend.mul(d, x, scratch);
        backend.axpy(1, scratch, out);
      } else if (fault === 'reads out') {
        backend.mul(d, x, scratch);
        backend.mul(zero, out, out); // 0 * out: right for finite out, NaN for NaN
        backend.axpy(1, scratch, out);
      } else {
        backend.mul(d, x, out);
        if (fault === 'writes x') backend.scal(1, x), backend.fill(x, 0);
      }
    },
  };
}

const checkNamed = (name: string) => CONFORMANCE_CHECKS.find((c) => c.name.startsWith(name))!;
const failure = (op: LinearOperator, check: string): CheckFailure => {
  try {
    checkNamed(check).run(subjectOf(op, cpu64));
  } catch (e) {
    if (e instanceof CheckFailure) return e;
    throw e;
  }
  throw new Error(`${check} passed`);
};

describe('conformance checks name the cause', () => {
  it('tells adding into out from reading it', () => {
    expect(failure(handDiagonal(cpu64, 'adds into out'), 'apply overwrites out').report.cause).toMatch(/adds into out instead of overwriting it/);
    expect(failure(handDiagonal(cpu64, 'reads out'), 'apply overwrites out').report.cause).toMatch(/reads out before writing/);
    expect(() => checkNamed('apply overwrites out').run(subjectOf(handDiagonal(cpu64, 'none'), cpu64))).not.toThrow();
  });

  it('sees x written', () => {
    expect(failure(handDiagonal(cpu64, 'writes x'), 'apply leaves x unchanged').report.observed).toMatch(/changed from .* to 0/);
  });

  it('reports compared, observed and allowed values', () => {
    const r = failure(handDiagonal(cpu64, 'adds into out'), 'apply overwrites out').report;
    expect(r.compared).toMatch(/out after apply\(x, out\) with out holding a random y/);
    expect(r.observed).toMatch(/^\|\|out - A x\|\| = [\d.e+-]+, and out - A x is the y out held$/);
    expect(r.allowed).toMatch(/^\|\|out - A x\|\| <= [\d.e+-]+$/);
  });
});

describe('a registered preconditioner rule is checked', () => {
  const check = checkNamed('its registered preconditioner rule');
  it('passes a symmetric positive definite one', () => {
    expect(() => check.run(subjectOf(preconditionedKind('diagonal-kind-right', false)(cpu64), cpu64))).not.toThrow();
  });
  it('fails one that is not positive definite, saying PCG would break down', () => {
    const e = (() => {
      try {
        check.run(subjectOf(preconditionedKind('diagonal-kind-wrong', true)(cpu64), cpu64));
      } catch (error) {
        return error as CheckFailure;
      }
      throw new Error('passed');
    })();
    expect(e.report.observed).toMatch(/^lambda_min\(M\) = -1$/);
    expect(e.report.cause).toMatch(/not positive definite; PCG would report breakdown/);
  });
});

describe('a failing property prints in a few lines', () => {
  it('an spdOperator counterexample prints as its spec, not as its backend', () => {
    let message = '';
    try {
      checkJacobiPcg(cpu32); // cannot reach rtol 1e-10 in float32
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/Counterexample: \[\[?\w[\w-]* \[\d+(, \d+)?\] float32 \(spec: structure '[\w-]+', rows \d+, cols \d+, terms \d+, seed \d+, alpha [\d.e+-]+\)/);
    expect(message.split('\n').length).toBeLessThanOrEqual(10);
    expect(message).not.toMatch(/function|backend/);
  });
});
