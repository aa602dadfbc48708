/**
 * The Gram matrix of m long vectors (src/linalg/gram.ts): G[i, j] = <v_i, v_j>, the
 * Frobenius inner products behind the nearest Kronecker product of a Sum of Kroneckers.
 * Each vector is read once from memory: threads claim chunks of columns small enough that the
 * m rows of a chunk stay in cache while its m (m + 1) / 2 dot products run over them.
 */
import { dotT } from './vector';

/**
 * For each chunk c of `chunk` columns of V [m, length] (row stride ldv) claimed from the
 * counter, the lower triangle of V[:, chunk c] V[:, chunk c]^T into partials + c m^2
 * (row-major [m, m]); the caller adds the chunks' partials in chunk order, so the sum does
 * not depend on the thread count.
 */
// @ts-ignore: decorator
@inline
export function gramClaimT<T>(counter: usize, m: i32, length: i32, v: usize, ldv: i32, chunk: i32, partials: usize): i32 {
  const s = <usize>sizeof<T>();
  const chunks = (length + chunk - 1) / chunk;
  let done = 0;
  for (;;) {
    const c = atomic.add<i32>(counter, 1);
    if (c >= chunks) break;
    const j0 = <usize>c * <usize>chunk;
    const len = min(length, (c + 1) * chunk) - c * chunk;
    const out = partials + <usize>c * <usize>m * <usize>m * s;
    for (let i = 0; i < m; i++) {
      const ri = v + (<usize>i * <usize>ldv + j0) * s;
      for (let j = 0; j <= i; j++) {
        store<T>(out + (<usize>i * <usize>m + <usize>j) * s, dotT<T>(len, ri, v + (<usize>j * <usize>ldv + j0) * s));
      }
    }
    done++;
  }
  return done;
}
