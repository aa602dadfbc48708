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
 * (statistics computed in float32 are symmetric only up to rounding).
 */
export function readSymmetricMatrix(what: string, t: Tensor, symmetryTolerance?: number): HostSquare {
  if (t.shape.length !== 2 || t.shape[0] !== t.shape[1]) {
    throw new ShapeError(`${what} must be a square 2-D matrix, got shape ${formatShape(t.shape)}`);
  }
  const n = t.shape[0];
  const data = Float64Array.from(t.backend.toArray(t));
  checkFinite(what, data, (i) => `[${Math.floor(i / n)}, ${i % n}]`);
  let scale = 0;
  for (let i = 0; i < data.length; i++) scale = Math.max(scale, Math.abs(data[i]));
  const tol = (symmetryTolerance ?? 64 * unitRoundoff(t.dtype)) * scale;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
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
  return { data, n };
}

/** Reads any tensor to the host as float64 and checks that every entry is finite. */
export function readFinite(what: string, t: Tensor): Float64Array {
  const data = Float64Array.from(t.backend.toArray(t));
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
