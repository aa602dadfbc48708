import type { Backend, Tensor } from './backend.js';
import { DisposedTensorError, DTypeMismatchError, ForeignTensorError, ShapeError } from './errors.js';
import { formatShape } from './shape.js';

/**
 * Checks that every tensor is alive, owned by this backend and of its dtype. Backends call
 * this at the top of each operation; dtype is checked first so that mixing precisions gets
 * the error that names both.
 */
export function checkOperands(backend: Backend, operation: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.dtype !== backend.dtype) throw new DTypeMismatchError(operation, backend.dtype, t.dtype);
    if (t.backend !== backend) {
      throw new ForeignTensorError(operation, describeBackend(t.backend), describeBackend(backend));
    }
    if (t.disposed) throw new DisposedTensorError(operation);
  }
}

/** Checks that x and y hold the same number of elements (elementwise ops work on any shape). */
export function checkSameSize(operation: string, x: Tensor, y: Tensor): void {
  if (x.size !== y.size) {
    throw new ShapeError(
      `${operation}: sizes differ, ${formatShape(x.shape)} (${x.size}) vs ${formatShape(y.shape)} (${y.size})`,
    );
  }
}

/**
 * The operands of an elementwise operation, checked (alive, owned, same dtype, same size) and
 * typed as the backend's own tensor class.
 */
export function elementwiseOperands<T extends Tensor>(backend: Backend, operation: string, ...tensors: Tensor[]): T[] {
  checkOperands(backend, operation, ...tensors);
  for (let i = 1; i < tensors.length; i++) checkSameSize(operation, tensors[0], tensors[i]);
  return tensors as T[];
}

/** Checks that [offset, offset + length) lies inside t (role names it in the error: source, destination). */
export function checkRange(operation: string, t: Tensor, offset: number, length: number, role: string): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > t.size) {
    throw new ShapeError(
      `${operation}: ${role} range [${offset}, ${offset + length}) does not fit a tensor of ${t.size} elements ${formatShape(t.shape)}`,
    );
  }
}

export function describeBackend(b: Backend): string {
  return `${b.name}/${b.mode}/${b.dtype}`;
}

/** Checks that a host array given to write or read holds exactly t's elements. */
export function checkHostLength(operation: 'write' | 'read', length: number, t: Tensor): void {
  if (length !== t.size) {
    const what = operation === 'write' ? `${length} values do not fill` : `an array of ${length} elements does not fit`;
    throw new ShapeError(`${operation}: ${what} the tensor of shape ${formatShape(t.shape)} (${t.size} elements)`);
  }
}
