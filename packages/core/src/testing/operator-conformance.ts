/**
 * The operator conformance suite: what any operator, yours included, must satisfy to work
 * with dispatch and PCG. It builds the operator's matrix from apply on unit vectors and checks
 * the rest against it: linearity, symmetry, psd-ness when tagged, toDense and the diagonal
 * (its own or a registered rule), no allocation in apply, and that it works inside a Sum and
 * with PCG. Tolerances scale with the dtype's unit roundoff.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, DType } from '../backend/backend.js';
import { diagonal, solve } from '../dispatch/api.js';
import { NoDiagonalError, denseOf } from '../operators/dense-of.js';
import { IdentityOperator } from '../operators/identity.js';
import { blockSize, type LinearOperator } from '../operators/linear-operator.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { countAllocations } from './count-allocations.js';
import { randomArray } from './random.js';
import { referenceMatVec, referenceSpdSolve, referenceSymmetricEigen } from './reference.js';
import { unitRoundoff } from './tolerance.js';

export interface OperatorConformanceOptions {
  /** Creates a backend of the given dtype. */
  create(dtype: DType): Backend;
  dtypes: readonly DType[];
  /** Builds the operator under test on a backend (small: the suite builds its n x n matrix). */
  operator(backend: Backend): LinearOperator;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => norm(Array.from(a, (x, i) => x - b[i]));

export function describeOperatorConformance(label: string, options: OperatorConformanceOptions): void {
  for (const dtype of options.dtypes) {
    describe(`${label} ${dtype} operator conformance`, () => {
      const backend = options.create(dtype);
      const op = options.operator(backend);
      const n = blockSize(op);
      const u = unitRoundoff(dtype);
      const matrix = denseOf(op, backend);
      const scale = norm(matrix);
      const host = (values: Float64Array) => backend.fromArray(values, op.shape);
      const vector = (seed: number) => Float64Array.from(backend.toArray(host(randomArray(n, seed))));

      it('has a kind, a block shape and the dtype of its backend', () => {
        expect(typeof op.kind).toBe('string');
        expect(n).toBeGreaterThan(0);
        expect(op.dtype).toBe(dtype);
      });

      it('apply is linear: A x equals the matrix of A (from unit vectors) times x', () => {
        const x = vector(1);
        const out = backend.zeros(op.shape);
        op.apply(host(x), out);
        expect(distance(backend.toArray(out), referenceMatVec(matrix, x, n))).toBeLessThanOrEqual(64 * n * u * scale * norm(x));
      });

      it('apply overwrites out, leaves x alone, and allocates nothing after its first call', () => {
        const x = host(vector(2));
        const before = Array.from(backend.toArray(x));
        const out = backend.zeros(op.shape);
        op.apply(x, out);
        backend.fill(out, NaN);
        expect(countAllocations(backend, () => op.apply(x, out))).toBe(0);
        expect(Array.from(backend.toArray(out)).every(Number.isFinite)).toBe(true);
        expect(Array.from(backend.toArray(x))).toEqual(before);
      });

      it('is symmetric, as CG needs', () => {
        for (let i = 0; i < n; i++)
          for (let j = 0; j < i; j++) expect(Math.abs(matrix[i * n + j] - matrix[j * n + i])).toBeLessThanOrEqual(64 * n * u * scale);
      });

      it('is positive semi-definite when its tags say so', () => {
        if (!op.tags?.psd) return;
        const { values } = referenceSymmetricEigen(matrix, n);
        expect(values[0]).toBeGreaterThanOrEqual(-64 * n * u * scale);
      });

      it('toDense, when it has one, is the matrix apply gives', () => {
        if (!op.toDense) return;
        expect(distance(op.toDense(), matrix)).toBeLessThanOrEqual(64 * n * u * scale);
      });

      it('its diagonal (own method or registered rule), when it has one, is the matrix diagonal', () => {
        let d: Float64Array;
        try {
          const t = diagonal(op);
          d = Float64Array.from(backend.toArray(t));
        } catch (e) {
          if (e instanceof NoDiagonalError) return;
          throw e;
        }
        const expected = Array.from({ length: n }, (_, i) => matrix[i * n + i]);
        expect(distance(d, expected)).toBeLessThanOrEqual(64 * n * u * scale);
      });

      it('works inside a Sum, and is solved by dispatch (closed form or PCG) like its matrix', () => {
        // A + c I with c lifting the smallest eigenvalue to 1: positive definite whatever A is.
        const { values } = referenceSymmetricEigen(matrix, n);
        const c = Math.max(0, 1 - values[0]);
        const shifted = c > 0 ? new SumOperator([op, new ScaledOperator(c, new IdentityOperator(backend, op.shape))]) : op;
        const dense = matrix.map((v, k) => (k % (n + 1) === 0 ? v + c : v));
        const condition = (values[n - 1] + c) / (values[0] + c);
        const rtol = Math.max(1e-10, 16 * Math.sqrt(n) * u * condition);
        const b = vector(3);
        const result = solve(shifted, host(b), { rtol });
        expect(result.status, result.message).toBe('converged');
        const expected = referenceSpdSolve(dense, b, n);
        expect(distance(backend.toArray(result.x), expected)).toBeLessThanOrEqual(4 * condition * (rtol + 64 * n * u) * norm(expected));
      });
    });
  }
}
