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
import type { HostSquare } from '../operators/host-matrix.js';
import { cachedInverse, largestFinite, type ExactInverse } from './exact-inverses.js';
import { dampedSpdInverse } from './host-dense.js';
import { kroneckerPreconditioner, type KroneckerApproximation } from './kronecker-approximation.js';

/** A resolved preconditioner: the operator applied as M ~ A^-1 (null: none), and what it is. */
export interface Preconditioner {
  readonly operator: LinearOperator | null;
  /** What runs, for logs: 'none', 'jacobi', 'exact inverse (kronecker)', 'kronecker (nearest)', ... */
  readonly description: string;
  readonly note?: string;
}

export const NO_PRECONDITIONER: Preconditioner = Object.freeze({ operator: null, description: 'none' });

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

/** An exact inverse (cached with solve's) used as the preconditioner: PCG converges in one step. */
export function exactPreconditioner(op: LinearOperator, rule: string, make: () => ExactInverse): Preconditioner {
  const inv = cachedInverse(op, 'exact', make);
  return { operator: inv.operator, description: `exact inverse (${rule})`, note: inv.note };
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

/** (X (x) Y)^-1 from the approximation of a Sum of Kroneckers (or of one Kronecker: exact, damped if singular). */
export function kronecker(op: LinearOperator, parts: readonly KroneckerOperator[], variant: KroneckerApproximation): Preconditioner {
  const inv = kroneckerPreconditioner(op, parts, variant);
  const description = parts.length === 1 ? 'kronecker (inverse factors)' : `kronecker (${variant})`;
  return { operator: inv.operator, description, note: inv.note };
}

/** (I (x) A)^-1, damped when A is singular. */
export function dampedGram(op: LinearOperator, a: HostSquare, rows: number): Preconditioner {
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
