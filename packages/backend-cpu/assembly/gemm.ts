/**
 * WebAssembly SIMD gemm kernels (AssemblyScript), float64 and float32 from one generic source.
 *
 * The driver on the JS side (src/wasm/wasm-gemm.ts) packs op(A), scaled by alpha, into
 * row panels of MR rows and op(B) into column panels of NR columns, both zero-padded, and
 * lays C out with padded rows and columns; these kernels therefore never see a ragged edge.
 * The blocking follows GotoBLAS / BLIS (Goto and van de Geijn, "Anatomy of high-performance
 * matrix multiplication", ACM TOMS 2008): a KC-deep slice of one B micro-panel stays in L1
 * while the micro-kernel sweeps the A micro-panels of one row block, held in L2.
 *
 * Memory layout, in elements of T (all offsets are byte addresses into the shared memory):
 *   packed A, row panel i (rows i..i+MR-1):   ap + (i * k + p * MR + r)
 *   packed B, column panel j (cols j..j+NR-1): bp + (j * k + p * NR + c)
 *   C, row-major with leading dimension ldc:   c + (i * ldc + j)
 *
 * Work is split into blocks of C; every thread (the caller and the workers) claims blocks from
 * a shared counter with an atomic add until none are left, so a thread that the OS parks for a
 * while does not hold back the others.
 */

import { MR, microKernel, tileCols } from './tile';

/**
 * The block of C with rows [i0, i1) and columns [j0, j1) (padded) += A B over all of k, in
 * kc slices: each B micro-panel slice is reused by every A micro-panel of the block.
 */
function gemmBlock<T>(i0: i32, i1: i32, j0: i32, j1: i32, k: i32, ap: usize, bp: usize, c: usize, ldc: i32, kcMax: i32): void {
  const s = <usize>sizeof<T>();
  const nr = tileCols<T>();
  const ldcBytes = <usize>ldc * s;
  for (let p0 = 0; p0 < k; p0 += kcMax) {
    const kc = min(kcMax, k - p0);
    for (let j = j0; j < j1; j += nr) {
      const bPanel = bp + (<usize>j * <usize>k + <usize>p0 * <usize>nr) * s;
      for (let i = i0; i < i1; i += MR) {
        microKernel<T>(kc, ap + (<usize>i * <usize>k + <usize>p0 * <usize>MR) * s, bPanel, c + (<usize>i * <usize>ldc + <usize>j) * s, ldcBytes);
      }
    }
  }
}

/**
 * C [mp, np] += A B, with mp and np padded to the tile. The work is cut into blocks of mc rows
 * by nc columns; this call claims blocks from the i32 counter at `counter` (zeroed by the
 * caller before any thread starts) until none are left. Returns how many blocks it did.
 */
// @ts-ignore: decorator
@inline
export function gemmClaim<T>(counter: usize, mp: i32, mc: i32, np: i32, nc: i32, k: i32, ap: usize, bp: usize, c: usize, kc: i32): i32 {
  const rowBlocks = (mp + mc - 1) / mc;
  const blocks = rowBlocks * ((np + nc - 1) / nc);
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const i0 = (block % rowBlocks) * mc;
    const j0 = (block / rowBlocks) * nc;
    gemmBlock<T>(i0, min(mp, i0 + mc), j0, min(np, j0 + nc), k, ap, bp, c, np, kc);
    done++;
  }
  return done;
}
