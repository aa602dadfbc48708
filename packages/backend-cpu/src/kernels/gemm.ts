/**
 * The gemm kernels: C <- C + alpha A Bp, with A row-major [m, k] and B packed into panels of
 * four columns. Self-contained functions (see monomorphic.ts); the driver is in gemm-driver.ts.
 *
 * Register tiling: a 4 x 4 block of C stays in sixteen local accumulators while p runs over
 * a slice of k, so each step does 16 multiply-adds for 8 loads. The slice (kc) keeps the four
 * rows of A and the current panel of B in L1 across the inner loop.
 */
type FloatArray = Float64Array | Float32Array;

/**
 * Packs op(B) ([k, n]) into ceil(n / 4) panels, panel j holding columns 4j..4j+3 as k rows
 * of 4 values, zero-padded past n. transB reads B as [n, k].
 */
export function packPanelsKernel(b: FloatArray, k: number, n: number, transB: boolean, out: FloatArray): void {
  const panels = (n + 3) >> 2;
  for (let jp = 0; jp < panels; jp++) {
    const base = jp * k * 4;
    for (let jj = 0; jj < 4; jj++) {
      const j = jp * 4 + jj;
      if (j >= n) {
        for (let p = 0; p < k; p++) out[base + p * 4 + jj] = 0;
      } else if (transB) {
        const row = j * k;
        for (let p = 0; p < k; p++) out[base + p * 4 + jj] = b[row + p];
      } else {
        for (let p = 0; p < k; p++) out[base + p * 4 + jj] = b[p * n + j];
      }
    }
  }
}

/** out [cols, rows] <- a [rows, cols]^T, in cache-sized tiles. */
export function transposeKernel(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  const tile = 32;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(rows, i0 + tile);
    for (let j0 = 0; j0 < cols; j0 += tile) {
      const j1 = Math.min(cols, j0 + tile);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = a[i * cols + j];
    }
  }
}

/** C [m, n] <- C + alpha A [m, k] Bp (packed panels), rows [0, m). */
export function gemmPanelsKernel(
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  bp: FloatArray,
  c: FloatArray,
  kc: number,
): void {
  const panels = (n + 3) >> 2;
  for (let p0 = 0; p0 < k; p0 += kc) {
    const p1 = Math.min(k, p0 + kc);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const r0 = i * k;
      const r1 = r0 + k;
      const r2 = r1 + k;
      const r3 = r2 + k;
      for (let jp = 0; jp < panels; jp++) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let q = jp * k * 4 + p0 * 4;
        for (let p = p0; p < p1; p++, q += 4) {
          const b0 = bp[q];
          const b1 = bp[q + 1];
          const b2 = bp[q + 2];
          const b3 = bp[q + 3];
          const x0 = a[r0 + p];
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          const x1 = a[r1 + p];
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          const x2 = a[r2 + p];
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          const x3 = a[r3 + p];
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        const j = jp * 4;
        const w = n - j;
        let o = i * n + j;
        if (w >= 4) {
          c[o] += alpha * c00; c[o + 1] += alpha * c01; c[o + 2] += alpha * c02; c[o + 3] += alpha * c03; o += n;
          c[o] += alpha * c10; c[o + 1] += alpha * c11; c[o + 2] += alpha * c12; c[o + 3] += alpha * c13; o += n;
          c[o] += alpha * c20; c[o + 1] += alpha * c21; c[o + 2] += alpha * c22; c[o + 3] += alpha * c23; o += n;
          c[o] += alpha * c30; c[o + 1] += alpha * c31; c[o + 2] += alpha * c32; c[o + 3] += alpha * c33;
        } else {
          // Last, partial panel: store only the w columns that exist.
          c[o] += alpha * c00; if (w > 1) c[o + 1] += alpha * c01; if (w > 2) c[o + 2] += alpha * c02; o += n;
          c[o] += alpha * c10; if (w > 1) c[o + 1] += alpha * c11; if (w > 2) c[o + 2] += alpha * c12; o += n;
          c[o] += alpha * c20; if (w > 1) c[o + 1] += alpha * c21; if (w > 2) c[o + 2] += alpha * c22; o += n;
          c[o] += alpha * c30; if (w > 1) c[o + 1] += alpha * c31; if (w > 2) c[o + 2] += alpha * c32;
        }
      }
    }
    // Remaining rows, one at a time.
    for (; i < m; i++) {
      const r = i * k;
      for (let jp = 0; jp < panels; jp++) {
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        let q = jp * k * 4 + p0 * 4;
        for (let p = p0; p < p1; p++, q += 4) {
          const x = a[r + p];
          c0 += x * bp[q]; c1 += x * bp[q + 1]; c2 += x * bp[q + 2]; c3 += x * bp[q + 3];
        }
        const j = jp * 4;
        const w = n - j;
        const o = i * n + j;
        c[o] += alpha * c0;
        if (w > 1) c[o + 1] += alpha * c1;
        if (w > 2) c[o + 2] += alpha * c2;
        if (w > 3) c[o + 3] += alpha * c3;
      }
    }
  }
}
