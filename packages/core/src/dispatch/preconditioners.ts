/**
 * Preconditioners as operators approximating A^-1, each built once per operator and cached
 * beside it: Jacobi (inverse of the exact diagonal), exact inverses where a closed form
 * exists, and the Kronecker approximations of a Sum of Kroneckers.
 */
import type { Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import { NoDiagonalError } from '../operators/dense-of.js';
import { derived } from '../operators/derived.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import type { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { adoptTensors } from '../operators/owned.js';
import { NO_PRECONDITIONER, type ResolvedPreconditioner } from '../solver/resolved-preconditioner.js';
import type { HostSquare } from '../operators/host-matrix.js';
import { cachedInverse, inverseDescription, largestFinite, type ExactInverse } from './exact-inverses.js';
import { dampedSpdInverse, IndefiniteMatrixError } from './host-dense.js';
import { kroneckerPreconditioner, type KroneckerApproximation } from './kronecker-approximation.js';

/** A resolved preconditioner: the operator applied as M ~ A^-1 (null: none), and what it is. */
export type Preconditioner = ResolvedPreconditioner;
export { NO_PRECONDITIONER };

/** The Kronecker approximation measured best (bench/src/pcg-iterations.ts): the nearest Kronecker product. */
export const DEFAULT_KRONECKER_APPROXIMATION: KroneckerApproximation = 'nearest';

/**
 * Jacobi: M = diag(A)^-1 from the exact diagonal. Entries <= 0 (a coordinate no task sees, or
 * an indefinite A) get 1, leaving that coordinate unscaled rather than dividing by zero.
 */
export function jacobi(op: LinearOperator, diagonalOf: (op: LinearOperator) => Tensor): Preconditioner {
  return derived(
    op,
    'jacobi',
    () => {
      const d = diagonalOf(op);
      const host = d.backend.toArray(d);
      const inv = new Float64Array(host.length);
      const limit = largestFinite(op.dtype);
      let unscaled = 0;
      for (let i = 0; i < host.length; i++) {
        if (host[i] > 0 && 1 / host[i] <= limit) inv[i] = 1 / host[i];
        else {
          inv[i] = 1;
          unscaled++;
        }
      }
      const t = d.backend.fromArray(inv, op.shape);
      d.backend.dispose(d);
      const operator = new DiagonalOperator(t);
      adoptTensors(operator, t);
      const note = unscaled > 0 ? `jacobi: ${unscaled} diagonal entr${unscaled === 1 ? 'y' : 'ies'} <= 0 left unscaled` : undefined;
      return { operator, description: 'jacobi', note };
    },
    (p) => p.operator?.dispose?.(),
  );
}

/** Jacobi when the diagonal is known (a method or a registered rule), otherwise none. */
export function jacobiOrNone(op: LinearOperator, diagonalOf: (op: LinearOperator) => Tensor): Preconditioner {
  try {
    return jacobi(op, diagonalOf);
  } catch (e) {
    if (e instanceof NoDiagonalError) return NO_PRECONDITIONER;
    throw e;
  }
}

/** An exact inverse (cached with solve's, under cacheKey) used as the preconditioner: PCG converges in one step. */
export function exactPreconditioner(op: LinearOperator, rule: string, make: () => ExactInverse, cacheKey = 'exact'): Preconditioner {
  const inv = cachedInverse(op, cacheKey, make);
  return { operator: inv.operator, description: inverseDescription(rule, inv), note: inv.note };
}

/** The exact inverse when it exists, otherwise the fallback (a singular factor, say). */
export function exactOr(op: LinearOperator, rule: string, make: () => ExactInverse, fallback: () => Preconditioner): Preconditioner {
  try {
    return exactPreconditioner(op, rule, make);
  } catch (e) {
    if (e instanceof NotPositiveDefiniteError) return fallback();
    throw e;
  }
}

/**
 * A preconditioner built from psd factors, or, when a factor is indefinite (no damping makes it
 * positive definite), Jacobi (or none), with a note saying why: the solve then runs and reports
 * what it finds (usually 'indefinite'), as for any operator without a usable preconditioner.
 */
function orJacobiWhenIndefinite(op: LinearOperator, what: string, diagonalOf: (op: LinearOperator) => Tensor, make: () => Preconditioner): Preconditioner {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof IndefiniteMatrixError)) throw e;
    const fallback = jacobiOrNone(op, diagonalOf);
    const note = [`no ${what} preconditioner: ${e.message}; ${fallback.description} instead`, fallback.note].filter(Boolean).join('; ');
    return { ...fallback, note };
  }
}

/** (X (x) Y)^-1 from the approximation of a Sum of Kroneckers (or of one Kronecker: exact, damped if singular). */
export function kronecker(
  op: LinearOperator,
  parts: readonly KroneckerOperator[],
  variant: KroneckerApproximation,
  diagonalOf: (op: LinearOperator) => Tensor,
): Preconditioner {
  return orJacobiWhenIndefinite(op, 'Kronecker', diagonalOf, () => {
    const inv = kroneckerPreconditioner(op, parts, variant);
    const description = parts.length === 1 ? 'kronecker (inverse factors)' : `kronecker (${variant})`;
    return { operator: inv.operator, description, note: inv.note };
  });
}

/** (I (x) A)^-1, damped when A is singular. */
export function dampedGram(op: LinearOperator, a: HostSquare, rows: number, diagonalOf: (op: LinearOperator) => Tensor): Preconditioner {
  return orJacobiWhenIndefinite(op, 'Gram', diagonalOf, () => dampedGramInverse(op, a, rows));
}

function dampedGramInverse(op: LinearOperator, a: HostSquare, rows: number): Preconditioner {
  return derived(
    op,
    'gram-preconditioner',
    () => {
      const backend = op.backend!;
      const { inverse, damping } = dampedSpdInverse(backend.linalg, a.data, a.n);
      const t = backend.fromArray(inverse, [a.n, a.n]);
      const operator = new GramOperator(t, rows, { psd: true });
      adoptTensors(operator, t);
      return {
        operator,
        description: damping > 0 ? 'gram (damped inverse)' : 'exact inverse (gram)',
        note: damping > 0 ? `Gram factor singular: damped by ${damping.toExponential(1)}` : undefined,
      };
    },
    (p) => p.operator?.dispose?.(),
  );
}
