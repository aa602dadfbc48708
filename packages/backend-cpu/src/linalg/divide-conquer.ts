/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by divide and conquer
 * (Cuppen 1981, with Gu and Eisenstat's stable eigenvectors; LAPACK's dstedc / dlaed0-3).
 *
 * T is torn in two at the middle, T = diag(T1, T2) + |beta| u u^T (beta the coupling element,
 * subtracted from the two diagonal entries it joins), both halves are solved recursively
 * (tridiagonal-ql.ts below LEAF rows), and the halves' eigensystems Q1 L1 Q1^T and Q2 L2 Q2^T
 * are merged through the rank-one problem diag(L1, L2) + rho z z^T with
 * z = [last row of Q1, sign(beta) first row of Q2] / sqrt(2), rho = 2 |beta| (secular.ts).
 *
 * Deflation (dlaed2) keeps the merges cheap: a component of z below tolerance, or two close
 * eigenvalues (after a Givens rotation of their vectors), passes an eigenpair through as it
 * is. The remaining k vectors are Q S, S the k x k eigenvectors of the rank-one problem; as
 * in dlaed3 the columns are grouped by where they are nonzero (top half only, both halves
 * after a rotation, bottom half only) so that the product is two gemms of about half the size,
 * [Q1-part] S_top and [Q2-part] S_bottom: n^3 flops at the top merge, 4/3 n^3 in all without
 * deflation, in the strided gemm on every core.
 *
 * The eigenvector matrix Z [n, n] lives in the kernel memory, column-major (column j, the
 * eigenvector of values[j], is contiguous).
 */
import type { KernelLinalg } from './kernel-linalg.js';
import { solveSecular } from './secular.js';
import { tridiagonalQl } from './tridiagonal-ql.js';

/** Orders at and below which a subproblem is solved by QL (LAPACK's SMLSIZ is 25). */
const LEAF = 32;

/** Where a column of a half-merged block is nonzero. */
const TOP = 1;
const BOTH = 2;
const BOTTOM = 3;

/**
 * Solves T = tridiag(e, d, e) (d [n], e [n - 1]; both overwritten) into Z (address of n x n
 * column-major elements in the kernel memory). Returns the eigenvalues, ascending; column j of
 * Z is the unit eigenvector of the j-th.
 */
export function tridiagonalEigen(la: KernelLinalg, d: Float64Array, e: Float64Array, n: number, z: number): Float64Array {
  const v = la.view();
  v.fill(0, z / la.s, z / la.s + n * n);
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]), i < n - 1 ? Math.abs(e[i]) : 0);
  if (norm === 0) {
    for (let i = 0; i < n; i++) v[z / la.s + i * n + i] = 1;
    return new Float64Array(n);
  }
  // Scale to norm ~1 by a power of two (exact), as dstedc does.
  const scale = 2 ** -Math.round(Math.log2(norm));
  for (let i = 0; i < n; i++) d[i] *= scale;
  for (let i = 0; i < n - 1; i++) e[i] *= scale;
  const eps = la.dtype === 'float64' ? 2 ** -53 : 2 ** -24;
  solve(la, d, e, n, z, 0, n, eps);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = d[i] / scale;
  return values;
}

function solve(la: KernelLinalg, d: Float64Array, e: Float64Array, n: number, z: number, off: number, size: number, eps: number): void {
  if (size <= LEAF) {
    const { values, vectors } = tridiagonalQl(d.subarray(off, off + size), e.subarray(off, off + size - 1), size);
    const v = la.view();
    const block = z / la.s + off * n + off;
    for (let c = 0; c < size; c++) {
      d[off + c] = values[c];
      for (let r = 0; r < size; r++) v[block + c * n + r] = vectors[r * size + c];
    }
    return;
  }
  const n1 = size >> 1;
  const beta = e[off + n1 - 1];
  d[off + n1 - 1] -= Math.abs(beta);
  d[off + n1] -= Math.abs(beta);
  solve(la, d, e, n, z, off, n1, eps);
  solve(la, d, e, n, z, off + n1, size - n1, eps);
  merge(la, d, n, z, off, n1, size, beta, eps);
}

/**
 * Merges the eigensystems of the two halves of the block at (off, off), each sorted, into the
 * eigensystem of the whole block, sorted.
 */
function merge(la: KernelLinalg, d: Float64Array, n: number, z: number, off: number, n1: number, size: number, beta: number, eps: number): void {
  const s = la.s;
  const n2 = size - n1;
  const block = z + (off * n + off) * s; // column c of the block at block + c n s
  const bi = block / s;
  let v = la.view();
  // z = [last row of Q1, sign(beta) first row of Q2] / sqrt 2, rho = 2 |beta| (dlaed1, dlaed2).
  const zv = new Float64Array(size);
  const sign = beta < 0 ? -1 : 1;
  for (let c = 0; c < n1; c++) zv[c] = v[bi + c * n + n1 - 1] * Math.SQRT1_2;
  for (let c = n1; c < size; c++) zv[c] = sign * v[bi + c * n + n1] * Math.SQRT1_2;
  const rho = 2 * Math.abs(beta);
  const values = d.slice(off, off + size);
  // Both halves are sorted: merge them into one ascending order.
  const order = new Int32Array(size);
  for (let i = 0, a = 0, b = n1; i < size; i++) {
    order[i] = b >= size || (a < n1 && values[a] <= values[b]) ? a++ : b++;
  }
  const type = new Uint8Array(size);
  for (let c = 0; c < size; c++) type[c] = c < n1 ? TOP : BOTTOM;

  let maxD = 0;
  let maxZ = 0;
  for (let c = 0; c < size; c++) {
    maxD = Math.max(maxD, Math.abs(values[c]));
    maxZ = Math.max(maxZ, Math.abs(zv[c]));
  }
  const tol = 8 * eps * Math.max(maxD, maxZ);
  const kept: number[] = [];
  const deflated: number[] = [];
  if (rho * maxZ <= tol) {
    deflated.push(...order);
  } else {
    // dlaed2: walk the sorted order; pj is the last column not (yet) deflated.
    let pj = -1;
    for (let t = 0; t < size; t++) {
      const nj = order[t];
      if (rho * Math.abs(zv[nj]) <= tol) {
        deflated.push(nj);
        continue;
      }
      if (pj < 0) {
        pj = nj;
        continue;
      }
      // Close eigenvalues: a rotation of the two vectors zeroes z[pj] and deflates pj.
      let sn = zv[pj];
      let cs = zv[nj];
      const tau = Math.hypot(cs, sn);
      const gap = values[nj] - values[pj];
      cs /= tau;
      sn = -sn / tau;
      if (Math.abs(gap * cs * sn) <= tol) {
        zv[nj] = tau;
        zv[pj] = 0;
        if (type[nj] !== type[pj]) type[nj] = BOTH;
        rotateColumns(v, bi + pj * n, bi + nj * n, size, cs, sn);
        const dp = values[pj];
        const dn = values[nj];
        values[pj] = dp * cs * cs + dn * sn * sn;
        values[nj] = dp * sn * sn + dn * cs * cs;
        deflated.push(pj);
      } else {
        kept.push(pj);
      }
      pj = nj;
    }
    if (pj >= 0) kept.push(pj);
  }

  const k = kept.length;
  // Every column of the merged block, by value: the k roots and the deflated pairs.
  const entries: { value: number; root: number; column: number }[] = deflated.map((c) => ({ value: values[c], root: -1, column: c }));
  let yTop = 0;
  let yBottom = 0;
  const buffers: number[] = [];
  const alloc = (elements: number) => {
    const a = la.alloc(Math.max(1, elements));
    buffers.push(a);
    return a;
  };
  try {
    if (k > 0) {
      const dl = new Float64Array(k);
      const w = new Float64Array(k);
      kept.forEach((c, i) => {
        dl[i] = values[c];
        w[i] = zv[c];
      });
      const secular = solveSecular(dl, w, rho);
      for (let j = 0; j < k; j++) entries.push({ value: secular.values[j], root: j, column: -1 });
      // The new vectors: Q S, as two gemms over the rows where the kept columns are nonzero.
      const top = kept.map((c, i) => i).filter((i) => type[kept[i]] !== BOTTOM);
      const bottom = kept.map((c, i) => i).filter((i) => type[kept[i]] !== TOP);
      yTop = alloc(n1 * k);
      yBottom = alloc(n2 * k);
      productOfParts(la, block, n, 0, n1, top.map((i) => kept[i]), top, secular.vectors, k, yTop, alloc);
      productOfParts(la, block, n, n1, n2, bottom.map((i) => kept[i]), bottom, secular.vectors, k, yBottom, alloc);
    }
    // Deflated columns are copied aside before the block is overwritten.
    const kept1 = alloc(size * deflated.length);
    v = la.view();
    deflated.forEach((c, i) => v.copyWithin(kept1 / s + i * size, bi + c * n, bi + c * n + size));
    const deflatedSlot = new Map(deflated.map((c, i) => [c, i]));
    entries.sort((x, y) => x.value - y.value);
    entries.forEach((entry, p) => {
      d[off + p] = entry.value;
      const dst = bi + p * n;
      if (entry.root >= 0) {
        const j = entry.root;
        v.copyWithin(dst, yTop / s + j * n1, yTop / s + (j + 1) * n1);
        v.copyWithin(dst + n1, yBottom / s + j * n2, yBottom / s + (j + 1) * n2);
      } else {
        const i = deflatedSlot.get(entry.column)!;
        v.copyWithin(dst, kept1 / s + i * size, kept1 / s + (i + 1) * size);
      }
    });
  } finally {
    for (const a of buffers.reverse()) la.free(a);
  }
}

/**
 * Y [rows, k] (column-major) <- Q[row0 : row0 + rows, columns] S[indices, :], the part of the
 * new eigenvectors in one half: the block's columns that are nonzero there, times the matching
 * rows of the secular eigenvectors S [k, k] (column-major).
 */
function productOfParts(
  la: KernelLinalg,
  block: number,
  n: number,
  row0: number,
  rows: number,
  columns: number[],
  indices: number[],
  secularVectors: Float64Array,
  k: number,
  y: number,
  alloc: (elements: number) => number,
): void {
  const s = la.s;
  const m = columns.length;
  if (m === 0) {
    la.view().fill(0, y / s, y / s + rows * k);
    return;
  }
  const q = alloc(rows * m); // [rows, m] column-major
  const sp = alloc(m * k); // [m, k] column-major
  const v = la.view();
  const bi = block / s;
  columns.forEach((c, t) => v.copyWithin(q / s + t * rows, bi + c * n + row0, bi + c * n + row0 + rows));
  const si = sp / s;
  for (let j = 0; j < k; j++) for (let t = 0; t < m; t++) v[si + j * m + t] = secularVectors[j * k + indices[t]];
  la.colGemm(false, false, rows, k, m, 1, q, rows, sp, m, 0, y, rows);
}

/** [x, y] <- [c x + s y, c y - s x] on two contiguous columns (BLAS drot). */
function rotateColumns(v: Float64Array | Float32Array, x: number, y: number, length: number, c: number, s: number): void {
  for (let i = 0; i < length; i++) {
    const a = v[x + i];
    const b = v[y + i];
    v[x + i] = c * a + s * b;
    v[y + i] = c * b - s * a;
  }
}
