export { CpuBackend, createCpuBackend } from './cpu-backend.js';
export { CpuTensor } from './cpu-tensor.js';
export { hostLinalg, cholesky, eigh, solveTriangular, type FactorizationOptions } from './host-linalg.js';
export { portableCholesky, portableEigh } from './linalg/portable.js';
export {
  CPU_KERNEL_VARIANTS,
  availableKernelVariants,
  kernelVariantAvailability,
  type CpuBackendOptions,
  type CpuKernelVariant,
} from './kernel-variants.js';
export { hostVectors } from './host-vectors-instance.js';
export type { HostVectors, HostFloatArray } from './wasm/host-vectors.js';
