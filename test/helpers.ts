/** Shared helpers of the cross-package solver tests (CPU backend). */
import { createCpuBackend } from '@mats/backend-cpu';
import type { Backend, DType, Tensor } from '@mats/core';
import { generateOperator, type GeneratedOperator, type OperatorStructure } from '@mats/core/testing';

export { countAllocations } from '@mats/core/testing';

export const cpu64 = createCpuBackend('float64');
export const cpu32 = createCpuBackend('float32');
export const cpu = (dtype: DType): Backend => (dtype === 'float64' ? cpu64 : cpu32);

/** A generated SPD operator of a given structure (see @mats/core/testing's spdOperator). */
export function operator(structure: OperatorStructure, rows: number, cols: number, seed: number, backend = cpu64, terms = 3): GeneratedOperator {
  return generateOperator(backend, { structure, rows, cols, terms, seed, alpha: 2 });
}

export const host = (t: Tensor): Float64Array => Float64Array.from(t.backend.toArray(t));
export const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
export const distance = (a: ArrayLike<number>, b: ArrayLike<number>): number => norm(Array.from(a, (x, i) => x - b[i]));
