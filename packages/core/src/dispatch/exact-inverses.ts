/**
 * Exact inverses of the operators that have a closed form, as operators themselves: solve
 * applies one to b, and the 'auto' preconditioner uses it (PCG then converges in one step).
 * Each is computed once per operator and cached beside it (derived), so a block solved again,
 * or used as a preconditioner, pays for its factorization once.
 */
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import { derived } from '../operators/derived.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { adoptTensors } from '../operators/owned.js';
import type { HostSquare } from '../operators/host-matrix.js';
import { unitRoundoff } from '../testing/tolerance.js';
import { psdPseudoInverse, spdInverse } from './host-dense.js';

/** A factor's inverse: by Cholesky, or its pseudo-inverse when it is singular but PSD. */
interface FactorInverse {
  inverse: Float64Array;
  /** Eigen-directions dropped as null (0 for an exact inverse). */
  dropped: number;
}

function factorInverse(backend: Backend, a: Float64Array, n: number): FactorInverse {
  try {
    return { inverse: spdInverse(backend.linalg, a, n), dropped: 0 };
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
    return psdPseudoInverse(backend.linalg, a, n, unitRoundoff(backend.dtype));
  }
}

function pseudoNote(parts: readonly [string, FactorInverse, number][]): { note?: string; pseudo?: boolean } {
  const singular = parts.filter(([, f]) => f.dropped > 0);
  if (singular.length === 0) return {};
  const what = singular.map(([name, f, n]) => `${name} drops ${f.dropped} of ${n} directions`).join(', ');
  return { pseudo: true, note: `singular (${what}): pseudo-inverse, the minimum-norm least-squares solution` };
}

/** An exact inverse, and what to tell the user about how it was made. */
export interface ExactInverse {
  readonly operator: LinearOperator;
  readonly note?: string;
  /**
   * True when the operator is singular and this is its pseudo-inverse: solve then returns the
   * minimum-norm least-squares solution, whose residual is the part of b outside the range
   * (no iteration can reduce it, so none is tried).
   */
  readonly pseudo?: boolean;
  /**
   * True for a user kind's registered solve: unverified, so it is not called an exact inverse,
   * and a miss of the tolerance is reported rather than refined by default.
   */
  readonly registered?: boolean;
}

/** How an inverse is named where it runs as a preconditioner: a registered rule is not called exact. */
export function inverseDescription(rule: string, inv: ExactInverse): string {
  return inv.registered ? `registered solve (${rule.replace(/^registered:/, '')})` : `exact inverse (${rule})`;
}

/** Caches an inverse beside op; disposing op releases it. */
export function cachedInverse(op: LinearOperator, key: string, make: () => ExactInverse): ExactInverse {
  return derived(op, key, make, (inv) => inv.operator.dispose?.());
}

/** An uploaded [n, n] host matrix, owned by whoever adopts it. */
export function upload(backend: Backend, data: Float64Array, shape: readonly number[]): Tensor {
  return backend.fromArray(data, shape);
}

/**
 * The inverse of a diagonal d: 1 / d_i, and 0 where d_i = 0 (the pseudo-inverse: a
 * coordinate that no task constrains gets 0; with consistent right-hand sides b_i = 0 there).
 */
export function diagonalInverse(backend: Backend, d: Float64Array, shape: readonly number[]): ExactInverse {
  const inv = new Float64Array(d.length);
  const limit = largestFinite(backend.dtype);
  let zeros = 0;
  for (let i = 0; i < d.length; i++) {
    // An entry so small that its inverse overflows the dtype counts as zero.
    const v = 1 / d[i];
    if (Math.abs(v) <= limit) inv[i] = v;
    else zeros++;
  }
  const t = upload(backend, inv, shape);
  const operator = new DiagonalOperator(t);
  adoptTensors(operator, t);
  if (zeros === 0) return { operator };
  return { operator, pseudo: true, note: `${zeros} zero diagonal entr${zeros === 1 ? 'y' : 'ies'}: pseudo-inverse, x = 0 there` };
}

/** The largest finite value a dtype stores. */
export function largestFinite(dtype: DType): number {
  return dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

/**
 * (G (x) A)^-1 = G^-1 (x) A^-1: two factor inverses by Cholesky; for a singular factor its
 * pseudo-inverse (the pseudo-inverse of a Kronecker product is the product of theirs).
 */
export function kroneckerInverse(k: KroneckerOperator): ExactInverse {
  const g = factorInverse(k.backend, k.hostG.data, k.hostG.n);
  const a = factorInverse(k.backend, k.hostA.data, k.hostA.n);
  const inverse = kroneckerFromHost(k.backend, g.inverse, a.inverse, k.tags.psd);
  return { ...inverse, ...pseudoNote([['G', g, k.hostG.n], ['A', a, k.hostA.n]]) };
}

/** A Kronecker operator from host factors [out, out] and [in, in]; it owns the uploads. */
export function kroneckerFromHost(backend: Backend, g: Float64Array, a: Float64Array, psd: boolean): ExactInverse {
  // Applied at every PCG iteration where it preconditions: packed once (prepare).
  const operator = KroneckerOperator.fromHost(backend, g, a, { psd, prepare: true });
  adoptTensors(operator, operator.g, operator.a);
  return { operator };
}

/** (I (x) A)^-1 = I (x) A^-1, or I (x) pinv(A) for a singular A (throws if A is indefinite). */
export function gramInverse(backend: Backend, a: HostSquare, rows: number, psd: boolean): ExactInverse {
  const inv = factorInverse(backend, a.data, a.n);
  const t = upload(backend, inv.inverse, [a.n, a.n]);
  const operator = new GramOperator(t, rows, { psd });
  adoptTensors(operator, t);
  return { operator, ...pseudoNote([['A', inv, a.n]]) };
}

/** A dense inverse by Cholesky, or the pseudo-inverse of a singular one (throws if indefinite). */
export function denseInverse(op: DenseOperator): ExactInverse {
  const inv = factorInverse(op.backend, op.host.data, op.host.n);
  const t = upload(op.backend, inv.inverse, [op.host.n, op.host.n]);
  const operator = new DenseOperator(t, { shape: op.shape, psd: op.tags.psd });
  adoptTensors(operator, t);
  return { operator, ...pseudoNote([['the matrix', inv, op.host.n]]) };
}

