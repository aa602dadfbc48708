import type { Backend, DType, Shape, Tensor } from '@mats/core';

export type FloatArray = Float64Array | Float32Array;

/** A tensor in a flat row-major typed array. Reshaped views share the storage record. */
export class CpuTensor implements Tensor {
  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly size: number,
    /** Shared between a tensor and its reshaped views, so dispose reaches them all. */
    readonly storage: { data: FloatArray; disposed: boolean },
  ) {}

  get data(): FloatArray {
    return this.storage.data;
  }

  get disposed(): boolean {
    return this.storage.disposed;
  }
}
