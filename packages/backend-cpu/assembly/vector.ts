/**
 * Vector and matrix-vector kernels for the factorizations: contiguous vectors, matrices as
 * rows of the kernel memory with a stride (lda, in elements). SIMD over 16-byte vectors with
 * two accumulators (hides the add latency); scalar tails.
 */

/** sum_i x_i y_i over n elements, accumulated in T. */
// @ts-ignore: decorator
@inline
export function dotT<T>(n: i32, x: usize, y: usize): T {
  const s = <usize>sizeof<T>();
  const lanes = 16 / <i32>s;
  let acc0 = v128.splat<T>(<T>0);
  let acc1 = v128.splat<T>(<T>0);
  let i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const o = <usize>i * s;
    acc0 = v128.add<T>(acc0, v128.mul<T>(v128.load(x + o), v128.load(y + o)));
    acc1 = v128.add<T>(acc1, v128.mul<T>(v128.load(x + o, 16), v128.load(y + o, 16)));
  }
  acc0 = v128.add<T>(acc0, acc1);
  let sum: T = <T>0;
  if (sizeof<T>() == 8) {
    sum = <T>(v128.extract_lane<f64>(acc0, 0) + v128.extract_lane<f64>(acc0, 1));
  } else {
    sum = <T>(v128.extract_lane<f32>(acc0, 0) + v128.extract_lane<f32>(acc0, 1) + v128.extract_lane<f32>(acc0, 2) + v128.extract_lane<f32>(acc0, 3));
  }
  for (; i < n; i++) sum += load<T>(x + <usize>i * s) * load<T>(y + <usize>i * s);
  return sum;
}

/** y <- y + alpha x over n elements. */
// @ts-ignore: decorator
@inline
export function axpyT<T>(n: i32, alpha: T, x: usize, y: usize): void {
  const s = <usize>sizeof<T>();
  const lanes = 16 / <i32>s;
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const o = <usize>i * s;
    v128.store(y + o, v128.add<T>(v128.load(y + o), v128.mul<T>(va, v128.load(x + o))));
    v128.store(y + o, v128.add<T>(v128.load(y + o, 16), v128.mul<T>(va, v128.load(x + o, 16))), 16);
  }
  for (; i < n; i++) store<T>(y + <usize>i * s, load<T>(y + <usize>i * s) + alpha * load<T>(x + <usize>i * s));
}

/** x <- alpha x over n elements. */
// @ts-ignore: decorator
@inline
export function scalT<T>(n: i32, alpha: T, x: usize): void {
  const s = <usize>sizeof<T>();
  const lanes = 16 / <i32>s;
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i + lanes <= n; i += lanes) v128.store(x + <usize>i * s, v128.mul<T>(va, v128.load(x + <usize>i * s)));
  for (; i < n; i++) store<T>(x + <usize>i * s, alpha * load<T>(x + <usize>i * s));
}

/** y[j] <- alpha (row j of A) . x + beta y[j], for j < rows; rows of A hold n elements (stride lda). */
// @ts-ignore: decorator
@inline
export function dotRowsT<T>(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: T, beta: T): void {
  const s = <usize>sizeof<T>();
  for (let j = 0; j < rows; j++) {
    const d = dotT<T>(n, a + <usize>j * <usize>lda * s, x);
    const yj = y + <usize>j * s;
    store<T>(yj, beta == <T>0 ? alpha * d : alpha * d + beta * load<T>(yj));
  }
}

/** y[0:n] <- y + alpha sum_j x[j] (row j of A), j < rows. */
// @ts-ignore: decorator
@inline
export function axpyRowsT<T>(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: T): void {
  const s = <usize>sizeof<T>();
  for (let j = 0; j < rows; j++) {
    const w = alpha * load<T>(x + <usize>j * s);
    if (w != <T>0) axpyT<T>(n, w, a + <usize>j * <usize>lda * s, y);
  }
}

/**
 * The symmetric y = A x from one triangle: memory row j holds A[j, j..n) (the lower triangle
 * of a column-major matrix, or the upper of a row-major one). Row j adds A[j, j] x_j + A[j, j+1:] . x[j+1:]
 * to y_j and x_j A[j, j+1:] to y[j+1:], in one pass over the row: the triangle is read once.
 *
 * Threads claim blocks of `blockRows` rows from the counter and accumulate into their own
 * y (yPrivate + slot * n, zeroed here); the caller sums the private vectors.
 */
// @ts-ignore: decorator
@inline
export function symvClaimT<T>(counter: usize, n: i32, a: usize, lda: i32, x: usize, yPrivate: usize, blockRows: i32): i32 {
  const s = <usize>sizeof<T>();
  const slot = atomic.add<i32>(counter + 4, 1);
  const y = yPrivate + <usize>slot * <usize>n * s;
  memory.fill(y, 0, <usize>n * s);
  const blocks = (n + blockRows - 1) / blockRows;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const j1 = min(n, (block + 1) * blockRows);
    for (let j = block * blockRows; j < j1; j++) {
      const row = a + (<usize>j * <usize>lda + <usize>j) * s;
      const xj = load<T>(x + <usize>j * s);
      const vx = v128.splat<T>(xj);
      // One pass over the row: dot with x[j+1:], and y[j+1:] += x_j row.
      let acc0 = v128.splat<T>(<T>0);
      let acc1 = v128.splat<T>(<T>0);
      const lanes = 16 / <i32>s;
      let q = j + 1;
      for (; q + 2 * lanes <= n; q += 2 * lanes) {
        const o = <usize>q * s;
        const r0 = v128.load(a + <usize>j * <usize>lda * s + o);
        const r1 = v128.load(a + <usize>j * <usize>lda * s + o, 16);
        acc0 = v128.add<T>(acc0, v128.mul<T>(r0, v128.load(x + o)));
        acc1 = v128.add<T>(acc1, v128.mul<T>(r1, v128.load(x + o, 16)));
        v128.store(y + o, v128.add<T>(v128.load(y + o), v128.mul<T>(vx, r0)));
        v128.store(y + o, v128.add<T>(v128.load(y + o, 16), v128.mul<T>(vx, r1)), 16);
      }
      acc0 = v128.add<T>(acc0, acc1);
      let tail: T = <T>0;
      if (sizeof<T>() == 8) {
        tail = <T>(v128.extract_lane<f64>(acc0, 0) + v128.extract_lane<f64>(acc0, 1));
      } else {
        tail = <T>(v128.extract_lane<f32>(acc0, 0) + v128.extract_lane<f32>(acc0, 1) + v128.extract_lane<f32>(acc0, 2) + v128.extract_lane<f32>(acc0, 3));
      }
      for (; q < n; q++) {
        const o = <usize>q * s;
        const aq = load<T>(a + <usize>j * <usize>lda * s + o);
        tail += aq * load<T>(x + o);
        store<T>(y + o, load<T>(y + o) + xj * aq);
      }
      store<T>(y + <usize>j * s, load<T>(y + <usize>j * s) + load<T>(row) * xj + tail);
    }
    done++;
  }
  return done;
}
