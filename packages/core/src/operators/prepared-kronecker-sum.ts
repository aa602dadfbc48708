/**
 * A Sum of Kronecker operators (a K-FAC merge system) applied through the backend's
 * prepareKroneckerSum where it has one: the factors are handed over once, cached beside the
 * sum and released with it. Backends without it (or that decline: not enough memory) keep the
 * generic path, two gemms per part.
 */
import type { DType, PreparedOperator } from '../backend/backend.js';
import { derived } from './derived.js';
import { KroneckerOperator } from './kronecker.js';
import type { LinearOperator } from './linear-operator.js';

const KEYS: Record<DType, string> = { float64: 'prepared-kronecker-sum:float64', float32: 'prepared-kronecker-sum:float32' };

/** The prepared sum of op's Kronecker parts in `precision` (default: op's dtype), or null. */
export function preparedKroneckerSum(op: LinearOperator & { readonly parts: readonly LinearOperator[] }, precision?: DType): PreparedOperator | null {
  return derived(
    op,
    KEYS[precision ?? op.dtype],
    () => {
      const parts = op.parts;
      if (!parts.every((p): p is KroneckerOperator => p instanceof KroneckerOperator)) return null;
      const backend = parts[0].backend;
      if (typeof backend.prepareKroneckerSum !== 'function' || parts.some((p) => p.backend !== backend)) return null;
      return backend.prepareKroneckerSum(parts.map((p) => p.g), parts.map((p) => p.a), precision === undefined ? undefined : { precision }) ?? null;
    },
    (prepared) => prepared?.dispose(),
  );
}
