/**
 * Packing for the WebAssembly gemm (see assembly/pack.ts and assembly/tile.ts for the layouts). Self-contained
 * functions, copied once per dtype (monomorphic.ts). `out` is a view of the kernel memory;
 * offsets are in elements of that view.
 */
type FloatArray = Float64Array | Float32Array;

/**
 * out[off + i k + p mr + r] <- alpha op(A)[i + r, p] for row panels i = 0, mr, 2 mr, ...;
 * op(A) is [m, k] (A stored [m, k], or [k, m] when transA); rows past m are zero.
 */
export function packRowPanelsKernel(a: FloatArray, transA: boolean, m: number, k: number, alpha: number, mr: number, out: FloatArray, off: number): void {
  for (let i = 0; i < m; i += mr) {
    const base = off + i * k;
    const rows = Math.min(mr, m - i);
    if (!transA) {
      // Read each row of A contiguously; writes stride mr within the panel.
      for (let r = 0; r < rows; r++) {
        const src = (i + r) * k;
        for (let p = 0, q = base + r; p < k; p++, q += mr) out[q] = alpha * a[src + p];
      }
    } else {
      // op(A)[i + r, p] = A[p, i + r]: the mr values of one panel step are adjacent in A.
      for (let p = 0, q = base; p < k; p++, q += mr) {
        const src = p * m + i;
        for (let r = 0; r < rows; r++) out[q + r] = alpha * a[src + r];
      }
    }
    for (let r = rows; r < mr; r++) {
      for (let p = 0, q = base + r; p < k; p++, q += mr) out[q] = 0;
    }
  }
}

/**
 * out[off + j k + p nr + c] <- op(B)[p, j + c] for column panels j = 0, nr, 2 nr, ...;
 * op(B) is [k, n] (B stored [k, n], or [n, k] when transB); columns past n are zero.
 */
export function packColumnPanelsKernel(b: FloatArray, transB: boolean, k: number, n: number, nr: number, out: FloatArray, off: number): void {
  for (let j = 0; j < n; j += nr) {
    const base = off + j * k;
    const cols = Math.min(nr, n - j);
    if (!transB) {
      for (let p = 0, q = base; p < k; p++, q += nr) {
        const src = p * n + j;
        for (let c = 0; c < cols; c++) out[q + c] = b[src + c];
      }
    } else {
      for (let c = 0; c < cols; c++) {
        const src = (j + c) * k;
        for (let p = 0, q = base + c; p < k; p++, q += nr) out[q] = b[src + p];
      }
    }
    for (let c = cols; c < nr; c++) {
      for (let p = 0, q = base + c; p < k; p++, q += nr) out[q] = 0;
    }
  }
}

/** out[off + i ldc + j] <- beta C[i, j] for C [m, n] (beta = 0 writes zeros, NaN in C or not). */
export function loadScaledKernel(c: FloatArray, m: number, n: number, beta: number, out: FloatArray, off: number, ldc: number): void {
  for (let i = 0; i < m; i++) {
    const dst = off + i * ldc;
    const src = i * n;
    if (beta === 0) for (let j = 0; j < n; j++) out[dst + j] = 0;
    else if (beta === 1) for (let j = 0; j < n; j++) out[dst + j] = c[src + j];
    else for (let j = 0; j < n; j++) out[dst + j] = beta * c[src + j];
  }
}
