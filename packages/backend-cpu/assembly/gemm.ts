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

/** Rows of a register tile. */
const MR: i32 = 4;
/** Vectors (of 16 bytes) across a register tile: NR = NV * lanes. */
const NV: i32 = 2;

/**
 * C[MR, NR] += A_panel[kc, MR]^T B_panel[kc, NR]: four rows by two vectors of accumulators
 * (8 registers), two B vectors and one broadcast A value per step: 11 of the 16 xmm registers
 * V8 allocates, so nothing spills. 2 loads + 4 broadcasts feed 8 multiplies and 8 adds.
 */
// @ts-ignore: decorator
@inline
function microKernel<T>(kc: i32, a: usize, b: usize, c: usize, ldcBytes: usize): void {
  const zero = v128.splat<T>(<T>0);
  let c00 = zero, c01 = zero;
  let c10 = zero, c11 = zero;
  let c20 = zero, c21 = zero;
  let c30 = zero, c31 = zero;
  const s = sizeof<T>();
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load_splat<T>(a);
    c00 = v128.add<T>(c00, v128.mul<T>(x, b0));
    c01 = v128.add<T>(c01, v128.mul<T>(x, b1));
    x = v128.load_splat<T>(a + s);
    c10 = v128.add<T>(c10, v128.mul<T>(x, b0));
    c11 = v128.add<T>(c11, v128.mul<T>(x, b1));
    x = v128.load_splat<T>(a + 2 * s);
    c20 = v128.add<T>(c20, v128.mul<T>(x, b0));
    c21 = v128.add<T>(c21, v128.mul<T>(x, b1));
    x = v128.load_splat<T>(a + 3 * s);
    c30 = v128.add<T>(c30, v128.mul<T>(x, b0));
    c31 = v128.add<T>(c31, v128.mul<T>(x, b1));
    a += 4 * s;
    b += 32;
  }
  v128.store(c, v128.add<T>(v128.load(c), c00));
  v128.store(c, v128.add<T>(v128.load(c, 16), c01), 16);
  c += ldcBytes;
  v128.store(c, v128.add<T>(v128.load(c), c10));
  v128.store(c, v128.add<T>(v128.load(c, 16), c11), 16);
  c += ldcBytes;
  v128.store(c, v128.add<T>(v128.load(c), c20));
  v128.store(c, v128.add<T>(v128.load(c, 16), c21), 16);
  c += ldcBytes;
  v128.store(c, v128.add<T>(v128.load(c), c30));
  v128.store(c, v128.add<T>(v128.load(c, 16), c31), 16);
}

/**
 * The block of C with rows [i0, i1) and columns [j0, j1) (padded) += A B over all of k, in
 * kc slices: each B micro-panel slice is reused by every A micro-panel of the block.
 */
function gemmBlock<T>(i0: i32, i1: i32, j0: i32, j1: i32, k: i32, ap: usize, bp: usize, c: usize, ldc: i32, kcMax: i32): void {
  const s = <usize>sizeof<T>();
  const nr = NV * (16 / <i32>s);
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
function gemmClaim<T>(counter: usize, mp: i32, mc: i32, np: i32, nc: i32, k: i32, ap: usize, bp: usize, c: usize, kc: i32): i32 {
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

export function gemmF64(counter: usize, mp: i32, mc: i32, np: i32, nc: i32, k: i32, ap: usize, bp: usize, c: usize, kc: i32): i32 {
  return gemmClaim<f64>(counter, mp, mc, np, nc, k, ap, bp, c, kc);
}

export function gemmF32(counter: usize, mp: i32, mc: i32, np: i32, nc: i32, k: i32, ap: usize, bp: usize, c: usize, kc: i32): i32 {
  return gemmClaim<f32>(counter, mp, mc, np, nc, k, ap, bp, c, kc);
}
