/**
 * The solver property suite: every backend package runs it on itself (after its conformance
 * suite), so operators, dispatch and PCG are checked on every backend and dtype, against plain
 * float64 references. Tolerances come from the dtype's unit roundoff u, the block size n and
 * the operator's condition number kappa, so a float32 backend gets float32 tolerances and a
 * wrong kernel or convention fails in either precision.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { diagonal, solve } from '../dispatch/api.js';
import { dispatchRule } from '../dispatch/registration.js';
import { DenseOperator } from '../operators/dense.js';
import { denseOf } from '../operators/dense-of.js';
import { IdentityOperator } from '../operators/identity.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { pcg } from '../dispatch/pcg-api.js';
import { OPERATOR_STRUCTURES, spdOperator, type GeneratedOperator, type OperatorStructure } from './arbitraries.js';
import { randomArray } from './random.js';
import { referenceMatVec, referenceSpdSolve, referenceSymmetricEigen } from './reference.js';
import { unitRoundoff } from './tolerance.js';

export interface SolverPropertiesOptions {
  /** Creates a backend of the given dtype (the suite never disposes backends). */
  create(dtype: DType): Backend;
  dtypes: readonly DType[];
  /** Runs per property (default 15). */
  numRuns?: number;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => norm(Array.from(a, (x, i) => x - b[i]));
const frobenius = norm;

export function describeSolverProperties(label: string, options: SolverPropertiesOptions): void {
  const numRuns = options.numRuns ?? 15;
  for (const dtype of options.dtypes) {
    describe(`${label} ${dtype} solver properties`, () => {
      const backend = options.create(dtype);
      const u = unitRoundoff(dtype);
      const stored = (values: Float64Array) => (dtype === 'float32' ? values.map(Math.fround) : values);
      const upload = (values: Float64Array, shape: readonly number[]) => backend.fromArray(values, shape);
      const host = (t: Tensor) => Float64Array.from(backend.toArray(t));
      /** A random block-shaped vector, as stored. */
      const vector = (g: GeneratedOperator, seed: number) => stored(randomArray(g.n, seed));
      /** PCG's tolerance: what this dtype can reach on this operator, and no looser than needed. */
      const rtolFor = (g: GeneratedOperator) => Math.max(1e-12, 8 * Math.sqrt(g.n) * u * g.condition);
      /** A bound on ||x - x*|| / ||x*|| for a solve whose residual meets rtol. */
      const solutionTolerance = (g: GeneratedOperator) => 4 * g.condition * (rtolFor(g) + 4 * g.n * u * g.condition);

      const property = (structures: readonly OperatorStructure[], check: (g: GeneratedOperator, seed: number) => void) =>
        fc.assert(
          fc.property(spdOperator(backend, { structures }), fc.integer({ min: 1, max: 1e6 }), (g, seed) => check(g, seed)),
          { numRuns },
        );

      for (const structure of OPERATOR_STRUCTURES) {
        describe(structure, () => {
          it('apply equals toDense times x, and toDense equals the reference matrix', () => {
            property([structure], (g, seed) => {
              const x = vector(g, seed);
              const out = backend.zeros(g.operator.shape);
              g.operator.apply(upload(x, g.operator.shape), out);
              const expected = referenceMatVec(g.dense, x, g.n);
              expect(distance(host(out), expected)).toBeLessThanOrEqual(64 * g.n * u * frobenius(g.dense) * norm(x) + 1e-300);
              expect(distance(denseOf(g.operator, backend), g.dense)).toBeLessThanOrEqual(8 * u * frobenius(g.dense));
            });
          });

          it('diagonal equals the diagonal of the dense matrix', () => {
            property([structure], (g) => {
              const d = host(diagonal(g.operator));
              const expected = Float64Array.from({ length: g.n }, (_, i) => g.dense[i * g.n + i]);
              expect(d.length).toBe(g.n);
              d.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(4 * u * Math.abs(expected[i])));
            });
          });

          it('is symmetric: <A x, y> = <x, A y>', () => {
            property([structure], (g, seed) => {
              const x = vector(g, seed);
              const y = vector(g, seed + 1);
              const ax = backend.zeros(g.operator.shape);
              const ay = backend.zeros(g.operator.shape);
              g.operator.apply(upload(x, g.operator.shape), ax);
              g.operator.apply(upload(y, g.operator.shape), ay);
              const axy = host(ax).reduce((s, v, i) => s + v * y[i], 0);
              const xay = host(ay).reduce((s, v, i) => s + v * x[i], 0);
              expect(Math.abs(axy - xay)).toBeLessThanOrEqual(128 * g.n * u * frobenius(g.dense) * norm(x) * norm(y));
            });
          });

          it('solve (closed form or PCG), PCG and a dense solve agree; residualNorm is ||b - A x||', () => {
            property([structure], (g, seed) => {
              const b = vector(g, seed);
              const expected = referenceSpdSolve(g.dense, b, g.n);
              const rtol = rtolFor(g);
              const tolerance = solutionTolerance(g) * norm(expected);
              const bt = upload(b, g.operator.shape);
              const solved = solve(g.operator, bt, { rtol, maxIterations: 20 * g.n + 20 });
              const iterated = pcg(g.operator, bt, { rtol, maxIterations: 20 * g.n + 20 });
              for (const [what, r] of [
                ['solve', solved],
                ['pcg', iterated],
              ] as const) {
                expect(r.status, `${what}: ${r.message}`).toBe('converged');
                const x = host(r.x);
                expect(distance(x, expected), `${what} (${'method' in r ? r.method : 'pcg'})`).toBeLessThanOrEqual(tolerance);
                // The reported residual is the residual of the returned x, up to the rounding of one apply.
                const recomputed = distance(referenceMatVec(g.dense, x, g.n), b);
                expect(Math.abs(r.residualNorm - recomputed)).toBeLessThanOrEqual(64 * g.n * u * (frobenius(g.dense) * norm(x) + norm(b)));
              }
            });
          });

          it('PCG with the exact inverse as preconditioner converges in one iteration', () => {
            property([structure], (g, seed) => {
              const inverse = new Float64Array(g.n * g.n);
              for (let j = 0; j < g.n; j++) {
                const e = new Float64Array(g.n);
                e[j] = 1;
                const column = referenceSpdSolve(g.dense, e, g.n);
                for (let i = 0; i < g.n; i++) inverse[i * g.n + j] = column[i];
              }
              for (let i = 0; i < g.n; i++)
                for (let j = 0; j < i; j++) inverse[i * g.n + j] = inverse[j * g.n + i] = 0.5 * (inverse[i * g.n + j] + inverse[j * g.n + i]);
              const M = new DenseOperator(upload(stored(inverse), [g.n, g.n]), { shape: g.operator.shape, psd: true });
              const r = pcg(g.operator, upload(vector(g, seed), g.operator.shape), {
                preconditioner: M,
                rtol: 64 * g.n * u * g.condition,
                maxIterations: 5,
              });
              expect(r.status, r.message).toBe('converged');
              expect(r.iterations).toBe(1);
            });
          });
        });
      }

      it('the exact two-Kronecker solve equals the dense solve', () => {
        property(['sum-of-two-kroneckers'], (g, seed) => {
          const b = vector(g, seed);
          const bt = upload(b, g.operator.shape);
          expect(dispatchRule('solve', g.operator, bt, {})).toBe('two-kroneckers');
          const r = solve(g.operator, bt, { rtol: 1e-30, maxIterations: 0 });
          // rtol 1e-30 and no iterations: a closed-form answer short of it stays as it is
          // (status maxIterations), so this checks the closed form alone.
          const expected = referenceSpdSolve(g.dense, b, g.n);
          expect(r.method).toMatch(/^two-kroneckers/);
          expect(distance(host(r.x), expected)).toBeLessThanOrEqual(64 * g.n * u * g.condition * norm(expected));
        });
      });

      it("an indefinite operator gives 'indefinite', never a silent step", () => {
        property(['diagonal', 'kronecker', 'sum-of-kroneckers', 'mixed-sum', 'dense'], (g) => {
          // A - c I with c between the extreme eigenvalues is indefinite; b along the
          // eigenvector of the smallest one meets negative curvature at the first step.
          fc.pre(g.lambdaMax - g.lambdaMin > 1e-3 * g.lambdaMax);
          const c = stored(Float64Array.of(0.5 * (g.lambdaMin + g.lambdaMax)))[0];
          const shifted = new SumOperator([g.operator, new ScaledOperator(-c, new IdentityOperator(backend, g.operator.shape))]);
          const { vectors } = referenceSymmetricEigen(g.dense, g.n);
          const b = stored(Float64Array.from({ length: g.n }, (_, i) => vectors[i * g.n]));
          const r = pcg(shifted, upload(b, g.operator.shape), { rtol: 1e-12 });
          expect(r.status, r.message).toBe('indefinite');
          expect(r.iterations).toBe(0);
          expect(r.message).toMatch(/not positive definite/);
        });
      });

      it("NaN or Inf in b or x0 gives 'nonFinite'", () => {
        property(['kronecker', 'sum-of-kroneckers', 'diagonal'], (g, seed) => {
          const b = vector(g, seed);
          const bad = Float64Array.from(b);
          bad[seed % g.n] = seed % 2 ? NaN : Infinity;
          const fromB = pcg(g.operator, upload(bad, g.operator.shape));
          expect(fromB.status, fromB.message).toBe('nonFinite');
          const fromX0 = pcg(g.operator, upload(b, g.operator.shape), { x0: upload(bad, g.operator.shape) });
          expect(fromX0.status, fromX0.message).toBe('nonFinite');
          expect(solve(g.operator, upload(bad, g.operator.shape)).status).toBe('nonFinite');
        });
      });
    });
  }
}
