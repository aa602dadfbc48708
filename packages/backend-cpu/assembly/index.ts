/**
 * The WebAssembly kernels of @mats/backend-cpu (AssemblyScript, compiled by `npm run build`
 * into dist-wasm/kernels.wasm): every export in a float64 and a float32 copy of one generic
 * source. Addresses and sizes are i32 (bytes and elements); the exports that threads run
 * together (the *Claim kernels) take only integers, because worker threads receive their
 * arguments as i32 words (src/wasm/worker-pool.ts).
 */
import { packA, packB, scaleMatrix } from './pack';
import { stridedClaim } from './strided-gemm';
import { axpyRowsT, axpyT, dotRowsT, dotT, scalT, symvClaimT } from './vector';
import { choleskyBlockT, trsmRowsClaimT } from './cholesky';
import { kfacClaimT } from './kfac';
import { triangularInverseBlockT } from './triangular-inverse';
import { gramClaimT } from './gram';
import { dareClaimT, mapClaimT, reduceClaimT, taskArithmeticClaimT } from './elementwise';

// gemm on matrices in the kernel memory, strided (the factorizations) or padded to whole tiles
// (the tensor gemm of src/wasm/wasm-gemm.ts, packed by the TypeScript driver).
export function packAF64(a: usize, lda: i32, trans: i32, m: i32, k: i32, alpha: f64, dst: usize): void {
  packA<f64>(a, lda, trans, m, k, alpha, dst);
}
export function packAF32(a: usize, lda: i32, trans: i32, m: i32, k: i32, alpha: f32, dst: usize): void {
  packA<f32>(a, lda, trans, m, k, alpha, dst);
}
export function packBF64(b: usize, ldb: i32, trans: i32, k: i32, n: i32, dst: usize): void {
  packB<f64>(b, ldb, trans, k, n, dst);
}
export function packBF32(b: usize, ldb: i32, trans: i32, k: i32, n: i32, dst: usize): void {
  packB<f32>(b, ldb, trans, k, n, dst);
}
export function scaleMatrixF64(c: usize, ldc: i32, m: i32, n: i32, beta: f64): void {
  scaleMatrix<f64>(c, ldc, m, n, beta);
}
export function scaleMatrixF32(c: usize, ldc: i32, m: i32, n: i32, beta: f32): void {
  scaleMatrix<f32>(c, ldc, m, n, beta);
}
export function stridedGemmF64(counter: usize, m: i32, n: i32, k: i32, ap: usize, bp: usize, c: usize, ldc: i32, mc: i32, nc: i32, kc: i32, triangle: i32, scratch: usize): i32 {
  return stridedClaim<f64>(counter, m, n, k, ap, bp, c, ldc, mc, nc, kc, triangle, scratch);
}
export function stridedGemmF32(counter: usize, m: i32, n: i32, k: i32, ap: usize, bp: usize, c: usize, ldc: i32, mc: i32, nc: i32, kc: i32, triangle: i32, scratch: usize): i32 {
  return stridedClaim<f32>(counter, m, n, k, ap, bp, c, ldc, mc, nc, kc, triangle, scratch);
}

// Vector and matrix-vector kernels (src/linalg/).
export function dotF64(n: i32, x: usize, y: usize): f64 {
  return dotT<f64>(n, x, y);
}
export function dotF32(n: i32, x: usize, y: usize): f32 {
  return dotT<f32>(n, x, y);
}
export function axpyF64(n: i32, alpha: f64, x: usize, y: usize): void {
  axpyT<f64>(n, alpha, x, y);
}
export function axpyF32(n: i32, alpha: f32, x: usize, y: usize): void {
  axpyT<f32>(n, alpha, x, y);
}
export function scalF64(n: i32, alpha: f64, x: usize): void {
  scalT<f64>(n, alpha, x);
}
export function scalF32(n: i32, alpha: f32, x: usize): void {
  scalT<f32>(n, alpha, x);
}
export function dotRowsF64(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: f64, beta: f64): void {
  dotRowsT<f64>(rows, n, a, lda, x, y, alpha, beta);
}
export function dotRowsF32(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: f32, beta: f32): void {
  dotRowsT<f32>(rows, n, a, lda, x, y, alpha, beta);
}
export function axpyRowsF64(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: f64): void {
  axpyRowsT<f64>(rows, n, a, lda, x, y, alpha);
}
export function axpyRowsF32(rows: i32, n: i32, a: usize, lda: i32, x: usize, y: usize, alpha: f32): void {
  axpyRowsT<f32>(rows, n, a, lda, x, y, alpha);
}
export function symvF64(counter: usize, n: i32, a: usize, lda: i32, x: usize, yPrivate: usize, blockRows: i32): i32 {
  return symvClaimT<f64>(counter, n, a, lda, x, yPrivate, blockRows);
}
export function symvF32(counter: usize, n: i32, a: usize, lda: i32, x: usize, yPrivate: usize, blockRows: i32): i32 {
  return symvClaimT<f32>(counter, n, a, lda, x, yPrivate, blockRows);
}

// Cholesky (src/linalg/cholesky.ts).
export function choleskyBlockF64(a: usize, lda: i32, nb: i32): i32 {
  return choleskyBlockT<f64>(a, lda, nb);
}
export function choleskyBlockF32(a: usize, lda: i32, nb: i32): i32 {
  return choleskyBlockT<f32>(a, lda, nb);
}
export function trsmRowsF64(counter: usize, m: i32, nb: i32, l: usize, ldl: i32, b: usize, ldb: i32, blockRows: i32): i32 {
  return trsmRowsClaimT<f64>(counter, m, nb, l, ldl, b, ldb, blockRows);
}
export function trsmRowsF32(counter: usize, m: i32, nb: i32, l: usize, ldl: i32, b: usize, ldb: i32, blockRows: i32): i32 {
  return trsmRowsClaimT<f32>(counter, m, nb, l, ldl, b, ldb, blockRows);
}

// The inverse of an SPD matrix (src/linalg/spd-inverse.ts) and the Gram of long vectors (src/linalg/gram.ts).
export function triangularInverseBlockF64(a: usize, lda: i32, nb: i32): void {
  triangularInverseBlockT<f64>(a, lda, nb);
}
export function triangularInverseBlockF32(a: usize, lda: i32, nb: i32): void {
  triangularInverseBlockT<f32>(a, lda, nb);
}
export function gramF64(counter: usize, m: i32, length: i32, v: usize, ldv: i32, chunk: i32, partials: usize): i32 {
  return gramClaimT<f64>(counter, m, length, v, ldv, chunk, partials);
}
export function gramF32(counter: usize, m: i32, length: i32, v: usize, ldv: i32, chunk: i32, partials: usize): i32 {
  return gramClaimT<f32>(counter, m, length, v, ldv, chunk, partials);
}

// The fused K-FAC sum matvec (src/wasm/prepared-kronecker-sum.ts).
export function kfacF64(counter: usize, m: i32, n: i32, models: i32, gp: usize, gStride: i32, xp: usize, ap: usize, aStride: i32, y: usize, mc: i32, kc: i32, tileScratch: usize, tBase: usize, tStride: i32): i32 {
  return kfacClaimT<f64>(counter, m, n, models, gp, gStride, xp, ap, aStride, y, mc, kc, tileScratch, tBase, tStride);
}
export function kfacF32(counter: usize, m: i32, n: i32, models: i32, gp: usize, gStride: i32, xp: usize, ap: usize, aStride: i32, y: usize, mc: i32, kc: i32, tileScratch: usize, tBase: usize, tStride: i32): i32 {
  return kfacClaimT<f32>(counter, m, n, models, gp, gStride, xp, ap, aStride, y, mc, kc, tileScratch, tBase, tStride);
}

// Elementwise kernels and reductions on long arrays (src/wasm/host-vectors.ts).
export function mapF64(counter: usize, params: usize): i32 {
  return mapClaimT<f64>(counter, params);
}
export function mapF32(counter: usize, params: usize): i32 {
  return mapClaimT<f32>(counter, params);
}
export function reduceF64(counter: usize, params: usize, partials: usize): i32 {
  return reduceClaimT<f64>(counter, params, partials);
}
export function reduceF32(counter: usize, params: usize, partials: usize): i32 {
  return reduceClaimT<f32>(counter, params, partials);
}
export function taskArithmeticF64(counter: usize, params: usize): i32 {
  return taskArithmeticClaimT<f64>(counter, params);
}
export function taskArithmeticF32(counter: usize, params: usize): i32 {
  return taskArithmeticClaimT<f32>(counter, params);
}
export function dareF64(counter: usize, params: usize): i32 {
  return dareClaimT<f64>(counter, params);
}
export function dareF32(counter: usize, params: usize): i32 {
  return dareClaimT<f32>(counter, params);
}
