/**
 * The register tile every WebAssembly gemm here is built on (GotoBLAS / BLIS micro-kernel):
 * C[MR, NR] += A_panel[kc, MR]^T B_panel[kc, NR], with A packed in row panels of MR rows and
 * B in column panels of NR = NV vectors. Generic over f64 (f64x2, NR = 4) and f32 (f32x4,
 * NR = 8).
 */

/** Rows of a register tile. */
export const MR: i32 = 4;
/** Vectors (of 16 bytes) across a register tile: NR = NV * lanes. */
export const NV: i32 = 2;
/** Bytes of one thread's edge scratch (an MR x NR tile of either dtype, with room to spare). */
export const TILE_SCRATCH_BYTES: i32 = 256;

/** Columns of a register tile for element type T. */
// @ts-ignore: decorator
@inline
export function tileCols<T>(): i32 {
  return NV * (16 / <i32>sizeof<T>());
}

/**
 * Four rows by two vectors of accumulators (8 registers), two B vectors and one broadcast A
 * value per step: 11 of the 16 xmm registers V8 allocates, so nothing spills. 2 loads + 4
 * broadcasts feed 8 multiplies and 8 adds. C (row stride ldcBytes) must hold a whole tile.
 */
// @ts-ignore: decorator
@inline
export function microKernel<T>(kc: i32, a: usize, b: usize, c: usize, ldcBytes: usize): void {
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
 * C[rows, cols] += the tile product, for a tile that may be cut by the edge of C (rows <= MR,
 * cols <= NR): a whole tile goes straight to C, a cut one through the thread's scratch tile.
 */
// @ts-ignore: decorator
@inline
export function tileUpdate<T>(kc: i32, a: usize, b: usize, c: usize, ldcBytes: usize, rows: i32, cols: i32, scratch: usize): void {
  const nr = tileCols<T>();
  if (rows == MR && cols == nr) {
    microKernel<T>(kc, a, b, c, ldcBytes);
    return;
  }
  const s = <usize>sizeof<T>();
  const zero = v128.splat<T>(<T>0);
  for (let v = 0; v < MR * NV; v++) v128.store(scratch + <usize>v * 16, zero);
  microKernel<T>(kc, a, b, scratch, <usize>nr * s);
  for (let r = 0; r < rows; r++) {
    const dst = c + <usize>r * ldcBytes;
    const src = scratch + <usize>(r * nr) * s;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j * s;
      store<T>(dst + o, load<T>(dst + o) + load<T>(src + o));
    }
  }
}
