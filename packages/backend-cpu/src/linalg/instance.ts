/**
 * The process-wide KernelLinalg of each dtype, or undefined where the WebAssembly kernels
 * cannot run (a browser, no build) or MATS_CPU_KERNELS=typescript asks for the portable path;
 * the factorizations then fall back to their TypeScript versions (host-linalg.ts).
 */
import { resolveVariant } from '../kernel-variants.js';
import { kernelMemory } from '../wasm/kernel-memory.js';
import { KernelLinalg, type LinalgDType } from './kernel-linalg.js';

const instances = new Map<LinalgDType, KernelLinalg | undefined>();

export function kernelLinalg(dtype: LinalgDType): KernelLinalg | undefined {
  if (!instances.has(dtype)) {
    const resolved = resolveVariant({});
    const memory = resolved.variant === 'typescript' ? undefined : kernelMemory();
    instances.set(dtype, typeof memory === 'object' ? new KernelLinalg(memory, dtype, resolved.threads) : undefined);
  }
  return instances.get(dtype);
}
