/**
 * Tensors an operator created itself (add(D1, D2) makes the summed diagonal; dispatch makes
 * inverses of factors): the operator owns them and releases them on dispose. Tensors a caller
 * passes to a constructor stay the caller's.
 */
import type { Tensor } from '../backend/backend.js';
import { derived, releaseDerived } from './derived.js';

/** Marks tensors as owned by owner, to be disposed with it. */
export function adoptTensors(owner: object, ...tensors: Tensor[]): void {
  const list = derived<Tensor[]>(owner, 'owned-tensors', () => [], (ts) => ts.forEach((t) => t.backend.dispose(t)));
  list.push(...tensors);
}

/** Releases everything owned by or derived from owner. */
export function releaseOwned(owner: object): void {
  releaseDerived(owner);
}
