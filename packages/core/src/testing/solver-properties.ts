/**
 * The solver property suite: every backend package runs it on itself (after its conformance
 * suite), so operators, dispatch and PCG are checked on every backend and dtype, against plain
 * float64 references; an operator author runs it over their own kinds (alone, scaled, plus a
 * diagonal, in a block-diagonal) to see dispatch and PCG handle them like the built-in
 * structures. Tolerances come from the dtype's unit roundoff u, the block size n and the
 * operator's condition number kappa, so a float32 backend gets float32 tolerances and a wrong
 * kernel or convention fails in either precision.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { diagonal, solve } from '../dispatch/api.js';
import { dispatchRule } from '../dispatch/registration.js';
import { DenseOperator } from '../operators/dense.js';
import { denseOf } from '../operators/dense-of.js';
import { IdentityOperator } from '../operators/identity.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { pcg } from '../dispatch/pcg-api.js';
import { describeGenerated, OPERATOR_STRUCTURES, spdOperator, type GeneratedOperator, type OperatorStructure } from './arbitraries.js';
import { CheckFailure, num, requireAtMost } from './check-failure.js';
import { KIND_COMPOSITIONS, kindStructure, type KindComposition, type OperatorKindGenerator } from './kind-arbitraries.js';
import { distance, norm, transposed, worstEntry } from './matrices.js';
import { NOT_APPLICABLE, runProperty, type CheckResult } from './property-runner.js';
import { randomArray } from './random.js';
import { referenceMatVec, referenceSpdSolve, referenceSymmetricEigen } from './reference.js';
import { unitRoundoff } from './tolerance.js';

export interface SolverPropertiesOptions {
  /** Creates a backend of the given dtype (the suite never disposes backends). */
  create(dtype: DType): Backend;
  dtypes: readonly DType[];
  /** Runs per property (default 15). */
  numRuns?: number | undefined;
  /** Built-in structures to test (default: all of them, or none when `kinds` is given). */
  structures?: readonly OperatorStructure[] | undefined;
  /** Kinds of your own, tested in every composition of `compositions` (they must draw SPD operators). */
  kinds?: readonly OperatorKindGenerator[] | undefined;
  /** The compositions kinds are tested in (default all: alone, scaled, plus-diagonal, block-diagonal). */
  compositions?: readonly KindComposition[] | undefined;
  /** Any arbitrary of generated SPD operators, tested as one more group (like a kind's). */
  operators?: ((backend: Backend) => fc.Arbitrary<GeneratedOperator>) | undefined;
  /** More fast-check parameters (seed, path, ...), e.g. to rerun a reported case. */
  fastCheck?: fc.Parameters<[[GeneratedOperator, number]]> | undefined;
}

/** A group of operators the per-structure properties run on: one structure, or one kind's composition. */
interface Group {
  readonly name: string;
  readonly arbitrary: (backend: Backend) => fc.Arbitrary<GeneratedOperator>;
  /** A user's (a kind, or the operators option): SPD is checked, not assumed; tolerances allow for a float64 reference. */
  readonly kind: boolean;
}

/** Structures the indefinite and nonFinite properties run on, of the built-in ones. */
const INDEFINITE_STRUCTURES: readonly OperatorStructure[] = ['diagonal', 'kronecker', 'sum-of-kroneckers', 'mixed-sum', 'dense'];
const NON_FINITE_STRUCTURES: readonly OperatorStructure[] = ['kronecker', 'sum-of-kroneckers', 'diagonal'];

export function describeSolverProperties(label: string, options: SolverPropertiesOptions): void {
  const numRuns = options.numRuns ?? 15;
  const kinds = options.kinds ?? [];
  const structures = options.structures ?? (kinds.length > 0 || options.operators ? [] : OPERATOR_STRUCTURES);
  const groups: Group[] = [
    ...structures.map((s) => ({ name: s, arbitrary: (b: Backend) => spdOperator(b, { structures: [s] }), kind: false })),
    ...kinds.flatMap((k) =>
      (options.compositions ?? KIND_COMPOSITIONS).map((c) => ({ name: kindStructure(k.kind, c), arbitrary: (b: Backend) => spdOperator(b, { kinds: [k], compositions: [c] }), kind: true })),
    ),
    ...(options.operators ? [{ name: 'generated operators', arbitrary: options.operators, kind: true }] : []),
  ];
  const among = (wanted: readonly OperatorStructure[]) => structures.filter((s) => wanted.includes(s));

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

      /** Runs check on operators of the given arbitraries (and a seed for vectors), as one property. */
      const property = (name: string, arbitraries: readonly fc.Arbitrary<GeneratedOperator>[], check: (g: GeneratedOperator, seed: number) => CheckResult) =>
        runProperty(name, fc.tuple(arbitraries.length === 1 ? arbitraries[0] : fc.oneof(...arbitraries), fc.integer({ min: 1, max: 1e6 })), ([g, seed]) => check(g, seed), {
          numRuns,
          describe: ([g, seed]) => `${describeGenerated(g)}; vectors from seed ${seed}`,
          parameters: options.fastCheck,
        });

      for (const group of groups) {
        describe(group.name, () => {
          const prop = (name: string, check: (g: GeneratedOperator, seed: number) => CheckResult) =>
            it(name, (context) => {
              if (property(name, [group.arbitrary(backend)], check) === NOT_APPLICABLE) context.skip('does not apply to these operators');
            });

          if (group.kind) {
            prop('is symmetric positive definite, as spdOperator needs', (g) => {
              const gap = distance(g.dense, transposed(g.dense, g.n));
              requireAtMost(gap, 64 * g.n * u * norm(g.dense), {
                compared: `the reference matrix${g.fromReference ? " (the generator's matrix())" : ' (the matrix apply gives)'} against its transpose`,
                quantity: '||A - A^T||_F',
                bound: '64 n u ||A||_F',
                cause: g.fromReference ? "the generator's matrix() is not symmetric" : 'apply is not symmetric (the operator conformance suite says where)',
              });
              if (g.lambdaMin > 0) return;
              throw new CheckFailure({
                compared: 'the smallest eigenvalue of the reference matrix',
                observed: `lambda_min = ${num(g.lambdaMin)} (lambda_max = ${num(g.lambdaMax)})`,
                allowed: 'lambda_min > 0',
                cause: `these parameters give an operator that is not positive definite${g.operator.tags?.psd ? ', though it is tagged psd' : ''}: the generator must draw SPD ones`,
              });
            });
          }

          prop('apply equals the reference matrix times x', (g, seed) => {
            if (!g.fromReference) return NOT_APPLICABLE;
            const x = vector(g, seed);
            const out = backend.zeros(g.operator.shape);
            g.operator.apply(upload(x, g.operator.shape), out);
            const expected = referenceMatVec(g.dense, x, g.n);
            const w = worstEntry(host(out), expected, 1);
            requireAtMost(distance(host(out), expected), 64 * g.n * u * norm(g.dense) * norm(x), {
              compared: `apply(x) against the reference matrix${'composition' in g.spec ? " (the generator's matrix())" : ''} times x; worst at index ${w.i}: apply ${num(w.a)}, reference ${num(w.b)}`,
              quantity: '||A x - M x||',
              bound: '64 n u ||M||_F ||x||',
              cause: 'apply computes another matrix than the reference: an index or range off by one?',
            });
          });

          prop('toDense (or apply on unit vectors) equals the reference matrix', (g) => {
            const dense = denseOf(g.operator, backend);
            const w = worstEntry(dense, g.dense, g.n);
            requireAtMost(distance(dense, g.dense), (g.fromReference && !group.kind ? 8 : 64 * g.n) * u * norm(g.dense), {
              compared: `denseOf(op) (${g.operator.toDense ? 'its toDense()' : 'apply on unit vectors'}) against the reference matrix; worst at entry (${w.i}, ${w.j}): ${num(w.a)} against ${num(w.b)}`,
              quantity: '||denseOf(op) - M||_F',
              bound: g.fromReference && !group.kind ? '8 u ||M||_F' : '64 n u ||M||_F',
              cause: g.operator.toDense ? 'toDense builds another matrix than the reference' : 'apply computes another matrix than the reference',
            });
          });

          prop('diagonal equals the diagonal of the reference matrix', (g) => {
            const rule = dispatchRule('diagonal', g.operator);
            const d = host(diagonal(g.operator));
            const expected = Float64Array.from({ length: g.n }, (_, i) => g.dense[i * g.n + i]);
            if (d.length !== g.n) {
              throw new CheckFailure({ compared: `diagonal(op) (rule '${rule}') against the reference diagonal`, observed: `${d.length} entries`, allowed: `${g.n}`, cause: `the diagonal rule '${rule}' returns a tensor of the wrong size` });
            }
            // Built-in diagonals are exact up to a few roundings; a kind's reference may be apply's matrix.
            const slack = group.kind ? 64 * g.n * u * norm(g.dense) : 0;
            d.forEach((v, i) =>
              requireAtMost(Math.abs(v - expected[i]), 4 * u * Math.abs(expected[i]) + slack, {
                compared: `diagonal(op) (dispatch rule '${rule}') at index ${i} (${num(v)}) against the reference diagonal (${num(expected[i])})`,
                quantity: '|difference|',
                bound: group.kind ? '4 u |d_i| + 64 n u ||M||_F' : '4 u |d_i|',
                cause: `the diagonal rule '${rule}' (or a part's diagonal rule or method) is wrong`,
              }),
            );
          });

          prop('is symmetric: <A x, y> = <x, A y>', (g, seed) => {
            const x = vector(g, seed);
            const y = vector(g, seed + 1);
            const ax = backend.zeros(g.operator.shape);
            const ay = backend.zeros(g.operator.shape);
            g.operator.apply(upload(x, g.operator.shape), ax);
            g.operator.apply(upload(y, g.operator.shape), ay);
            const axy = host(ax).reduce((s, v, i) => s + v * y[i], 0);
            const xay = host(ay).reduce((s, v, i) => s + v * x[i], 0);
            requireAtMost(Math.abs(axy - xay), 128 * g.n * u * norm(g.dense) * norm(x) * norm(y), {
              compared: `<A x, y> (${num(axy)}) against <x, A y> (${num(xay)}) for random x, y`,
              quantity: '|<A x, y> - <x, A y>|',
              bound: '128 n u ||A||_F ||x|| ||y||',
              cause: 'apply is not symmetric; CG needs it to be',
            });
          });

          prop('solve (closed form or PCG), PCG and a dense solve agree; residualNorm is ||b - A x||', (g, seed) => {
            const b = vector(g, seed);
            const expected = referenceSpdSolve(g.dense, b, g.n);
            const rtol = rtolFor(g);
            const tolerance = solutionTolerance(g) * norm(expected);
            const bt = upload(b, g.operator.shape);
            const solved = solve(g.operator, bt, { rtol, maxIterations: 20 * g.n + 20 });
            const iterated = pcg(g.operator, bt, { rtol, maxIterations: 20 * g.n + 20 });
            for (const [what, r] of [
              [`solve (method ${solved.method})`, solved],
              ['pcg', iterated],
            ] as const) {
              if (r.status !== 'converged') {
                throw new CheckFailure({
                  compared: `${what} with rtol ${num(rtol)} (8 sqrt(n) u kappa, kappa = ${num(g.condition)})`,
                  observed: `status '${r.status}': ${r.message}${r.note ? ` (note: ${r.note})` : ''}`,
                  allowed: "status 'converged'",
                  cause: 'see the message; an operator that fails the conformance suite (apply, its rules) is the usual reason',
                });
              }
              const x = host(r.x);
              requireAtMost(distance(x, expected), tolerance, {
                compared: `x from ${what} against a dense solve of the reference matrix`,
                quantity: '||x - x_dense||',
                bound: `4 kappa (rtol + 4 n u kappa) ||x_dense||, kappa = ${num(g.condition)}`,
                cause: `${what} converged to another solution than the reference matrix has: apply or a registered rule disagrees with it`,
              });
              // The reported residual is the residual of the returned x, up to the rounding of one apply.
              const recomputed = distance(referenceMatVec(g.dense, x, g.n), b);
              requireAtMost(Math.abs(r.residualNorm - recomputed), 64 * g.n * u * (norm(g.dense) * norm(x) + norm(b)), {
                compared: `residualNorm reported by ${what} (${num(r.residualNorm)}) against ||b - A x|| recomputed in float64 (${num(recomputed)})`,
                quantity: '|difference|',
                bound: '64 n u (||A||_F ||x|| + ||b||)',
                cause: 'the reported residual is not the residual of the returned x',
              });
            }
          });

          prop('PCG with the exact inverse as preconditioner converges in one iteration', (g, seed) => {
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
            const r = pcg(g.operator, upload(vector(g, seed), g.operator.shape), { preconditioner: M, rtol: 64 * g.n * u * g.condition, maxIterations: 5 });
            if (r.status === 'converged' && r.iterations === 1) return;
            throw new CheckFailure({
              compared: 'pcg with M = the inverse of the reference matrix, rtol 64 n u kappa',
              observed: `status '${r.status}' after ${r.iterations} iteration(s): ${r.message}`,
              allowed: "status 'converged' after 1 iteration",
              cause: 'apply does not compute the reference matrix, or PCG mishandles the preconditioner',
            });
          });
        });
      }

      if (structures.includes('sum-of-two-kroneckers')) {
        it('the exact two-Kronecker solve equals the dense solve', () => {
          property('the exact two-Kronecker solve equals the dense solve', [spdOperator(backend, { structures: ['sum-of-two-kroneckers'] })], (g, seed) => {
            const b = vector(g, seed);
            const bt = upload(b, g.operator.shape);
            const rule = dispatchRule('solve', g.operator, bt);
            // rtol 1e-30 and no iterations: a closed-form answer short of it stays as it is
            // (not converged), so this checks the closed form alone.
            const r = solve(g.operator, bt, { rtol: 1e-30, maxIterations: 0 });
            if (rule !== 'two-kroneckers' || !/^two-kroneckers/.test(r.method)) {
              throw new CheckFailure({ compared: 'the rule and method of solve on a Sum of two Kroneckers', observed: `rule '${rule}', method '${r.method}'`, allowed: "'two-kroneckers'", cause: 'dispatch no longer reaches the two-Kronecker closed form' });
            }
            const expected = referenceSpdSolve(g.dense, b, g.n);
            requireAtMost(distance(host(r.x), expected), 64 * g.n * u * g.condition * norm(expected), {
              compared: 'x from the two-Kronecker closed form against a dense solve',
              quantity: '||x - x_dense||',
              bound: `64 n u kappa ||x_dense||, kappa = ${num(g.condition)}`,
            });
          });
        });
      }

      const kindArbitraries = groups.filter((gr) => gr.kind).map((gr) => gr.arbitrary(backend));
      const indefinite = among(INDEFINITE_STRUCTURES);
      if (indefinite.length > 0 || kindArbitraries.length > 0) {
        const name = "an indefinite operator gives 'indefinite', never a silent step";
        it(name, () => {
          const arbitraries = [...(indefinite.length ? [spdOperator(backend, { structures: indefinite })] : []), ...kindArbitraries];
          property(name, arbitraries, (g) => {
            // A - c I with c between the extreme eigenvalues is indefinite; b along the
            // eigenvector of the smallest one meets negative curvature at the first step.
            fc.pre(g.lambdaMin > 0 && g.lambdaMax - g.lambdaMin > 1e-3 * g.lambdaMax);
            const c = stored(Float64Array.of(0.5 * (g.lambdaMin + g.lambdaMax)))[0];
            const shifted = new SumOperator([g.operator, new ScaledOperator(-c, new IdentityOperator(backend, g.operator.shape))]);
            const { vectors } = referenceSymmetricEigen(g.dense, g.n);
            const b = stored(Float64Array.from({ length: g.n }, (_, i) => vectors[i * g.n]));
            const r = pcg(shifted, upload(b, g.operator.shape), { rtol: 1e-12 });
            if (r.status === 'indefinite' && r.iterations === 0 && /not positive definite/.test(r.message)) return;
            throw new CheckFailure({
              compared: `pcg on A - ${num(c)} I (indefinite), b along the eigenvector of lambda_min`,
              observed: `status '${r.status}' after ${r.iterations} iteration(s): ${r.message}`,
              allowed: "status 'indefinite' at iteration 0, the message saying 'not positive definite'",
              cause: 'PCG stepped on negative curvature, or apply does not compute the reference matrix',
            });
          });
        });
      }

      const nonFinite = among(NON_FINITE_STRUCTURES);
      if (nonFinite.length > 0 || kindArbitraries.length > 0) {
        const name = "NaN or Inf in b or x0 gives 'nonFinite'";
        it(name, () => {
          const arbitraries = [...(nonFinite.length ? [spdOperator(backend, { structures: nonFinite })] : []), ...kindArbitraries];
          property(name, arbitraries, (g, seed) => {
            const b = vector(g, seed);
            const bad = Float64Array.from(b);
            bad[seed % g.n] = seed % 2 ? NaN : Infinity;
            const fromB = pcg(g.operator, upload(bad, g.operator.shape));
            const fromX0 = pcg(g.operator, upload(b, g.operator.shape), { x0: upload(bad, g.operator.shape) });
            const solved = solve(g.operator, upload(bad, g.operator.shape));
            const statuses = [fromB.status, fromX0.status, solved.status];
            if (statuses.every((s) => s === 'nonFinite')) return;
            throw new CheckFailure({
              compared: `the status of pcg with ${bad[seed % g.n]} in b, pcg with it in x0, and solve (method ${solved.method}) with it in b`,
              observed: statuses.map((s) => `'${s}'`).join(', '),
              allowed: "'nonFinite' for all three",
              cause: 'a non-finite input went unnoticed',
            });
          });
        });
      }
    });
  }
}
