/**
 * Kronecker preconditioners for a Sum of Kroneckers sum_i G_i (x) A_i: one product X (x) Y
 * close to the sum, applied through its inverse X^-1 (x) Y^-1 (two gemms, like one apply).
 * PCG is invariant to scaling the preconditioner, so only the directions of X and Y matter.
 *
 * - sum: X = sum_i G_i, Y = sum_i A_i (the numpy experiment in DESIGN.md §4).
 * - nearest: the Kronecker product nearest to the sum in Frobenius norm (Van Loan & Pitsianis,
 *   "Approximation with Kronecker products", 1993). Rearranging G (x) A into vec(G) vec(A)^T
 *   turns the sum into P Q^T with P = [vec G_i], Q = [vec A_i]; its best rank-one
 *   approximation u v^T gives X, Y. Writing u = P alpha, the top singular pair solves
 *   (Q^T Q)(P^T P) alpha = sigma^2 alpha, an M x M problem on the inner products <G_i, G_j>
 *   and <A_i, A_j>; symmetrised as Pg^1/2 Qa Pg^1/2 w = sigma^2 w with alpha = Pg^-1/2 w, and
 *   beta = Pg alpha gives v = Q beta. Both weight vectors are non-negative (Perron-Frobenius:
 *   psd factors have non-negative inner products), so X and Y stay psd.
 */
import type { HostLinalg } from '../backend/backend.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import { derived } from '../operators/derived.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { kroneckerFromHost, type ExactInverse } from './exact-inverses.js';
import { dampedSpdInverse, gramOfFactors, weightedSum } from './host-dense.js';

export type KroneckerApproximation = 'sum' | 'nearest';

/** Weights (alpha for the G's, beta for the A's) of the approximation X = sum alpha_i G_i, Y = sum beta_i A_i. */
export function kroneckerApproximationWeights(
  linalg: HostLinalg,
  parts: readonly KroneckerOperator[],
  variant: KroneckerApproximation,
): { alpha: number[]; beta: number[] } {
  const m = parts.length;
  if (variant === 'sum' || m === 1) return { alpha: new Array(m).fill(1), beta: new Array(m).fill(1) };
  const pg = gramOfFactors(linalg, parts.map((k) => k.hostG.data));
  const qa = gramOfFactors(linalg, parts.map((k) => k.hostA.data));
  // Pg^1/2 and its pseudo-inverse from one eigendecomposition (Pg is psd; tasks with equal
  // factors make it singular).
  const { values, vectors } = linalg.eigh(pg, m);
  const top = Math.max(...values);
  const root = new Float64Array(m * m);
  const rootInv = new Float64Array(m * m);
  for (let k = 0; k < m; k++) {
    const lambda = values[k];
    if (!(lambda > top * m * 2 ** -52)) continue;
    const sq = Math.sqrt(lambda);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        const vv = vectors[i * m + k] * vectors[j * m + k];
        root[i * m + j] += sq * vv;
        rootInv[i * m + j] += vv / sq;
      }
  }
  const c = multiply(multiply(root, qa, m), root, m);
  const eig = linalg.eigh(c, m);
  const w = Array.from({ length: m }, (_, i) => eig.vectors[i * m + (m - 1)]);
  const alpha = multiplyVector(rootInv, w, m);
  const beta = multiplyVector(pg, alpha, m);
  // Fix the sign (the eigenvector's is arbitrary) and clear rounding-level negatives.
  const sign = alpha.reduce((a, b) => a + b, 0) < 0 ? -1 : 1;
  const clean = (v: number[]) => v.map((x) => Math.max(0, sign * x));
  const a = clean(alpha);
  const b = clean(beta);
  if (a.every((x) => x === 0) || b.every((x) => x === 0)) return { alpha: new Array(m).fill(1), beta: new Array(m).fill(1) };
  return { alpha: a, beta: b };
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let p = 0; p < m; p++) for (let j = 0; j < m; j++) c[i * m + j] += a[i * m + p] * b[p * m + j];
  return c;
}

function multiplyVector(a: Float64Array, v: readonly number[], m: number): number[] {
  return Array.from({ length: m }, (_, i) => {
    let s = 0;
    for (let j = 0; j < m; j++) s += a[i * m + j] * v[j];
    return s;
  });
}

/**
 * The preconditioner (X (x) Y)^-1 for a Sum of Kroneckers, cached beside the sum. A singular
 * X or Y (a feature no task sees) is damped slightly: a preconditioner only needs to be close.
 */
export function kroneckerPreconditioner(
  sum: LinearOperator,
  parts: readonly KroneckerOperator[],
  variant: KroneckerApproximation,
): ExactInverse {
  return derived(
    sum,
    `kronecker-preconditioner:${variant}`,
    () => {
      const backend = parts[0].backend;
      const { alpha, beta } = kroneckerApproximationWeights(backend.linalg, parts, variant);
      const x = weightedSum(parts.map((k) => k.hostG.data), alpha);
      const y = weightedSum(parts.map((k) => k.hostA.data), beta);
      const xi = dampedSpdInverse(backend.linalg, x, parts[0].hostG.n);
      const yi = dampedSpdInverse(backend.linalg, y, parts[0].hostA.n);
      const inv = kroneckerFromHost(backend, xi.inverse, yi.inverse, true);
      const damped = [xi.damping > 0 ? `X damped by ${xi.damping.toExponential(1)}` : '', yi.damping > 0 ? `Y damped by ${yi.damping.toExponential(1)}` : '']
        .filter(Boolean)
        .join(', ');
      return { operator: inv.operator, note: damped ? `Kronecker preconditioner: ${damped}` : undefined };
    },
    (inv) => inv.operator.dispose?.(),
  );
}
