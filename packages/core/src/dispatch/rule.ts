import type { ReferenceMarker } from 'typed-function';

/**
 * One dispatch rule: a typed-function signature (operator type names, most specific first),
 * a short name that tests and logs can read back (dispatchRule), and the implementation.
 */
export interface Rule {
  readonly signature: string;
  readonly rule: string;
  readonly fn: ((...args: any[]) => any) | ReferenceMarker;
}

/** The built-in operator types whose own diagonal() method is exact and cheap. */
export const OWN_DIAGONAL_TYPES = ['IdentityOperator', 'DiagonalOperator', 'DenseOperator', 'KroneckerOperator', 'GramOperator'] as const;
