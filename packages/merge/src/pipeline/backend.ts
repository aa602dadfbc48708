/**
 * The compute backend named by the config. cpu is a dependency of this package; gpu is loaded
 * lazily, only when asked for, so @mats/merge never depends on gpu.js.
 */
import type { Backend } from '@mats/core';
import { createCpuBackend } from '@mats/backend-cpu';
import type { Precision } from '../safetensors/decode.js';

/** The module name is a variable so that TypeScript does not resolve it at build time. */
const GPU_PACKAGE = '@mats/backend-gpu';

/** Creates the backend, or returns a problem that says why it cannot. */
export async function createBackend(kind: 'cpu' | 'gpu', precision: Precision): Promise<Backend | { problem: string }> {
  if (kind === 'cpu') return createCpuBackend(precision);
  if (precision !== 'float32') return { problem: `backend: gpu computes in float32 only (gpu.js has no float64); set precision: float32 or backend: cpu` };
  let module: Record<string, unknown>;
  try {
    module = (await import(GPU_PACKAGE)) as Record<string, unknown>;
  } catch (e) {
    return { problem: `backend: gpu needs the package ${GPU_PACKAGE}, which could not be loaded (${(e as Error).message}); use backend: cpu` };
  }
  const create = module.createGpuBackend;
  if (typeof create !== 'function') {
    return { problem: `backend: gpu is not available: ${GPU_PACKAGE} exports no createGpuBackend; use backend: cpu` };
  }
  try {
    // The best gpu.js mode available here; the plan's log line names the one that runs.
    return (await create({ dtype: precision })) as Backend;
  } catch (e) {
    return { problem: `backend: gpu could not start: ${(e as Error).message}; use backend: cpu` };
  }
}
