/**
 * The unblocked inverse of a lower triangular block (LAPACK's dtrti2), the diagonal step of
 * the blocked triangular inverse in src/linalg/spd-inverse.ts; the bulk of that inverse runs
 * through strided-gemm.ts.
 */

/**
 * L^-1 of the lower [nb, nb] block at a (row stride lda, non-unit diagonal) in place, row by
 * row: X[i, i] = 1 / L[i, i], X[i, j] = -X[i, i] sum_{k=j}^{i-1} L[i, k] X[k, j] for j < i.
 * Rows above i already hold X; row i still holds L at columns >= j when X[i, j] is written.
 * Entries above the diagonal are neither read nor written.
 */
// @ts-ignore: decorator
@inline
export function triangularInverseBlockT<T>(a: usize, lda: i32, nb: i32): void {
  const s = <usize>sizeof<T>();
  for (let i = 0; i < nb; i++) {
    const ri = a + <usize>i * <usize>lda * s;
    const inverseDiagonal = <T>1 / load<T>(ri + <usize>i * s);
    for (let j = 0; j < i; j++) {
      let sum: T = <T>0;
      for (let k = j; k < i; k++) sum += load<T>(ri + <usize>k * s) * load<T>(a + (<usize>k * <usize>lda + <usize>j) * s);
      store<T>(ri + <usize>j * s, -inverseDiagonal * sum);
    }
    store<T>(ri + <usize>i * s, inverseDiagonal);
  }
}
