/**
 * gemm on the WebAssembly SIMD kernels (assembly/strided-gemm.ts on operands padded to whole
 * tiles), on one thread or several.
 *
 * op(A) (scaled by alpha) and op(B) are packed into the shared kernel memory in the layouts
 * the micro-kernel reads, C is copied in (scaled by beta) with padded rows and columns, the
 * kernel runs on every thread over blocks of C claimed from an atomic counter, and C is copied
 * back. Packing and the copies are O(mn + nk + mk) against the O(mnk) product.
 */
import type { DType } from '@mats/core';
import type { FloatArray } from '../cpu-tensor.js';
import type { KernelSet } from '../kernels/kernel-set.js';
import { COUNTER_ADDRESS, TILE_SCRATCH_ADDRESS, type KernelMemory } from './kernel-memory.js';

/** Register tile of each dtype's micro-kernel: MR rows by NR columns (two 16-byte vectors). */
const TILE = { float64: { mr: 4, nr: 4 }, float32: { mr: 4, nr: 8 } } as const;
/** Depth of a k slice: a B micro-panel slice (KC x NR) stays in L1. */
const KC = 256;
/** Rows of a block of C: an A block (MC x KC) stays in L2. */
const MC_MAX = 128;
const MC_MIN = 16;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

export class WasmGemm {
  private readonly tile: { mr: number; nr: number };
  private readonly exportName: 'stridedGemmF64' | 'stridedGemmF32';
  private readonly bytesPerElement: number;

  constructor(
    private readonly kernelMemory: KernelMemory,
    private readonly kernels: KernelSet,
    dtype: DType,
    /** Threads to use, the caller's included. */
    readonly threads: number,
    /** Products with fewer multiply-adds (m n k) than this run on the calling thread alone. */
    private readonly threadMinWork: number,
  ) {
    this.tile = TILE[dtype];
    this.exportName = dtype === 'float64' ? 'stridedGemmF64' : 'stridedGemmF32';
    this.bytesPerElement = dtype === 'float64' ? 8 : 4;
  }

  async warmUp(): Promise<void> {
    if (this.threads > 1) await this.kernelMemory.workers().ready(this.threads - 1);
  }

  /** Helper threads in this process's last threaded gemm; 0 after a single-threaded one. */
  get lastHelpers(): number {
    return this.lastRunThreaded ? this.kernelMemory.workers().lastJobHelpers : 0;
  }

  private lastRunThreaded = false;

  /**
   * C [m, n] <- alpha op(A) op(B) + beta C. Returns false, having done nothing, when the
   * packed operands do not fit the 4 GiB a WebAssembly memory can address, or the memory
   * cannot grow to hold them.
   */
  run(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: FloatArray, b: FloatArray, beta: number, c: FloatArray): boolean {
    const { mr, nr } = this.tile;
    const s = this.bytesPerElement;
    const mp = roundUp(m, mr);
    const np = roundUp(n, nr);
    const memory = this.kernelMemory;
    const workspace = memory.tryAlloc((mp * k + k * np + mp * np) * s);
    if (workspace === undefined) return false; // the memory cannot hold it: use the TS kernel
    try {
      const views = memory.view();
      const heap = s === 8 ? views.f64 : views.f32;
      const ap = workspace / s;
      const bp = ap + mp * k;
      const cp = bp + k * np;
      this.kernels.packRowPanels(a, transA, m, k, alpha, mr, heap, ap);
      this.kernels.packColumnPanels(b, transB, k, n, nr, heap, bp);
      this.kernels.loadScaled(c, m, n, beta, heap, cp, np);

      const threads = m * n * k >= this.threadMinWork ? this.threads : 1;
      const { mc, nc } = blocking(mp, np, mr, nr, threads);
      this.lastRunThreaded = threads > 1;
      // C is padded to whole tiles here, so the strided kernel never takes its edge path.
      memory.runClaim(this.exportName, [COUNTER_ADDRESS, mp, np, k, ap * s, bp * s, cp * s, np, mc, nc, KC, 0, TILE_SCRATCH_ADDRESS], threads);
      for (let i = 0; i < m; i++) c.set(heap.subarray(cp + i * np, cp + i * np + n), i * n);
    } finally {
      memory.heap.release(workspace);
    }
    return true;
  }
}

/**
 * Blocks of C for `threads` threads: at most MC_MAX rows each, and enough blocks (about four
 * per thread) that threads claiming them dynamically finish close together. Rows are split
 * first, down to MC_MIN; a short, wide C is split by columns as well.
 */
export function blocking(mp: number, np: number, mr: number, nr: number, threads: number): { mc: number; nc: number } {
  if (threads <= 1) return { mc: Math.min(mp, MC_MAX), nc: np };
  const target = 4 * threads;
  const mc = Math.min(MC_MAX, mp, Math.max(MC_MIN, roundUp(Math.ceil(mp / target), mr)));
  const rowBlocks = Math.ceil(mp / mc);
  const nc = rowBlocks >= target ? np : Math.max(nr, roundUp(Math.ceil(np / Math.ceil(target / rowBlocks)), nr));
  return { mc, nc };
}
