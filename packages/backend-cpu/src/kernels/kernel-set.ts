import { gemmPanelsKernel, packPanelsKernel, transposeKernel } from './gemm.js';
import {
  addKernel,
  axpbyKernel,
  axpyKernel,
  divKernel,
  dotKernel,
  maxAbsKernel,
  mulKernel,
  scalKernel,
  scaledSumSquaresKernel,
} from './level1.js';
import { monomorphicCopy } from './monomorphic.js';
import { loadScaledKernel, packColumnPanelsKernel, packRowPanelsKernel } from './pack.js';

const kernels = {
  dot: dotKernel,
  scaledSumSquares: scaledSumSquaresKernel,
  maxAbs: maxAbsKernel,
  axpy: axpyKernel,
  axpby: axpbyKernel,
  scal: scalKernel,
  mul: mulKernel,
  div: divKernel,
  add: addKernel,
  packPanels: packPanelsKernel,
  transpose: transposeKernel,
  gemmPanels: gemmPanelsKernel,
  packRowPanels: packRowPanelsKernel,
  packColumnPanels: packColumnPanelsKernel,
  loadScaled: loadScaledKernel,
};

export type KernelSet = typeof kernels;

/** A fresh, private copy of every kernel: one per dtype keeps each copy monomorphic. */
export function createKernelSet(): KernelSet {
  const copy = {} as Record<string, unknown>;
  for (const [name, kernel] of Object.entries(kernels)) copy[name] = monomorphicCopy(kernel);
  return copy as KernelSet;
}
