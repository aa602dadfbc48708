/**
 * The building blocks of the factorizations on the WebAssembly kernels: BLAS-like operations
 * on matrices that live in the kernel memory, addressed by byte address with leading
 * dimensions in elements. One object per dtype; the float64 and float32 exports of
 * assembly/index.ts run the same source.
 *
 * Matrices here are row-major (row i of an [m, n] matrix with leading dimension ld starts at
 * a + i * ld elements). The eigensolver is written in LAPACK's column-major terms, which
 * colGemm maps onto the row-major gemm (a column-major matrix read row-major is its
 * transpose).
 */
import { COUNTER_ADDRESS, TILE_SCRATCH_ADDRESS, type KernelMemory } from '../wasm/kernel-memory.js';
import { blocking } from '../wasm/wasm-gemm.js';

export type LinalgDType = 'float64' | 'float32';

/** Which triangle of C a gemm computes (a symmetric update needs one). */
export type Triangle = 'full' | 'lower' | 'upper';
const TRIANGLE_CODE: Record<Triangle, number> = { full: 0, lower: 1, upper: 2 };

/** Depth of a k slice of the strided gemm (a B micro-panel slice stays in L1). */
const KC = 256;
/** gemms with fewer multiply-adds than this stay on the calling thread. */
const GEMM_THREAD_MIN_WORK = 64 ** 3;
/** symv of fewer rows than this stays on the calling thread (a hand-off costs ~13 us). */
const SYMV_THREAD_MIN_ROWS = 384;

type Fn = (...args: number[]) => number;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

export class KernelLinalg {
  /** Bytes per element. */
  readonly s: number;
  /** Register tile of the micro-kernel. */
  readonly mr = 4;
  readonly nr: number;
  private readonly suffix: 'F64' | 'F32';
  private readonly scaleMatrixFn: Fn;
  private readonly packAFn: Fn;
  private readonly packBFn: Fn;
  private readonly dotFn: Fn;
  private readonly axpyFn: Fn;
  private readonly scalFn: Fn;
  private readonly dotRowsFn: Fn;
  private readonly axpyRowsFn: Fn;
  private readonly choleskyBlockFn: Fn;
  private readonly triangularInverseBlockFn: Fn;

  constructor(
    readonly memory: KernelMemory,
    readonly dtype: LinalgDType,
    /** Threads the threaded kernels may use, the caller's included. */
    readonly threads: number,
  ) {
    this.s = dtype === 'float64' ? 8 : 4;
    this.nr = dtype === 'float64' ? 4 : 8;
    this.suffix = dtype === 'float64' ? 'F64' : 'F32';
    const exports = memory.exports as unknown as Record<string, Fn>;
    const fn = (name: string) => exports[name + this.suffix];
    this.scaleMatrixFn = fn('scaleMatrix');
    this.packAFn = fn('packA');
    this.packBFn = fn('packB');
    this.dotFn = fn('dot');
    this.axpyFn = fn('axpy');
    this.scalFn = fn('scal');
    this.dotRowsFn = fn('dotRows');
    this.axpyRowsFn = fn('axpyRows');
    this.choleskyBlockFn = fn('choleskyBlock');
    this.triangularInverseBlockFn = fn('triangularInverseBlock');
  }

  /** A view of the whole memory in this dtype (index = byte address / s); refetch after alloc. */
  view(): Float64Array | Float32Array {
    const v = this.memory.view();
    return this.dtype === 'float64' ? v.f64 : v.f32;
  }

  /** The byte address of `elements` fresh elements; throws RangeError when memory runs out. */
  alloc(elements: number): number {
    const address = this.memory.tryAlloc(elements * this.s);
    if (address === undefined) {
      throw new RangeError(`kernel memory: cannot allocate ${elements} ${this.dtype} elements (${(elements * this.s / 2 ** 20).toFixed(0)} MiB)`);
    }
    return address;
  }

  free(address: number): void {
    this.memory.heap.release(address);
  }

  /**
   * C [m, n] (ldc) <- alpha op(A) op(B) + beta C, row-major; op(A) [m, k] is A [m, k] (lda) or
   * A [k, m] when transA. With triangle 'lower' ('upper'), only the tiles of C that reach its
   * lower (upper) triangle are computed; the other triangle is then not meaningful.
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, triangle: Triangle = 'full'): void {
    if (m === 0 || n === 0) return;
    if (beta !== 1) this.scaleMatrixFn(c, ldc, m, n, beta);
    if (alpha === 0 || k === 0) return;
    const { mr, nr } = this;
    const mp = roundUp(m, mr);
    const np = roundUp(n, nr);
    const ap = this.alloc(mp * k);
    const bp = this.alloc(k * np);
    try {
      this.packAFn(a, lda, transA ? 1 : 0, m, k, alpha, ap);
      this.packBFn(b, ldb, transB ? 1 : 0, k, n, bp);
      const threads = m * n * k >= GEMM_THREAD_MIN_WORK ? this.threads : 1;
      const { mc, nc } = blocking(mp, np, mr, nr, threads);
      this.memory.runClaim(`stridedGemm${this.suffix}`, [COUNTER_ADDRESS, m, n, k, ap, bp, c, ldc, mc, nc, KC, TRIANGLE_CODE[triangle], TILE_SCRATCH_ADDRESS], threads);
    } finally {
      this.free(bp);
      this.free(ap);
    }
  }

  /**
   * The same in column-major terms (LAPACK's dgemm): C [m, n] (ldc) <- alpha op(A) op(B) +
   * beta C. Read row-major, a column-major matrix is its transpose, so this is the row-major
   * C^T = op(B)^T op(A)^T; the lower triangle of a column-major C is the upper triangle of
   * its row-major view.
   */
  colGemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, triangle: Triangle = 'full'): void {
    const flipped: Triangle = triangle === 'lower' ? 'upper' : triangle === 'upper' ? 'lower' : 'full';
    this.gemm(transB, transA, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc, flipped);
  }

  /**
   * y [n] <- A x for a symmetric A of which memory row j holds A[j, j..n) (stride lda): the
   * lower triangle in column-major terms. y must not overlap x. Uses `work` (threads * n
   * elements, from symvWorkElements) for the threads' partial sums.
   */
  symv(n: number, a: number, lda: number, x: number, y: number, work: number): void {
    if (n === 0) return;
    const threads = n >= SYMV_THREAD_MIN_ROWS ? this.threads : 1;
    const blockRows = Math.max(8, Math.ceil(n / (8 * threads)));
    this.memory.runClaim(`symv${this.suffix}`, [COUNTER_ADDRESS, n, a, lda, x, work, blockRows], threads);
    // y = sum of the threads' partial vectors (each thread zeroed and filled its own).
    const v = this.view();
    const yi = y / this.s;
    const wi = work / this.s;
    v.copyWithin(yi, wi, wi + n);
    for (let t = 1; t < threads; t++) this.axpyFn(n, 1, work + t * n * this.s, y);
  }

  /** Elements of the work array symv needs for an order-n matrix. */
  symvWorkElements(n: number): number {
    return this.threads * n;
  }

  dot(n: number, x: number, y: number): number {
    return this.dotFn(n, x, y);
  }

  axpy(n: number, alpha: number, x: number, y: number): void {
    this.axpyFn(n, alpha, x, y);
  }

  scal(n: number, alpha: number, x: number): void {
    this.scalFn(n, alpha, x);
  }

  /** y[j] <- alpha (row j of A) . x + beta y[j] for j < rows; A rows of n elements, stride lda. */
  dotRows(rows: number, n: number, a: number, lda: number, x: number, y: number, alpha: number, beta: number): void {
    if (rows > 0) this.dotRowsFn(rows, n, a, lda, x, y, alpha, beta);
  }

  /** y[0:n] <- y + alpha sum_j x[j] (row j of A), j < rows. */
  axpyRows(rows: number, n: number, a: number, lda: number, x: number, y: number, alpha: number): void {
    if (rows > 0 && n > 0) this.axpyRowsFn(rows, n, a, lda, x, y, alpha);
  }

  /** The unblocked Cholesky of an [nb, nb] block in place; -1 or the failing pivot. */
  choleskyBlock(a: number, lda: number, nb: number): number {
    return this.choleskyBlockFn(a, lda, nb);
  }

  /** The lower [nb, nb] block at a (lda) <- its inverse, in place; the entries above its diagonal are not touched. */
  triangularInverseBlock(a: number, lda: number, nb: number): void {
    if (nb > 0) this.triangularInverseBlockFn(a, lda, nb);
  }

  /**
   * partials + c m^2 <- the lower triangle of the Gram of chunk c (`chunk` columns) of V [m,
   * length] (ldv), for every chunk c; threads claim chunks.
   */
  gramChunks(m: number, length: number, v: number, ldv: number, chunk: number, partials: number, threads: number): void {
    if (m === 0 || length === 0) return;
    this.memory.runClaim(`gram${this.suffix}`, [COUNTER_ADDRESS, m, length, v, ldv, chunk, partials], threads);
  }

  /** Rows of B [m, nb] (ldb) <- B L^-T for the lower [nb, nb] L (ldl). */
  trsmRows(m: number, nb: number, l: number, ldl: number, b: number, ldb: number): void {
    if (m === 0) return;
    const threads = m * nb * nb >= GEMM_THREAD_MIN_WORK ? this.threads : 1;
    const blockRows = Math.max(4, Math.ceil(m / (4 * threads)));
    this.memory.runClaim(`trsmRows${this.suffix}`, [COUNTER_ADDRESS, m, nb, l, ldl, b, ldb, blockRows], threads);
  }
}
