/**
 * The [n, n] matrix (n = rows cols) of W -> G W A on an [rows, cols] block flattened
 * row-major: entry [(r, c), (r2, c2)] = G[r, r2] A[c2, c], since out[r, c] =
 * sum G[r, r2] W[r2, c2] A[c2, c]. g null stands for the identity (the Gram operator).
 */
export function kroneckerMatrix(g: Float64Array | null, a: Float64Array, rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const m = new Float64Array(n * n);
  for (let r = 0; r < rows; r++)
    for (let r2 = 0; r2 < rows; r2++) {
      const grr = g ? g[r * rows + r2] : r === r2 ? 1 : 0;
      if (grr === 0) continue;
      for (let c = 0; c < cols; c++) for (let c2 = 0; c2 < cols; c2++) m[(r * cols + c) * n + r2 * cols + c2] = grr * a[c2 * cols + c];
    }
  return m;
}
