import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { ShapeError } from '../backend/errors.js';
import { formatShape } from '../backend/shape.js';
import { denseOf, requireDiagonal } from './dense-of.js';
import { blockSize, sharedBackend, tagsOf, type LinearOperator, type OperatorTags } from './linear-operator.js';
import { releaseOwned } from './owned.js';
import { ScratchSpace } from './scratch.js';

/**
 * Independent blocks of one long flat vector (a whole model: one block per parameter).
 * Block i acts on elements [offsets[i], offsets[i] + size_i); apply gathers each block with
 * copyRange, applies it in its own shape and scatters the result back.
 */
export class BlockDiagonalOperator implements LinearOperator {
  readonly kind = 'block-diagonal';
  readonly dtype: DType;
  readonly shape: Shape;
  readonly backend: Backend | undefined;
  readonly tags: OperatorTags;
  readonly blocks: readonly LinearOperator[];
  /** Flat offset of each block; offsets[blocks.length] is the total size. */
  readonly offsets: readonly number[];
  private readonly scratch = new ScratchSpace();

  constructor(blocks: readonly LinearOperator[]) {
    if (blocks.length === 0) throw new RangeError('BlockDiagonalOperator: needs at least one block');
    const dtype = blocks[0].dtype;
    const offsets = [0];
    blocks.forEach((b, i) => {
      if (b.dtype !== dtype) throw new TypeError(`BlockDiagonalOperator: block ${i} is ${b.dtype}, block 0 is ${dtype}`);
      offsets.push(offsets[i] + blockSize(b));
    });
    this.blocks = Object.freeze([...blocks]);
    this.offsets = Object.freeze(offsets);
    this.dtype = dtype;
    this.shape = Object.freeze([offsets[blocks.length]]);
    this.backend = sharedBackend('BlockDiagonalOperator', blocks);
    const tags = blocks.map(tagsOf);
    this.tags = Object.freeze({ symmetric: tags.every((t) => t.symmetric), psd: tags.every((t) => t.psd) });
  }

  apply(x: Tensor, out: Tensor): void {
    if (x.size !== this.shape[0] || out.size !== this.shape[0]) {
      throw new ShapeError(
        `block-diagonal ${formatShape(this.shape)}: apply got x ${formatShape(x.shape)} and out ${formatShape(out.shape)}, ` +
          `expected ${this.shape[0]} elements each`,
      );
    }
    const backend = x.backend;
    for (let i = 0; i < this.blocks.length; i++) {
      const block = this.blocks[i];
      const xb = this.scratch.get(backend, 2 * i, block.shape);
      const ob = this.scratch.get(backend, 2 * i + 1, block.shape);
      backend.copyRange(x, this.offsets[i], xb, 0, xb.size);
      block.apply(xb, ob);
      backend.copyRange(ob, 0, out, this.offsets[i], ob.size);
    }
  }

  diagonal(): Tensor {
    return blockDiagonalDiagonal(this, requireDiagonal);
  }

  toDense(): Float64Array {
    const n = this.shape[0];
    const m = new Float64Array(n * n);
    this.blocks.forEach((block, i) => {
      const d = denseOf(block, this.backend);
      const size = blockSize(block);
      const o = this.offsets[i];
      for (let r = 0; r < size; r++) m.set(d.subarray(r * size, (r + 1) * size), (o + r) * n + o);
    });
    return m;
  }

  dispose(): void {
    this.scratch.release();
    releaseOwned(this);
  }
}

/** The blocks' diagonals laid end to end, each from diagonalOf. */
export function blockDiagonalDiagonal(op: BlockDiagonalOperator, diagonalOf: (op: LinearOperator) => Tensor): Tensor {
  let out: Tensor | undefined;
  op.blocks.forEach((block, i) => {
    const d = diagonalOf(block);
    out ??= d.backend.zeros(op.shape);
    d.backend.copyRange(d, 0, out, op.offsets[i], d.size);
    d.backend.dispose(d);
  });
  return out!;
}
