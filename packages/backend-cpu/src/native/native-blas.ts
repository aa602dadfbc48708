/**
 * The optional native BLAS addon (native/blas.c, built by `npm run build` into
 * dist-native/mats-blas.node when a C compiler and a CBLAS, OpenBLAS by default, are there):
 * the system BLAS's gemm on typed arrays, for the 'blas' kernel variant. WebAssembly's 128-bit
 * SIMD reaches about a quarter of what OpenBLAS gets from AVX-512 on the machines we bench on
 * (docs/DESIGN.md, "CPU kernels"), so in Node, where the addon can load, gemm goes there.
 *
 * The path is resolved from this file, which sits at the same depth under src/ and dist/.
 */
import type { FloatArray } from '../cpu-tensor.js';
import { environment } from '../environment.js';
import { nodeBuiltins } from '../wasm/node-builtins.js';

export const NATIVE_BLAS_URL = new URL('../../dist-native/mats-blas.node', import.meta.url);

/** What the addon is linked against (OpenBLAS reports its kernel and thread count). */
export interface NativeBlasInfo {
  library: string;
  config?: string;
  core?: string;
  threads?: number;
}

export interface NativeBlas {
  /**
   * C [m, n] <- alpha op(A) op(B) + beta C on row-major typed arrays of one element type
   * (float64 selects dgemm, otherwise sgemm); lda, ldb, ldc are the stored row lengths. The
   * addon checks that every array holds what the call touches, and throws otherwise.
   */
  gemm(
    float64: boolean, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: FloatArray, lda: number, b: FloatArray, ldb: number, beta: number, c: FloatArray, ldc: number,
  ): void;
  /**
   * A [n, n] (row-major) <- A^-1 in place from its lower triangle (LAPACK dpotrf + dpotri),
   * exactly symmetric. Returns 0, or k + 1 when Cholesky pivot k is not positive or not finite
   * (A[k, k] then holds it).
   */
  spdInverse(a: Float64Array, n: number): number;
  /** The BLAS's threads for the whole process (OpenBLAS; a no-op for other libraries). */
  setThreads(threads: number): void;
  info(): NativeBlasInfo;
}

function load(): NativeBlas | string {
  if (!nodeBuiltins) return 'the native BLAS addon needs Node';
  const path = decodeURIComponent(NATIVE_BLAS_URL.pathname);
  if (!nodeBuiltins.fs.existsSync(path)) {
    return `${path} is not built (\`npm run build\` builds it where a C compiler and OpenBLAS are installed: apt install build-essential libopenblas-dev)`;
  }
  let blas: NativeBlas;
  try {
    blas = nodeBuiltins.module.createRequire(import.meta.url)(path) as NativeBlas;
  } catch (e) {
    return `${path} does not load: ${(e as Error).message}`;
  }
  // One knob for the process: MATS_CPU_THREADS bounds OpenBLAS's threads as it does the
  // WebAssembly workers' (OPENBLAS_NUM_THREADS otherwise; the per-backend threads option
  // cannot, OpenBLAS's count being process-wide).
  const threads = Number(environment('MATS_CPU_THREADS'));
  if (Number.isInteger(threads) && threads >= 1 && threads <= 1024) blas.setThreads(threads);
  return blas;
}

let cached: NativeBlas | string | undefined;

/** The addon, loaded on first use, or why it is unavailable. */
export function nativeBlas(): NativeBlas | string {
  cached ??= load();
  return cached;
}

/** What the 'blas' variant runs (for reports), or why it is unavailable. */
export function nativeBlasInfo(): NativeBlasInfo | string {
  const blas = nativeBlas();
  return typeof blas === 'string' ? blas : blas.info();
}
