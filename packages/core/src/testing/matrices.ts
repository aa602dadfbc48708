/**
 * Small float64 helpers the suites compare with: norms, the matrix apply computes (from unit
 * vectors, never toDense, so the two can be checked against each other), and the entry where
 * two matrices differ most, for messages that point at an index.
 */
import type { Backend } from '../backend/backend.js';
import { blockSize, describeOperator, type LinearOperator } from '../operators/linear-operator.js';

export const norm = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
};

export const distance = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

/**
 * The [n, n] matrix of op's apply: column j is apply(e_j), each into a fresh zero tensor (so
 * an apply that adds into out still shows its matrix here, and the check of out names it).
 * Ignores toDense on purpose, so the two can be compared.
 */
export function matrixOfApply(op: LinearOperator, backend: Backend): Float64Array {
  const n = blockSize(op);
  const m = new Float64Array(n * n);
  const unit = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    unit.fill(0);
    unit[j] = 1;
    const e = backend.fromArray(unit, op.shape);
    const column = backend.zeros(op.shape);
    op.apply(e, column);
    const values = backend.toArray(column);
    for (let i = 0; i < n; i++) m[i * n + j] = values[i];
    backend.dispose(e);
    backend.dispose(column);
  }
  return m;
}

/** The entry (i, j) where a and b differ most (NaN counts as the largest difference). */
export function worstEntry(a: ArrayLike<number>, b: ArrayLike<number>, n: number): { i: number; j: number; a: number; b: number } {
  let worst = -1;
  let at = 0;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k] - b[k]);
    const size = Number.isNaN(d) ? Infinity : d;
    if (size > worst) [worst, at] = [size, k];
  }
  return { i: Math.floor(at / n), j: at % n, a: a[at], b: b[at] };
}

/** The transpose of a row-major [n, n] matrix. */
export function transposed(m: ArrayLike<number>, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  return t;
}

/** (M + M^T) / 2: the part of M a quadratic form x^T M x sees. */
export function symmetricPart(m: ArrayLike<number>, n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
  return s;
}

/** Checks that a matrix has n * n entries; says which operator gave what. */
export function requireSquare(what: string, op: LinearOperator, m: ArrayLike<number>, n: number): void {
  if (m.length !== n * n) throw new RangeError(`${what} of ${describeOperator(op)} has ${m.length} entries, expected ${n} x ${n} = ${n * n}`);
}
