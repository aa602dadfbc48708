/**
 * Singular closed forms return the pseudo-inverse's answer, pinv(K) b, the minimum-norm
 * least-squares solution, and say so: 'converged' when ||b - K x|| meets the tolerance,
 * 'leastSquares' (with that residual) when b has a part outside the range. Checked against a
 * dense pseudo-inverse computed here from a plain Jacobi eigendecomposition of K.
 */
import fc from 'fast-check';
import { KroneckerOperator, SumOperator, solve, type Backend, type SolveResult } from '@mats/core';
import { mulberry32, randomArray, referenceKronecker, referenceMatVec, referenceSymmetricEigen } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { cpu64, distance, host, norm } from './helpers.js';

/**
 * pinv(K) b for a symmetric psd K [n, n]: eigenvalues at most max(n, 32) eps lambda_max count
 * as zero (numpy's matrix_rank rule, and core's: rounding in forming K leaves its null
 * eigenvalues a few n u lambda_max from 0).
 */
function densePinvSolve(k: Float64Array, b: Float64Array, n: number): Float64Array {
  const { values, vectors } = referenceSymmetricEigen(k, n);
  const cutoff = Math.max(n, 32) * 2 ** -52 * Math.max(...values.map(Math.abs));
  const x = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (values[j] <= cutoff) continue;
    let c = 0;
    for (let i = 0; i < n; i++) c += vectors[i * n + j] * b[i];
    for (let i = 0; i < n; i++) x[i] += (c / values[j]) * vectors[i * n + j];
  }
  return x;
}

/** A random orthogonal [n, n] matrix (the eigenvectors of a random symmetric one). */
function randomOrthogonal(n: number, seed: number): Float64Array {
  const r = randomArray(n * n, seed);
  const sym = r.map((v, k) => v + r[(k % n) * n + Math.floor(k / n)]);
  return referenceSymmetricEigen(sym, n).vectors;
}

/** Q diag(lambda) Q^T: a psd factor whose zero entries of lambda are its null directions. */
function psdFactor(q: Float64Array, lambda: readonly number[]): Float64Array {
  const n = lambda.length;
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) m[i * n + j] += q[i * n + p] * lambda[p] * q[j * n + p];
  return m;
}

/** A psd [n, n] factor of the given rank: B B^T with B [n, rank] random. */
function lowRank(n: number, rank: number, seed: number): Float64Array {
  const b = randomArray(n * rank, seed);
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < rank; p++) m[i * n + j] += b[i * rank + p] * b[j * rank + p];
  return m;
}

interface Pair {
  g1: Float64Array;
  a1: Float64Array;
  g2: Float64Array;
  a2: Float64Array;
}

function twoKroneckers(be: Backend, f: Pair, rows: number, cols: number) {
  const kron = (g: Float64Array, a: Float64Array) => new KroneckerOperator(be.fromArray(g, [rows, rows]), be.fromArray(a, [cols, cols]), { psd: true });
  const operator = new SumOperator([kron(f.g1, f.a1), kron(f.g2, f.a2)]);
  const dense = referenceKronecker(f.g1, f.a1, rows, cols).map((v, i) => v + referenceKronecker(f.g2, f.a2, rows, cols)[i]);
  return { operator, dense, n: rows * cols };
}

/** Checks a solve against pinv(K) b and the status rule; returns the relative distance. */
function checkAgainstPinv(r: SolveResult, dense: Float64Array, b: Float64Array, n: number, rtol: number): number {
  const expected = densePinvSolve(dense, b, n);
  const x = host(r.x);
  const error = distance(x, expected) / Math.max(norm(expected), 1e-300);
  const trueResidual = distance(b, referenceMatVec(dense, x, n));
  expect(Math.abs(r.residualNorm - trueResidual)).toBeLessThanOrEqual(1e-12 * norm(b) + 1e-9 * trueResidual);
  // Never 'converged' above the tolerance; 'leastSquares' only above it.
  expect(r.status, r.message).toBe(trueResidual <= rtol * norm(b) ? 'converged' : 'leastSquares');
  return error;
}

describe('the two-Kronecker pseudo-inverse', () => {
  // The shape of trouble, scaled down: G1 and A2 rank-deficient, so task 1 never sees
  // 2 output directions and task 2 never sees 5 input directions: 2 x 5 = 10 null modes of 96.
  const [rows, cols] = [8, 12];
  const f: Pair = { g1: lowRank(rows, 6, 1), a1: lowRank(cols, cols, 2), g2: lowRank(rows, rows, 3), a2: lowRank(cols, 7, 4) };
  const { operator, dense, n } = twoKroneckers(cpu64, f, rows, cols);

  it('is the minimum-norm solution for b in the range (converged), to 1e-8 of the dense pinv', () => {
    const b = referenceMatVec(dense, randomArray(n, 5), n);
    const r = solve(operator, cpu64.fromArray(b, [rows, cols]), { rtol: 1e-10 });
    expect(r.method).toBe('two-kroneckers');
    expect(r.note).toMatch(/^singular \(10 of 96 modes invisible to both tasks\): pseudo-inverse, the minimum-norm least-squares solution/);
    expect(checkAgainstPinv(r, dense, b, n, 1e-10)).toBeLessThan(1e-8);
  });

  it('is the minimum-norm least-squares solution for b outside the range (leastSquares, with its residual)', () => {
    const b = randomArray(n, 6);
    const r = solve(operator, cpu64.fromArray(b, [rows, cols]), { rtol: 1e-10 });
    expect(r.method).toBe('two-kroneckers');
    expect(r.iterations).toBe(0);
    expect(checkAgainstPinv(r, dense, b, n, 1e-10)).toBeLessThan(1e-8);
    expect(r.message).toMatch(/^least-squares solution .* b has a part outside the operator's range/);
    expect(r.closedForm?.withinTolerance).toBe(false);
  });

  it('handles G1 + G2 singular (an output neither task sees) in closed form', () => {
    const g = psdFactor(randomOrthogonal(3, 7), [0, 1, 2]);
    const h = psdFactor(randomOrthogonal(3, 7), [0, 3, 0.5]); // the same null direction
    const pair = twoKroneckers(cpu64, { g1: g, a1: lowRank(2, 2, 8), g2: h, a2: lowRank(2, 1, 9) }, 3, 2);
    const b = randomArray(6, 10);
    const r = solve(pair.operator, cpu64.fromArray(b, [3, 2]), { rtol: 1e-10 });
    expect(r.method).toBe('two-kroneckers');
    expect(checkAgainstPinv(r, pair.dense, b, 6, 1e-10)).toBeLessThan(1e-8);
  });

  it('property: equals the dense pinv to 1e-8 over random rank-deficient psd factors, consistent and inconsistent b', () => {
    const dims = fc.record({ rows: fc.integer({ min: 1, max: 4 }), cols: fc.integer({ min: 1, max: 4 }) });
    const problem = dims.chain(({ rows, cols }) =>
      fc.record({
        rows: fc.constant(rows),
        cols: fc.constant(cols),
        seed: fc.integer({ min: 1, max: 1e6 }),
        // Per factor: which eigenvalues are 0 (a direction that task never sees).
        nulls: fc.tuple(...[rows, cols, rows, cols].map((k) => fc.array(fc.boolean(), { minLength: k, maxLength: k }))),
        // Whether the two G's (and the two A's) share eigenvectors, so their null spaces can coincide.
        sharedG: fc.boolean(),
        sharedA: fc.boolean(),
        consistent: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(problem, ({ rows, cols, seed, nulls, sharedG, sharedA, consistent }) => {
        const next = mulberry32(seed);
        const spectrum = (zero: boolean[]) => zero.map((z) => (z ? 0 : 0.5 + 1.5 * next()));
        const qg1 = randomOrthogonal(rows, seed + 1);
        const qa1 = randomOrthogonal(cols, seed + 2);
        const qg2 = sharedG ? qg1 : randomOrthogonal(rows, seed + 3);
        const qa2 = sharedA ? qa1 : randomOrthogonal(cols, seed + 4);
        const f: Pair = {
          g1: psdFactor(qg1, spectrum(nulls[0])),
          a1: psdFactor(qa1, spectrum(nulls[1])),
          g2: psdFactor(qg2, spectrum(nulls[2])),
          a2: psdFactor(qa2, spectrum(nulls[3])),
        };
        const { operator, dense, n } = twoKroneckers(cpu64, f, rows, cols);
        const b = consistent ? referenceMatVec(dense, randomArray(n, seed + 5), n) : randomArray(n, seed + 6);
        const r = solve(operator, cpu64.fromArray(b, [rows, cols]), { rtol: 1e-10 });
        expect(r.method).toBe('two-kroneckers');
        expect(checkAgainstPinv(r, dense, b, n, 1e-10)).toBeLessThan(1e-8);
      }),
      { numRuns: 200 },
    );
  });
});

describe('a single singular Kronecker', () => {
  it('with b outside its range: the least-squares solution, status leastSquares with the residual', () => {
    const [rows, cols] = [5, 4];
    const g = lowRank(rows, 3, 11);
    const a = lowRank(cols, cols, 12);
    const k = new KroneckerOperator(cpu64.fromArray(g, [rows, rows]), cpu64.fromArray(a, [cols, cols]), { psd: true });
    const dense = referenceKronecker(g, a, rows, cols);
    const b = randomArray(rows * cols, 13);
    const r = solve(k, cpu64.fromArray(b, [rows, cols]), { rtol: 1e-10 });
    expect(r.method).toBe('kronecker');
    expect(checkAgainstPinv(r, dense, b, rows * cols, 1e-10)).toBeLessThan(1e-8);
    expect(r.status).toBe('leastSquares');
    expect(r.residualNorm / norm(b)).toBeGreaterThan(0.1);
  });
});
