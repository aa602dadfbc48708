import type { KernelSet } from './kernels/kernel-set.js';
import type { FloatArray } from './cpu-tensor.js';

/** Depth of the k slices the register-tiled kernel walks; keeps A rows and a B panel in L1. */
const KC = 256;

/**
 * Grow-only scratch buffers for packing, so a CG loop's gemms do not allocate each time.
 */
export class GemmScratch {
  private panels: FloatArray;
  private aT: FloatArray;
  constructor(private readonly create: (n: number) => FloatArray) {
    this.panels = create(0);
    this.aT = create(0);
  }
  panelBuffer(n: number): FloatArray {
    if (this.panels.length < n) this.panels = this.create(n);
    return this.panels;
  }
  transposeBuffer(n: number): FloatArray {
    if (this.aT.length < n) this.aT = this.create(n);
    return this.aT;
  }
}

/** C [m, n] <- alpha op(A) op(B) + beta C on flat row-major arrays (shapes already checked). */
export function gemmFlat(
  kernels: KernelSet,
  scratch: GemmScratch,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  b: FloatArray,
  beta: number,
  c: FloatArray,
): void {
  const size = m * n;
  if (beta === 0) c.fill(0, 0, size);
  else if (beta !== 1) kernels.scal(beta, c, size);
  if (alpha === 0 || k === 0 || size === 0) return;
  // op(A) must be row-major [m, k] for the kernel; a stored [k, m] A is transposed once.
  let rowMajorA = a;
  if (transA) {
    rowMajorA = scratch.transposeBuffer(m * k);
    kernels.transpose(a, k, m, rowMajorA);
  }
  const panels = scratch.panelBuffer(((n + 3) >> 2) * 4 * k);
  kernels.packPanels(b, k, n, transB, panels);
  kernels.gemmPanels(m, n, k, alpha, rowMajorA, panels, c, KC);
}
