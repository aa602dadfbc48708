/**
 * The blocked triangular solves (several blocks of rows, the bulk through gemm), which the
 * conformance suite's small sizes do not reach: residuals against the float64 reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomArray, randomSpd, referenceMatmul, referenceTranspose } from '@mats/core/testing';
import { cholesky, solveTriangular } from '../src/index.js';

describe('blocked triangular solves', () => {
  it('solve L X = B, L^T X = B, U X = B, U^T X = B to float64 accuracy (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 200 }), fc.integer({ min: 1, max: 90 }), fc.integer(), (n, k, seed) => {
        const l = cholesky(randomSpd(n, seed), n);
        const u = referenceTranspose(l, n, n);
        const b = randomArray(n * k, seed + 1);
        for (const [t, lower] of [[l, true], [u, false]] as const) {
          for (const transpose of [false, true]) {
            const x = solveTriangular(t, n, b, k, { lower, transpose });
            const op = transpose ? referenceTranspose(t, n, n) : t;
            const back = referenceMatmul(op, x, n, n, k);
            let worst = 0;
            for (let i = 0; i < n * k; i++) worst = Math.max(worst, Math.abs(back[i] - b[i]));
            expect(worst, `n=${n} k=${k} lower=${lower} transpose=${transpose}`).toBeLessThan(1e-10);
          }
        }
      }),
      { numRuns: 8 },
    );
  });
});
