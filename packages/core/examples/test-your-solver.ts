import fc from 'fast-check';
import { pcg, type Backend } from '@mats/core';
import { referenceSpdSolve, spdOperator } from '@mats/core/testing';

/**
 * A property test of a solver (here: PCG with Jacobi) against a dense solve, on random SPD
 * operators of every structure. Throws, with the shrunk counterexample, when it fails.
 */
export function checkJacobiPcg(backend: Backend): void {
  fc.assert(
    fc.property(spdOperator(backend, { maxDimension: 4 }), ({ operator, dense, n, condition }) => {
      const b = backend.fromArray(Float64Array.from({ length: n }, (_, i) => Math.cos(i)), operator.shape);
      const result = pcg(operator, b, { preconditioner: 'jacobi', rtol: 1e-10 });
      const expected = referenceSpdSolve(dense, backend.toArray(b), n);
      const x = backend.toArray(result.x);
      const error = Math.hypot(...expected.map((v, i) => v - x[i]));
      return result.status === 'converged' && error <= 1e-9 * condition * Math.hypot(...expected);
    }),
    { numRuns: 50 },
  );
}
