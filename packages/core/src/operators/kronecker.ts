import type { Backend, DType, PreparedOperator, Shape, Tensor } from '../backend/backend.js';
import { derived } from './derived.js';
import type { FactorOptions } from './factor-options.js';
import { hostDiagonal, labelled, readSymmetricMatrix, type HostSquare } from './host-matrix.js';
import { kroneckerMatrix } from './kronecker-matrix.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';
import { ScratchSpace } from './scratch.js';

/** FactorOptions, and whether the operator is applied through the backend's prepared product. */
export interface KroneckerOptions extends FactorOptions {
  /**
   * For an operator applied many times (a preconditioner): the backend's fused product with
   * the factors packed once (prepareKroneckerSum of one part), where it has one, instead of two
   * gemms that repack both factors at every apply. Off by default: a product applied once (a
   * right-hand side) is not worth the packing, and a Sum of Kroneckers prepares itself whole.
   */
  prepare?: boolean;
}

/** The float64 host arrays that KroneckerOperator.fromHost just uploaded, by tensor. */
const uploads = new WeakMap<Tensor, Float64Array>();

/**
 * The K-FAC operator of a linear layer (DESIGN.md §3): W -> G W A on an [out, in] block,
 * i.e. (G (x) A) vec_row(W), with G [out, out] the output-gradient Gram and A [in, in] the
 * input Gram.
 */
export class KroneckerOperator implements LinearOperator {
  readonly kind = 'kronecker';
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly tags: OperatorTags;
  /** G and A on the host, float64: for the factorizations dispatch caches. */
  readonly hostG: HostSquare;
  readonly hostA: HostSquare;
  private readonly scratch = new ScratchSpace();
  /** Apply through the backend's prepared product (KroneckerOptions.prepare). */
  private readonly preparedApply: boolean;

  /**
   * g: [out, out] and a: [in, in], symmetric and finite (the caller keeps ownership). The
   * operator reads them when it is built (and, with prepare, packs them at its first apply):
   * operators are immutable (DESIGN.md), so the factors must not change while it is in use.
   */
  constructor(
    readonly g: Tensor,
    readonly a: Tensor,
    options: KroneckerOptions = {},
  ) {
    if (g.backend !== a.backend) {
      throw new TypeError(labelled(options.label, 'KroneckerOperator: factors G and A live on different backends'));
    }
    this.backend = g.backend;
    this.dtype = g.dtype;
    this.hostG = readSymmetricMatrix(labelled(options.label, 'KroneckerOperator factor G'), g, options.symmetryTolerance, uploads.get(g));
    this.hostA = readSymmetricMatrix(labelled(options.label, 'KroneckerOperator factor A'), a, options.symmetryTolerance, uploads.get(a));
    this.shape = Object.freeze([this.hostG.n, this.hostA.n]);
    this.tags = Object.freeze({ symmetric: true, psd: options.psd ?? false });
    this.preparedApply = options.prepare ?? false;
  }

  /**
   * The operator of host factors g [out, out] and a [in, in] (float64), uploaded to the
   * backend; the tensors are the caller's to own (operator.g, operator.a). On a float64
   * backend the operator keeps these arrays as its host copies (checked as any factor) instead
   * of reading the uploads back.
   */
  static fromHost(backend: Backend, g: Float64Array, a: Float64Array, options: KroneckerOptions = {}): KroneckerOperator {
    const gt = backend.fromArray(g, [Math.sqrt(g.length), Math.sqrt(g.length)]);
    const at = backend.fromArray(a, [Math.sqrt(a.length), Math.sqrt(a.length)]);
    if (backend.dtype === 'float64') {
      uploads.set(gt, g);
      uploads.set(at, a);
    }
    try {
      return new KroneckerOperator(gt, at, options);
    } catch (e) {
      // Bad factors (asymmetric, non-finite): the uploads are nobody's yet.
      backend.dispose(gt);
      backend.dispose(at);
      throw e;
    } finally {
      // Read once, by this constructor: a later operator over the same (caller-owned, maybe
      // rewritten) tensors reads them, not these arrays.
      uploads.delete(gt);
      uploads.delete(at);
    }
  }

  apply(x: Tensor, out: Tensor): void {
    checkApplyOperands(this, x, out);
    const prepared = this.preparedApply ? this.prepared() : null;
    if (prepared !== null) {
      prepared.apply(x, out);
      return;
    }
    // out = G (X A): two gemms through an [out, in] intermediate.
    const xa = this.scratch.get(this.backend, 0, this.shape);
    this.backend.gemm('N', 'N', 1, x, this.a, 0, xa);
    this.backend.gemm('N', 'N', 1, this.g, xa, 0, out);
  }

  /** The backend's prepared G (x) A (a one-part Kronecker sum), or null where it has none. */
  private prepared(): PreparedOperator | null {
    return derived(
      this,
      'prepared-kronecker',
      () => this.backend.prepareKroneckerSum?.([this.g], [this.a]) ?? null,
      (p) => p?.dispose(),
    );
  }

  /** diag(G (x) A)[r, c] = G[r, r] A[c, c]: the outer product of the factor diagonals. */
  diagonal(): Tensor {
    const [rows, cols] = this.shape;
    const dg = hostDiagonal(this.hostG);
    const da = hostDiagonal(this.hostA);
    const d = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) d[r * cols + c] = dg[r] * da[c];
    return this.backend.fromArray(d, this.shape);
  }

  toDense(): Float64Array {
    return kroneckerMatrix(this.hostG.data, this.hostA.data, this.shape[0], this.shape[1]);
  }

  dispose(): void {
    this.scratch.release();
    releaseOwned(this);
  }
}
