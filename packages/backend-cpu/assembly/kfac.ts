/**
 * The K-FAC sum matvec Y = sum_i G_i X A_i (DESIGN.md §3: the operator W -> G W A per model),
 * fused: a thread claims a block of mc rows of Y and, for every model, forms the block's rows
 * of T = G_i X (mc x n, in the thread's own buffer, so it stays in cache), packs them, and adds
 * T A_i to its rows of Y. Threads never share a row of Y, so the 2 M gemms of one apply need no
 * synchronisation between them, and the factors are packed once when the operator is prepared
 * (src/wasm/prepared-kronecker-sum.ts), not at every apply.
 *
 * Layouts (elements of T): G_i packed as A-operand row panels (k = m) at gp + i * gStride
 * bytes; X packed as B-operand column panels (k = m) at xp; A_i packed as B-operand column
 * panels (k = n) at ap + i * aStride bytes; Y row-major [m, n] at y. Thread buffers: slot t
 * (from the counter's second word) uses the tile scratch at tileScratch + t * 256 and the T
 * buffers at tBase + t * tStride bytes: T (mc x np, row-major), then its packed copy.
 */
import { packA } from './pack';
import { stridedBlock } from './strided-gemm';
import { TILE_SCRATCH_BYTES, tileCols } from './tile';

// @ts-ignore: decorator
@inline
export function kfacClaimT<T>(
  counter: usize, m: i32, n: i32, models: i32, gp: usize, gStride: i32, xp: usize, ap: usize, aStride: i32,
  y: usize, mc: i32, kc: i32, tileScratch: usize, tBase: usize, tStride: i32,
): i32 {
  const s = <usize>sizeof<T>();
  const nr = tileCols<T>();
  const np = (n + nr - 1) / nr * nr;
  const slot = atomic.add<i32>(counter + 4, 1);
  const scratch = tileScratch + <usize>slot * <usize>TILE_SCRATCH_BYTES;
  const tRows = tBase + <usize>slot * <usize>tStride; // T block, row-major, leading dimension np
  const tPacked = tRows + <usize>mc * <usize>np * s;
  const blocks = (m + mc - 1) / mc;
  let done = 0;
  for (;;) {
    const block = atomic.add<i32>(counter, 1);
    if (block >= blocks) break;
    const i0 = block * mc;
    const rows = min(mc, m - i0);
    const yBlock = y + <usize>i0 * <usize>n * s;
    memory.fill(yBlock, 0, <usize>rows * <usize>n * s);
    for (let i = 0; i < models; i++) {
      // T = G_i[i0 : i0 + rows, :] X, into a zeroed buffer (its padded rows stay zero).
      memory.fill(tRows, 0, <usize>mc * <usize>np * s);
      const gPanels = gp + <usize>i * <usize>gStride + <usize>i0 * <usize>m * s;
      stridedBlock<T>(0, rows, 0, n, rows, n, m, gPanels, xp, tRows, np, kc, 0, scratch);
      // Y[i0 : i0 + rows, :] += T A_i
      packA<T>(tRows, np, 0, rows, n, <T>1, tPacked);
      stridedBlock<T>(0, rows, 0, n, rows, n, n, tPacked, ap + <usize>i * <usize>aStride, yBlock, n, kc, 0, scratch);
    }
    done++;
  }
  return done;
}
