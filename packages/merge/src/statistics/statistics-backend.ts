import type { Backend } from '@mats/core';
import { createCpuBackend } from '@mats/backend-cpu';

/**
 * Statistics are sums of many small outer products: they accumulate in float64 by default
 * (a float32 sum over thousands of examples loses digits a Gram's small eigenvalues need).
 * Any Backend can be passed instead; the sums then live in its dtype.
 */
export function defaultStatisticsBackend(): Backend {
  return createCpuBackend('float64');
}
