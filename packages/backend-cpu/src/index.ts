export { CpuBackend, createCpuBackend } from './cpu-backend.js';
export { CpuTensor } from './cpu-tensor.js';
export { hostLinalg, cholesky, eigh, gram, solveTriangular, spdInverse, type FactorizationOptions } from './host-linalg.js';
export { portableCholesky, portableEigh, portableGram, portableSpdInverse } from './linalg/portable.js';
export {
  CPU_KERNEL_VARIANTS,
  availableKernelVariants,
  kernelVariantAvailability,
  type CpuBackendOptions,
  type CpuKernelVariant,
} from './kernel-variants.js';
export { hostVectors } from './host-vectors-instance.js';
export { nativeBlasInfo, type NativeBlasInfo } from './native/native-blas.js';
export type { HostVectors, HostFloatArray } from './wasm/host-vectors.js';
