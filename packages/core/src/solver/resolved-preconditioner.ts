/**
 * A preconditioner as the PCG loop receives it: already resolved (by dispatch, for a name
 * such as 'auto' or 'jacobi'; by the caller, for an operator). The solver layer never
 * resolves one itself, so it imports nothing from dispatch (the layers read one way:
 * dispatch -> solver -> operators -> backend).
 */
import type { LinearOperator } from '../operators/linear-operator.js';

export interface ResolvedPreconditioner {
  /** The operator applied as M ~ A^-1, or null for none. */
  readonly operator: LinearOperator | null;
  /** What runs, for logs: 'none', 'jacobi', 'exact inverse (kronecker)', 'kronecker (nearest)', ... */
  readonly description: string;
  /** Anything the user should know about it (a damped factor, a fallback). */
  readonly note?: string;
}

export const NO_PRECONDITIONER: ResolvedPreconditioner = Object.freeze({ operator: null, description: 'none' });
