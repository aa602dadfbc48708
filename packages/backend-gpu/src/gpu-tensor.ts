import type { Backend, DType, Shape, Tensor } from '@mats/core';
import type { DeviceBuffer } from './device-buffer.js';

/**
 * Storage shared between a tensor and its reshaped views. buffer is null for empty tensors.
 * Operations that write a tensor swap in a new buffer (kernels cannot write the texture they
 * read), so every view sees the result.
 */
export interface GpuStorage {
  buffer: DeviceBuffer | null;
  disposed: boolean;
}

/** A float32 tensor whose elements live in a gpu.js texture (or a host array in cpu mode). */
export class GpuTensor implements Tensor {
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly size: number,
    readonly storage: GpuStorage,
  ) {}

  get disposed(): boolean {
    return this.storage.disposed;
  }
}
