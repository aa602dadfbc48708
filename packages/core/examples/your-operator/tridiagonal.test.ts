import fc from 'fast-check';
import { createCpuBackend } from '@mats/backend-cpu';
import { describeOperatorConformance, describeSolverProperties, operatorKind } from '@mats/core/testing';
import { Tridiagonal } from './tridiagonal.js';

/** Multiples of 1/8: exact in float32, and they shrink to counterexamples that read easily. */
const eighths = (min: number, max: number) => fc.integer({ min, max }).map((k) => k / 8);
/** One row of the matrix: e_i = A[i][i + 1] (unused in the last row), and d_i's margin over |e_(i-1)| + |e_i|. */
const row = fc.record({ upper: eighths(-8, 8), margin: eighths(1, 16) });

export const tridiagonal = operatorKind({
  kind: 'tridiagonal',
  // A positive diagonal that dominates its row is symmetric positive definite (Gershgorin).
  parameters: fc.array(row, { minLength: 1, maxLength: 8 }).map((rows) => {
    const e = rows.slice(0, -1).map((r) => r.upper);
    const d = rows.map((r, i) => Math.abs(e[i - 1] ?? 0) + Math.abs(e[i] ?? 0) + r.margin);
    return { d, e };
  }),
  build: (backend, { d, e }) => new Tridiagonal(backend, d, e, { psd: true }),
  // The reference matrix, written from the parameters without the operator.
  matrix: ({ d, e }) => {
    const n = d.length;
    const m = new Float64Array(n * n);
    d.forEach((v, i) => (m[i * n + i] = v));
    e.forEach((v, i) => (m[i * n + i + 1] = m[(i + 1) * n + i] = v));
    return m;
  },
});

const options = { create: createCpuBackend, dtypes: ['float64', 'float32'], kinds: [tridiagonal] } as const;
describeOperatorConformance('tridiagonal', options);
describeSolverProperties('tridiagonal', options);
