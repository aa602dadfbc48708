/**
 * The compute backend contract (DESIGN.md §4).
 *
 * One Backend object serves one dtype. It owns its tensors' storage, offers the BLAS-like
 * primitives the operators and the solver need, and small dense factorizations on the host.
 * Every operation checks that its tensors belong to this backend instance and share its dtype:
 * there is no silent dtype mixing.
 */

/** Storage precision of a backend's tensors. */
export type DType = 'float64' | 'float32';

/** A host array of either precision. */
export type HostArray = Float64Array | Float32Array;

/** Shapes are row-major; [] is a scalar, [n] a vector, [rows, cols] a matrix. */
export type Shape = readonly number[];

/**
 * A handle to storage owned by a backend. Its contents are reached through the backend
 * (toArray) only: a GPU tensor lives in a texture, a CPU tensor in a typed array.
 */
export interface Tensor {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: Shape;
  /** Number of elements: the product of shape. */
  readonly size: number;
  /** True once dispose() has released the storage; any further use throws. */
  readonly disposed: boolean;
}

/** Whether gemm reads an operand as stored ('N') or transposed ('T'). */
export type Transpose = 'N' | 'T';

/** A symmetric eigendecomposition A = V diag(values) V^T, values ascending. */
export interface SymmetricEigen {
  /** [n] eigenvalues, ascending. */
  readonly values: Float64Array;
  /** [n, n] row-major; column j is the unit eigenvector of values[j]. */
  readonly vectors: Float64Array;
}

/**
 * Dense factorizations on host float64 arrays, row-major [n, n]. Used for the small factors
 * of structured operators (K-FAC factors, Grams), never on whole parameter vectors.
 */
export interface HostLinalg {
  /**
   * Lower Cholesky factor L with A = L L^T. Throws NotPositiveDefiniteError naming the
   * failing pivot when A is not positive definite.
   */
  cholesky(a: Float64Array, n: number): Float64Array;
  /** Symmetric eigendecomposition of a symmetric [n, n] matrix. */
  eigh(a: Float64Array, n: number): SymmetricEigen;
  /**
   * Solves op(T) X = B for X, T [n, n] triangular, B [n, k] row-major; returns X.
   * lower selects the triangle read; transpose solves with T^T.
   */
  solveTriangular(
    t: Float64Array,
    n: number,
    b: Float64Array,
    k: number,
    options: { lower: boolean; transpose?: boolean },
  ): Float64Array;
  /**
   * Optional: A^-1 of a symmetric positive definite A [n, n] (reads its lower triangle),
   * exactly symmetric; throws NotPositiveDefiniteError like cholesky. Without it, core forms
   * the inverse from cholesky and two solveTriangular calls against the identity.
   */
  spdInverse?(a: Float64Array, n: number): Float64Array;
  /**
   * Optional: the [m, m] Gram G[i, j] = <v_i, v_j> of m vectors of one length (the Frobenius
   * inner products of vectorised factors). Without it, core sums the products in TypeScript.
   */
  gram?(vectors: readonly Float64Array[]): Float64Array;
}

/** An operator a backend prepared for fixed data (prepareKroneckerSum): apply it, then dispose it. */
export interface PreparedOperator {
  /** out <- the operator applied to x; both tensors of the backend and of the block's shape. */
  apply(x: Tensor, out: Tensor): void;
  /** Releases what the preparation holds (packed copies of the factors, buffers). */
  dispose(): void;
}

export interface Backend {
  /** A short name: 'cpu', 'gpu', ... */
  readonly name: string;
  /** Which implementation really runs, e.g. 'typescript', 'wasm-simd', 'headlessgl'. */
  readonly mode: string;
  readonly dtype: DType;
  readonly linalg: HostLinalg;

  // Storage
  zeros(shape: Shape): Tensor;
  /** Copies data (converted to this backend's dtype) into a new tensor of the given shape. */
  fromArray(data: ArrayLike<number>, shape: Shape): Tensor;
  /** A host copy of the tensor's contents, in this backend's dtype. */
  toArray(x: Tensor): HostArray;
  /**
   * x <- data: host values (converted to this backend's dtype) written into an existing
   * tensor, in flat row-major order; data.length must be x.size, and data is not kept. With
   * read, how an operator that computes on the host fills apply's `out` without a new tensor.
   */
  write(x: Tensor, data: ArrayLike<number>): void;
  /**
   * out <- x: the tensor's values copied into a caller's host array (converted to its
   * precision), in flat row-major order; out.length must be x.size. Returns out.
   */
  read<T extends HostArray>(x: Tensor, out: T): T;
  /** A tensor that shares x's storage under another shape with the same size. */
  reshape(x: Tensor, shape: Shape): Tensor;
  /** Releases the storage. Disposing twice is harmless; any other use afterwards throws. */
  dispose(x: Tensor): void;

  // Level 1: reductions return float64 numbers accumulated in float64 whatever the storage.
  dot(x: Tensor, y: Tensor): number;
  nrm2(x: Tensor): number;
  /** y <- alpha x + y */
  axpy(alpha: number, x: Tensor, y: Tensor): void;
  /** y <- alpha x + beta y (CG's p <- z + beta p in one pass) */
  axpby(alpha: number, x: Tensor, beta: number, y: Tensor): void;
  /** x <- alpha x */
  scal(alpha: number, x: Tensor): void;
  /** dst <- src */
  copy(src: Tensor, dst: Tensor): void;
  /**
   * dst[dstOffset + i] <- src[srcOffset + i] for i < length, in flat row-major element order:
   * how a block of a long vector (one parameter of a whole model) is gathered and scattered.
   */
  copyRange(src: Tensor, srcOffset: number, dst: Tensor, dstOffset: number, length: number): void;
  /** x <- value everywhere */
  fill(x: Tensor, value: number): void;
  /** out <- x .* y (out may alias x or y) */
  mul(x: Tensor, y: Tensor, out: Tensor): void;
  /** out <- x ./ y (out may alias x or y) */
  div(x: Tensor, y: Tensor, out: Tensor): void;
  /** out <- x + y (out may alias x or y) */
  add(x: Tensor, y: Tensor, out: Tensor): void;

  // Level 3
  /**
   * C <- alpha op(A) op(B) + beta C, with op(A) [m, k], op(B) [k, n], C [m, n], all 2-D.
   * beta = 0 overwrites C (NaN in C does not leak through). C must not alias A or B.
   */
  gemm(
    transA: Transpose,
    transB: Transpose,
    alpha: number,
    a: Tensor,
    b: Tensor,
    beta: number,
    c: Tensor,
  ): void;

  /**
   * Optional: y <- sum_i G_i x A_i for fixed factors G_i [out, out] and A_i [in, in] (x, y
   * [out, in]), prepared once: the K-FAC sum matvec, nearly the whole cost of a CG iteration of
   * a K-FAC merge. A backend that runs it faster than 2 M gemms (fused, the factors kept in its
   * own layout) returns it; undefined means "use gemm". The factors must stay alive and
   * unchanged until the prepared operator is disposed: a backend may read them in place (the
   * CPU backend's 'blas' variant does) or keep copies. precision 'float32' on a float64
   * backend runs the products in float32 and keeps x and y in float64 (mixed precision: only
   * for solvers that correct for it).
   */
  prepareKroneckerSum?(g: readonly Tensor[], a: readonly Tensor[], options?: { precision?: DType }): PreparedOperator | undefined;
}
