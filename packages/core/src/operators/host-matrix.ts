/**
 * Validation of the matrices operators are built from (factors, diagonals, dense blocks).
 * A backend tensor is read to the host once, checked, and kept as float64 for the small
 * dense factorizations that dispatch needs later.
 */
import type { Tensor } from '../backend/backend.js';
import { formatShape } from '../backend/shape.js';
import { ShapeError } from '../backend/errors.js';
import { unitRoundoff } from '../testing/tolerance.js';

/** Thrown when an operator's data is not what the operator needs (not finite, not symmetric). */
export class InvalidOperatorError extends Error {
  override readonly name = 'InvalidOperatorError';
}

/** A square matrix copied to the host, with its order. */
export interface HostSquare {
  /** [n, n] row-major, float64. */
  readonly data: Float64Array;
  readonly n: number;
}

/**
 * Reads a square, finite, symmetric matrix tensor to the host. `what` names it in errors
 * ("KroneckerOperator factor G"). Symmetry is checked to a tolerance scaled to the dtype
 * (statistics computed in float32 are symmetric only up to rounding). `uploadedFrom`: the
 * float64 host array the tensor was just made from on a float64 backend, checked and kept
 * instead of a read-back (a fresh n^2 array; its first touches are what a read-back costs).
 */
export function readSymmetricMatrix(what: string, t: Tensor, symmetryTolerance?: number, uploadedFrom?: Float64Array): HostSquare {
  if (t.shape.length !== 2 || t.shape[0] !== t.shape[1]) {
    throw new ShapeError(`${what} must be a square 2-D matrix, got shape ${formatShape(t.shape)}`);
  }
  const n = t.shape[0];
  const data = uploadedFrom ?? hostFloat64(t);
  checkFinite(what, data, (i) => `[${Math.floor(i / n)}, ${i % n}]`);
  let scale = 0;
  for (let i = 0; i < data.length; i++) scale = Math.max(scale, Math.abs(data[i]));
  const tol = (symmetryTolerance ?? 64 * unitRoundoff(t.dtype)) * scale;
  // By tiles: M[j, i] is read down a column, which a tile keeps in cache.
  for (let i0 = 0; i0 < n; i0 += SYMMETRY_TILE) {
    for (let j0 = i0; j0 < n; j0 += SYMMETRY_TILE) {
      for (let i = i0; i < Math.min(n, i0 + SYMMETRY_TILE); i++) {
        for (let j = Math.max(i + 1, j0); j < Math.min(n, j0 + SYMMETRY_TILE); j++) {
          const a = data[i * n + j];
          const b = data[j * n + i];
          if (Math.abs(a - b) > tol) {
            throw new InvalidOperatorError(
              `${what} is not symmetric: [${i}, ${j}] = ${a} but [${j}, ${i}] = ${b} ` +
                `(tolerance ${tol.toExponential(2)}); symmetrise it, (M + M^T) / 2, or check how it was computed`,
            );
          }
        }
      }
    }
  }
  return { data, n };
}

/** Rows and columns of a tile of the symmetry check. */
const SYMMETRY_TILE = 64;

/** The tensor's values as a float64 host array: toArray's copy itself when it is one already. */
function hostFloat64(t: Tensor): Float64Array {
  const values = t.backend.toArray(t);
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

/** Reads any tensor to the host as float64 and checks that every entry is finite. */
export function readFinite(what: string, t: Tensor): Float64Array {
  const data = hostFloat64(t);
  checkFinite(what, data, (i) => `${i} (of shape ${formatShape(t.shape)})`);
  return data;
}

function checkFinite(what: string, data: Float64Array, where: (i: number) => string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InvalidOperatorError(`${what} has a non-finite entry ${data[i]} at ${where(i)}`);
    }
  }
}

/** The diagonal of a host square matrix. */
export function hostDiagonal(m: HostSquare): Float64Array {
  const d = new Float64Array(m.n);
  for (let i = 0; i < m.n; i++) d[i] = m.data[i * m.n + i];
  return d;
}

/** A label prefix for messages: the user's label if given ("layer3.weight task 2: ..."). */
export function labelled(label: string | undefined, what: string): string {
  return label ? `${label}: ${what}` : what;
}
