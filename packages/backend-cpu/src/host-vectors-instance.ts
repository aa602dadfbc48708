/**
 * The process's HostVectors for the default thread count, or undefined where the WebAssembly
 * kernels cannot run or MATS_CPU_KERNELS=typescript: the entry point for code outside the
 * backend (the merge's streaming loops) that wants arrays the threaded kernels can reach.
 */
import { resolveVariant } from './kernel-variants.js';
import { hostVectorsFor, type HostVectors } from './wasm/host-vectors.js';
import { kernelMemory } from './wasm/kernel-memory.js';

export function hostVectors(): HostVectors | undefined {
  const resolved = resolveVariant({});
  if (resolved.variant === 'typescript') return undefined;
  const memory = kernelMemory();
  return typeof memory === 'object' ? hostVectorsFor(memory, resolved.threads) : undefined;
}
