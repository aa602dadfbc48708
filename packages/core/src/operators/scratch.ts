/**
 * Work tensors an operator needs inside apply (a Sum's partial product, a Kronecker's
 * intermediate). Allocated on first use on the backend of the tensors apply receives, then
 * reused, so that apply allocates nothing in a CG loop. Operators that own no tensors
 * (a Sum of user operators) learn their backend this way.
 */
import type { Backend, Shape, Tensor } from '../backend/backend.js';

export class ScratchSpace {
  private backend: Backend | undefined;
  private readonly slots: (Tensor | undefined)[] = [];

  /** The slot-th work tensor of this shape on this backend. */
  get(backend: Backend, slot: number, shape: Shape): Tensor {
    if (backend !== this.backend) {
      this.release();
      this.backend = backend;
    }
    let t = this.slots[slot];
    if (t === undefined || t.disposed) {
      t = backend.zeros(shape);
      this.slots[slot] = t;
    }
    return t;
  }

  release(): void {
    for (const t of this.slots) if (t) t.backend.dispose(t);
    this.slots.length = 0;
    this.backend = undefined;
  }
}

/**
 * Reshaped views of the tensors apply receives (a Dense operator reads an [n] block as an
 * [n, 1] matrix for gemm). Views are cached per tensor, so the CG loop's work vectors get
 * their views once and no object is made per iteration.
 */
export class ViewCache {
  private readonly views = new WeakMap<Tensor, Tensor>();

  constructor(private readonly shape: Shape) {}

  of(x: Tensor): Tensor {
    let v = this.views.get(x);
    if (v === undefined || v.disposed) {
      v = x.backend.reshape(x, this.shape);
      this.views.set(x, v);
    }
    return v;
  }
}
