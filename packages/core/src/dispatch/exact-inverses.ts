/**
 * Exact inverses of the operators that have a closed form, as operators themselves: solve
 * applies one to b, and the 'auto' preconditioner uses it (PCG then converges in one step).
 * Each is computed once per operator and cached beside it (derived), so a block solved again,
 * or used as a preconditioner, pays for its factorization once.
 */
import type { Backend, DType, Tensor } from '../backend/backend.js';
import { derived } from '../operators/derived.js';
import { DenseOperator } from '../operators/dense.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { GramOperator } from '../operators/gram.js';
import { KroneckerOperator } from '../operators/kronecker.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { adoptTensors } from '../operators/owned.js';
import type { HostSquare } from '../operators/host-matrix.js';
import { spdInverse } from './host-dense.js';

/** An exact inverse, and what to tell the user about how it was made. */
export interface ExactInverse {
  readonly operator: LinearOperator;
  readonly note?: string;
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
  return {
    operator,
    note: zeros > 0 ? `${zeros} zero diagonal entr${zeros === 1 ? 'y' : 'ies'}: pseudo-inverse, x = 0 there` : undefined,
  };
}

/** The largest finite value a dtype stores. */
export function largestFinite(dtype: DType): number {
  return dtype === 'float32' ? 3.4028234663852886e38 : Number.MAX_VALUE;
}

/** (G (x) A)^-1 = G^-1 (x) A^-1: two factor inverses by Cholesky (throws if one is singular). */
export function kroneckerInverse(k: KroneckerOperator): ExactInverse {
  const linalg = k.backend.linalg;
  return kroneckerFromHost(k.backend, spdInverse(linalg, k.hostG.data, k.hostG.n), spdInverse(linalg, k.hostA.data, k.hostA.n), k.tags.psd);
}

/** A Kronecker operator from host factors [out, out] and [in, in]; it owns the uploads. */
export function kroneckerFromHost(backend: Backend, g: Float64Array, a: Float64Array, psd: boolean): ExactInverse {
  const gt = upload(backend, g, [Math.sqrt(g.length), Math.sqrt(g.length)]);
  const at = upload(backend, a, [Math.sqrt(a.length), Math.sqrt(a.length)]);
  const operator = new KroneckerOperator(gt, at, { psd });
  adoptTensors(operator, gt, at);
  return { operator };
}

/** (I (x) A)^-1 = I (x) A^-1 (throws if A is singular). */
export function gramInverse(backend: Backend, a: HostSquare, rows: number, psd: boolean): ExactInverse {
  const t = upload(backend, spdInverse(backend.linalg, a.data, a.n), [a.n, a.n]);
  const operator = new GramOperator(t, rows, { psd });
  adoptTensors(operator, t);
  return { operator };
}

/** A dense inverse by Cholesky (throws if the matrix is not positive definite). */
export function denseInverse(op: DenseOperator): ExactInverse {
  const t = upload(op.backend, spdInverse(op.backend.linalg, op.host.data, op.host.n), [op.host.n, op.host.n]);
  const operator = new DenseOperator(t, { shape: op.shape, psd: op.tags.psd });
  adoptTensors(operator, t);
  return { operator };
}

