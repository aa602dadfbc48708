/**
 * Packing of gemm operands that already live in the kernel memory (strided, row-major), into
 * the layouts the micro-kernel reads (tile.ts):
 *   A, row panel i (rows i..i+MR-1):    dst + (i * k + p * MR + r)
 *   B, column panel j (cols j..j+NR-1): dst + (j * k + p * NR + c)
 * zero-padded past the edge, so the micro-kernel never sees a ragged panel.
 */
import { MR, tileCols } from './tile';

/**
 * Four rows of a row-major matrix (stride lda elements), columns [0, k), interleaved: for each
 * p the four values row0[p], row1[p], row2[p], row3[p] go to dst + p * stride (elements),
 * times alpha. A 4 x 2 (f64) or 4 x 4 (f32) register transpose per step.
 */
// @ts-ignore: decorator
@inline
function interleaveFourRows<T>(src: usize, lda: i32, k: i32, alpha: T, dst: usize, stride: i32): void {
  const s = <usize>sizeof<T>();
  const ld = <usize>lda * s;
  const step = <usize>stride * s;
  const scale = alpha != <T>1;
  const va = v128.splat<T>(alpha);
  let p = 0;
  if (sizeof<T>() == 8) {
    for (; p + 2 <= k; p += 2) {
      const o = src + <usize>p * s;
      let a0 = v128.load(o);
      let a1 = v128.load(o + ld);
      let a2 = v128.load(o + 2 * ld);
      let a3 = v128.load(o + 3 * ld);
      if (scale) {
        a0 = v128.mul<T>(a0, va);
        a1 = v128.mul<T>(a1, va);
        a2 = v128.mul<T>(a2, va);
        a3 = v128.mul<T>(a3, va);
      }
      const q = dst + <usize>p * step;
      v128.store(q, v128.shuffle<i64>(a0, a1, 0, 2));
      v128.store(q, v128.shuffle<i64>(a2, a3, 0, 2), 16);
      v128.store(q + step, v128.shuffle<i64>(a0, a1, 1, 3));
      v128.store(q + step, v128.shuffle<i64>(a2, a3, 1, 3), 16);
    }
  } else {
    for (; p + 4 <= k; p += 4) {
      const o = src + <usize>p * s;
      let a0 = v128.load(o);
      let a1 = v128.load(o + ld);
      let a2 = v128.load(o + 2 * ld);
      let a3 = v128.load(o + 3 * ld);
      if (scale) {
        a0 = v128.mul<T>(a0, va);
        a1 = v128.mul<T>(a1, va);
        a2 = v128.mul<T>(a2, va);
        a3 = v128.mul<T>(a3, va);
      }
      const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5);
      const t1 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5);
      const t2 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7);
      const t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7);
      const q = dst + <usize>p * step;
      v128.store(q, v128.shuffle<i64>(t0, t1, 0, 2));
      v128.store(q + step, v128.shuffle<i64>(t0, t1, 1, 3));
      v128.store(q + 2 * step, v128.shuffle<i64>(t2, t3, 0, 2));
      v128.store(q + 3 * step, v128.shuffle<i64>(t2, t3, 1, 3));
    }
  }
  for (; p < k; p++) {
    const q = dst + <usize>p * step;
    const o = src + <usize>p * s;
    for (let r = 0; r < 4; r++) store<T>(q + <usize>r * s, alpha * load<T>(o + <usize>r * ld));
  }
}

/** dst <- alpha op(A) in row panels; op(A) is [m, k]: A [m, k] (lda), or A [k, m] when trans. */
// @ts-ignore: decorator
@inline
export function packA<T>(a: usize, lda: i32, trans: i32, m: i32, k: i32, alpha: T, dst: usize): void {
  const s = <usize>sizeof<T>();
  const va = v128.splat<T>(alpha);
  for (let i = 0; i < m; i += MR) {
    const base = dst + <usize>i * <usize>k * s;
    const rows = min(MR, m - i);
    if (trans == 0 && rows == MR) {
      interleaveFourRows<T>(a + <usize>i * <usize>lda * s, lda, k, alpha, base, MR);
      continue;
    }
    if (trans == 0) {
      for (let r = 0; r < rows; r++) {
        let src = a + <usize>(i + r) * <usize>lda * s;
        let q = base + <usize>r * s;
        for (let p = 0; p < k; p++) {
          store<T>(q, alpha * load<T>(src));
          src += s;
          q += <usize>MR * s;
        }
      }
    } else if (rows == MR) {
      // op(A)[i + r, p] = A[p, i + r]: the MR values of one panel step are adjacent in A.
      let q = base;
      for (let p = 0; p < k; p++) {
        const src = a + (<usize>p * <usize>lda + <usize>i) * s;
        v128.store(q, v128.mul<T>(v128.load(src), va));
        if (sizeof<T>() == 8) v128.store(q, v128.mul<T>(v128.load(src, 16), va), 16);
        q += <usize>MR * s;
      }
      continue;
    } else {
      let q = base;
      for (let p = 0; p < k; p++) {
        const src = a + (<usize>p * <usize>lda + <usize>i) * s;
        for (let r = 0; r < rows; r++) store<T>(q + <usize>r * s, alpha * load<T>(src + <usize>r * s));
        q += <usize>MR * s;
      }
    }
    for (let r = rows; r < MR; r++) {
      let q = base + <usize>r * s;
      for (let p = 0; p < k; p++) {
        store<T>(q, <T>0);
        q += <usize>MR * s;
      }
    }
  }
}

/** dst <- op(B) in column panels; op(B) is [k, n]: B [k, n] (ldb), or B [n, k] when trans. */
// @ts-ignore: decorator
@inline
export function packB<T>(b: usize, ldb: i32, trans: i32, k: i32, n: i32, dst: usize): void {
  const s = <usize>sizeof<T>();
  const nr = tileCols<T>();
  for (let j = 0; j < n; j += nr) {
    const base = dst + <usize>j * <usize>k * s;
    const cols = min(nr, n - j);
    if (trans == 0) {
      let q = base;
      for (let p = 0; p < k; p++) {
        const src = b + (<usize>p * <usize>ldb + <usize>j) * s;
        if (cols == nr) {
          v128.store(q, v128.load(src));
          v128.store(q, v128.load(src, 16), 16);
        } else {
          for (let c = 0; c < cols; c++) store<T>(q + <usize>c * s, load<T>(src + <usize>c * s));
          for (let c = cols; c < nr; c++) store<T>(q + <usize>c * s, <T>0);
        }
        q += <usize>nr * s;
      }
    } else if (cols == nr) {
      // op(B)[p, j + c] = B[j + c, p]: rows of the stored B, interleaved four at a time.
      for (let g = 0; g < nr; g += 4) {
        interleaveFourRows<T>(b + <usize>(j + g) * <usize>ldb * s, ldb, k, <T>1, base + <usize>g * s, nr);
      }
    } else {
      for (let c = 0; c < nr; c++) {
        let q = base + <usize>c * s;
        if (c < cols) {
          let src = b + <usize>(j + c) * <usize>ldb * s;
          for (let p = 0; p < k; p++) {
            store<T>(q, load<T>(src));
            src += s;
            q += <usize>nr * s;
          }
        } else {
          for (let p = 0; p < k; p++) {
            store<T>(q, <T>0);
            q += <usize>nr * s;
          }
        }
      }
    }
  }
}

/** C[m, n] (ldc) <- beta C; beta = 0 writes zeros (NaN in C does not leak through). */
// @ts-ignore: decorator
@inline
export function scaleMatrix<T>(c: usize, ldc: i32, m: i32, n: i32, beta: T): void {
  const s = <usize>sizeof<T>();
  for (let i = 0; i < m; i++) {
    const row = c + <usize>i * <usize>ldc * s;
    if (beta == <T>0) memory.fill(row, 0, <usize>n * s);
    else for (let j = 0; j < n; j++) store<T>(row + <usize>j * s, beta * load<T>(row + <usize>j * s));
  }
}
