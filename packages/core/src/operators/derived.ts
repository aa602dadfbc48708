/**
 * Values derived from an operator once and reused: Cholesky factors and inverses of its
 * factors, a simultaneous diagonalisation, a preconditioner. Kept beside the operator (a
 * WeakMap, so user operators get the same service) and released with it. The merge package
 * solves thousands of blocks: each factorization is computed once per operator, never per
 * solve and never per iteration.
 */
interface Entry {
  value: unknown;
  release?: (value: unknown) => void;
}

const store = new WeakMap<object, Map<string, Entry>>();

/** The value cached under key for owner, made by make() on first request. */
export function derived<T>(owner: object, key: string, make: () => T, release?: (value: T) => void): T {
  let entries = store.get(owner);
  if (!entries) {
    entries = new Map();
    store.set(owner, entries);
  }
  const hit = entries.get(key);
  if (hit) return hit.value as T;
  const value = make();
  entries.set(key, { value, release: release as ((value: unknown) => void) | undefined });
  return value;
}

/** Releases every value derived from owner (disposing the tensors they hold). */
export function releaseDerived(owner: object): void {
  const entries = store.get(owner);
  if (!entries) return;
  store.delete(owner);
  for (const { value, release } of entries.values()) release?.(value);
}
