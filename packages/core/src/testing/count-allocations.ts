import type { Backend, Tensor } from '../backend/backend.js';

/**
 * The number of tensors backend allocates (zeros, fromArray) while fn runs: how tests check
 * that an operator's apply or a solver's iteration allocates nothing.
 */
export function countAllocations(backend: Backend, fn: () => void): number {
  const target = backend as unknown as Record<'zeros' | 'fromArray', (...args: unknown[]) => Tensor>;
  const own = { zeros: Object.hasOwn(target, 'zeros'), fromArray: Object.hasOwn(target, 'fromArray') };
  const saved = { zeros: target.zeros, fromArray: target.fromArray };
  let count = 0;
  target.zeros = (...args) => (count++, saved.zeros.apply(backend, args));
  target.fromArray = (...args) => (count++, saved.fromArray.apply(backend, args));
  try {
    fn();
  } finally {
    for (const key of ['zeros', 'fromArray'] as const) {
      if (own[key]) target[key] = saved[key];
      else delete (target as Partial<typeof target>)[key];
    }
  }
  return count;
}
