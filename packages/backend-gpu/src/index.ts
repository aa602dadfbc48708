export { GpuBackend, createGpuBackend } from './gpu-backend.js';
export type { GpuBackendOptions } from './gpu-backend.js';
export { GpuTensor } from './gpu-tensor.js';
export type { GpuStorage } from './gpu-tensor.js';
export { GpuKernelFallbackError, GpuUnavailableError } from './errors.js';
export { ALL_MODES, GL_MODES, chooseMode, unavailableReason } from './modes.js';
export type { GpuMode } from './modes.js';
export type { ReductionStrategy } from './reductions.js';
