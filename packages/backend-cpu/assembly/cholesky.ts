/**
 * Kernels of the blocked Cholesky factorization A = L L^T (row-major, lower triangle; the
 * driver is src/linalg/cholesky.ts): the unblocked factorization of a diagonal block and the
 * triangular solve of the rows below it. The trailing update goes through strided-gemm.ts.
 */
import { dotT } from './vector';

/**
 * L of the [nb, nb] block at a (row stride lda) in place, row by row (Cholesky-Banachiewicz:
 * every inner product runs along two contiguous rows). Returns -1, or the first pivot j whose
 * d = A[j, j] - sum_p L[j, p]^2 is not positive (d is then left at A[j, j]).
 */
// @ts-ignore: decorator
@inline
export function choleskyBlockT<T>(a: usize, lda: i32, nb: i32): i32 {
  const s = <usize>sizeof<T>();
  for (let i = 0; i < nb; i++) {
    const ri = a + <usize>i * <usize>lda * s;
    for (let j = 0; j < i; j++) {
      const rj = a + <usize>j * <usize>lda * s;
      const v = load<T>(ri + <usize>j * s) - dotT<T>(j, ri, rj);
      store<T>(ri + <usize>j * s, v / load<T>(rj + <usize>j * s));
    }
    const d = load<T>(ri + <usize>i * s) - dotT<T>(i, ri, ri);
    if (!(d > <T>0) || d - d != <T>0) {
      store<T>(ri + <usize>i * s, d);
      return i;
    }
    store<T>(ri + <usize>i * s, <T>Math.sqrt(<f64>d));
  }
  return -1;
}

/**
 * Rows of B [m, nb] (stride ldb) <- B L^-T, with L the [nb, nb] lower factor at l (stride
 * ldl): row by row, x_j = (b_j - x[0:j] . L[j, 0:j]) / L[j, j]. Threads claim blocks of
 * `blockRows` rows from the counter.
 */
// @ts-ignore: decorator
@inline
export function trsmRowsClaimT<T>(counter: usize, m: i32, nb: i32, l: usize, ldl: i32, b: usize, ldb: i32, blockRows: i32): i32 {
  const s = <usize>sizeof<T>();
  const blocks = (m + blockRows - 1) / blockRows;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const r1 = min(m, (block + 1) * blockRows);
    for (let r = block * blockRows; r < r1; r++) {
      const row = b + <usize>r * <usize>ldb * s;
      for (let j = 0; j < nb; j++) {
        const lj = l + <usize>j * <usize>ldl * s;
        const v = load<T>(row + <usize>j * s) - dotT<T>(j, row, lj);
        store<T>(row + <usize>j * s, v / load<T>(lj + <usize>j * s));
      }
    }
    done++;
  }
  return done;
}
