/**
 * Eigenvalues and eigenvectors of a small symmetric tridiagonal matrix by the implicit QL
 * method with Wilkinson shifts (EISPACK's tql2, as in JAMA and ml-matrix): the leaves of the
 * divide and conquer solver (divide-conquer.ts). O(n^3) with a large constant, so only for
 * orders up to a few dozen.
 */

/**
 * d [n] diagonal, e [n - 1] subdiagonal (e[i] couples i and i + 1); neither is modified.
 * Returns the eigenvalues ascending and the eigenvectors, column j of the row-major [n, n]
 * `vectors` belonging to values[j].
 */
export function tridiagonalQl(dIn: ArrayLike<number>, eIn: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const d = Float64Array.from({ length: n }, (_, i) => dIn[i]);
  // tql2's e[i] couples i and i + 1 as well; e[n - 1] = 0 ends the matrix.
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = eIn[i];
  // vt[i * n + k] = V[k, i]: eigenvector i is a contiguous row, so the rotations of two
  // eigenvectors below run along memory.
  const vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vt[i * n + i] = 1;
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    let iterations = 0;
    while (m > l) {
      if (++iterations > 60) throw new Error(`tridiagonal QL: no convergence for eigenvalue ${l} of ${n} after 60 sweeps`);
      // Wilkinson shift from the leading 2 x 2 block.
      let g = d[l];
      let p = (d[l + 1] - g) / (2 * e[l]);
      let r = Math.hypot(p, 1);
      if (p < 0) r = -r;
      d[l] = e[l] / (p + r);
      d[l + 1] = e[l] * (p + r);
      const dl1 = d[l + 1];
      let h = g - d[l];
      for (let i = l + 2; i < n; i++) d[i] -= h;
      f += h;
      // Implicit QL sweep from m up to l, rotating the eigenvector columns.
      p = d[m];
      let c = 1;
      let c2 = 1;
      let c3 = 1;
      const el1 = e[l + 1];
      let s = 0;
      let s2 = 0;
      for (let i = m - 1; i >= l; i--) {
        c3 = c2;
        c2 = c;
        s2 = s;
        g = c * e[i];
        h = c * p;
        r = Math.hypot(p, e[i]);
        e[i + 1] = s * r;
        s = e[i] / r;
        c = p / r;
        p = c * d[i] - s * g;
        d[i + 1] = h + s * (c * g + s * d[i]);
        const ri = i * n;
        const rj = ri + n;
        for (let k = 0; k < n; k++) {
          h = vt[rj + k];
          vt[rj + k] = s * vt[ri + k] + c * h;
          vt[ri + k] = c * vt[ri + k] - s * h;
        }
      }
      p = (-s * s2 * c3 * el1 * e[l]) / dl1;
      e[l] = s * p;
      d[l] = c * p;
      if (!(Math.abs(e[l]) > eps * tst1)) break;
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
  // Ascending order.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[x] - d[y]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    for (let k = 0; k < n; k++) vectors[k * n + dst] = vt[src * n + k];
  });
  return { values, vectors };
}
