/**
 * gemm on strided row-major matrices in the kernel memory: C[m, n] (ldc) += Ap Bp, with the
 * operands packed by pack.ts (or by the TypeScript driver, src/wasm/wasm-gemm.ts, for tensor
 * gemms, whose C is padded to whole tiles). The blocking follows GotoBLAS / BLIS (Goto and van
 * de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 2008): a KC-deep
 * slice of one B micro-panel stays in L1 while the micro-kernel sweeps the A micro-panels of
 * one block of rows, held in L2. The factorizations (Cholesky, the symmetric eigensolver) run
 * their bulk through it on sub-blocks of their matrices, so C has an arbitrary leading
 * dimension and ragged edges (tile.ts handles a cut tile through a scratch tile).
 *
 * With `triangle` 1 (lower) or 2 (upper), only the tiles that reach the lower (upper)
 * triangle of C are computed: a symmetric rank-k update of one triangle, half the work. The
 * rest of a tile on the diagonal is written too, and callers ignore it.
 *
 * Threads claim blocks of C (mc rows by nc columns) from the i32 counter at `counter` with an
 * atomic add, as in gemm.ts. The word after it hands each thread its own scratch tile.
 */
import { MR, TILE_SCRATCH_BYTES, tileCols, tileUpdate } from './tile';

// @ts-ignore: decorator
@inline
export function threadScratch(counter: usize, scratchBase: usize): usize {
  const slot = atomic.add<i32>(counter + 4, 1);
  return scratchBase + <usize>slot * <usize>TILE_SCRATCH_BYTES;
}

/** Rows [i0, i1) by columns [j0, j1) of C += Ap Bp, over all of k in kc slices. */
// @ts-ignore: decorator
@inline
export function stridedBlock<T>(
  i0: i32, i1: i32, j0: i32, j1: i32, m: i32, n: i32, k: i32,
  ap: usize, bp: usize, c: usize, ldc: i32, kcMax: i32, triangle: i32, scratch: usize,
): void {
  const s = <usize>sizeof<T>();
  const nr = tileCols<T>();
  const ldcBytes = <usize>ldc * s;
  for (let p0 = 0; p0 < k; p0 += kcMax) {
    const kc = min(kcMax, k - p0);
    for (let j = j0; j < j1; j += nr) {
      const bPanel = bp + (<usize>j * <usize>k + <usize>p0 * <usize>nr) * s;
      const cols = min(nr, n - j);
      for (let i = i0; i < i1; i += MR) {
        const rows = min(MR, m - i);
        if (triangle == 1 && j > i + rows - 1) continue; // entirely above the diagonal
        if (triangle == 2 && i > j + cols - 1) continue; // entirely below it
        tileUpdate<T>(kc, ap + (<usize>i * <usize>k + <usize>p0 * <usize>MR) * s, bPanel, c + <usize>i * ldcBytes + <usize>j * s, ldcBytes, rows, cols, scratch);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
export function stridedClaim<T>(
  counter: usize, m: i32, n: i32, k: i32, ap: usize, bp: usize, c: usize, ldc: i32,
  mc: i32, nc: i32, kc: i32, triangle: i32, scratchBase: usize,
): i32 {
  const scratch = threadScratch(counter, scratchBase);
  const rowBlocks = (m + mc - 1) / mc;
  const blocks = rowBlocks * ((n + nc - 1) / nc);
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const i0 = (block % rowBlocks) * mc;
    const j0 = (block / rowBlocks) * nc;
    const i1 = min(m, i0 + mc);
    const j1 = min(n, j0 + nc);
    if ((triangle == 1 && j0 > i1 - 1) || (triangle == 2 && i0 > j1 - 1)) continue;
    stridedBlock<T>(i0, i1, j0, j1, m, n, k, ap, bp, c, ldc, kc, triangle, scratch);
    done++;
  }
  return done;
}
