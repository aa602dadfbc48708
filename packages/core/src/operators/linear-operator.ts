/**
 * The operator contract (DESIGN.md §4): a linear map on one parameter block.
 *
 * An operator acts on a block tensor of a fixed shape (a vector, or an [out, in] matrix); "the
 * vector" in the solver is that block flattened row-major, so toDense() is the matrix of the
 * operator in that order. Anything with kind, shape, dtype and apply is an operator: it works
 * inside a Sum and with PCG at once; registerOperatorKind gives it dispatch rules of its own.
 */
import type { Backend, DType, Shape, Tensor } from '../backend/backend.js';
import { formatShape, sameShape, shapeSize } from '../backend/shape.js';
import { ShapeError } from '../backend/errors.js';

/** What is known about an operator; false means "not known to hold". */
export interface OperatorTags {
  readonly symmetric: boolean;
  /** Positive semi-definite. */
  readonly psd: boolean;
}

export interface LinearOperator {
  /** A brand string: what the operator is ('kronecker', 'sum', or a kind of your own). */
  readonly kind: string;
  /** The block shape it acts on, e.g. [out, in] for a weight matrix. */
  readonly shape: Shape;
  readonly dtype: DType;
  /**
   * The backend its tensors live on; absent (or undefined) for operators that own no tensors.
   * `| undefined` keeps classes that declare `backend: Backend | undefined` (Sum, Scaled,
   * BlockDiagonal, and yours) valid under exactOptionalPropertyTypes.
   */
  readonly backend?: Backend | undefined;
  /** Absent means nothing is known (a user operator without tags). */
  readonly tags?: OperatorTags;
  /**
   * out <- A x. x and out have the block shape, live on one backend and must not alias.
   * Writes into out and allocates nothing per call, so a CG loop can call it freely.
   */
  apply(x: Tensor, out: Tensor): void;
  /** The exact diagonal as a new tensor of the block shape (the caller disposes it). */
  diagonal?(): Tensor;
  /** The [n, n] float64 matrix (n = block size), row-major: for tests and small sizes. */
  toDense?(): Float64Array;
  /**
   * Releases tensors the library allocated for this operator (scratch space, cached
   * factorizations, tensors made by add/scale); never the tensors you passed in.
   */
  dispose?(): void;
}

/** The tags of an operator; an operator without tags is known to be nothing. */
export function tagsOf(op: LinearOperator): OperatorTags {
  return op.tags ?? UNKNOWN_TAGS;
}

export const UNKNOWN_TAGS: OperatorTags = Object.freeze({ symmetric: false, psd: false });

/** Duck-typed test for the operator contract: kind, shape, dtype and apply. */
export function isLinearOperator(x: unknown): x is LinearOperator {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<LinearOperator>;
  return (
    typeof o.kind === 'string' &&
    Array.isArray(o.shape) &&
    (o.dtype === 'float64' || o.dtype === 'float32') &&
    typeof o.apply === 'function'
  );
}

/** Number of elements in the operator's block (the order of its matrix). */
export function blockSize(op: LinearOperator): number {
  return shapeSize(op.shape);
}

/** A short description for error messages: `kronecker [3, 4]`. */
export function describeOperator(op: LinearOperator): string {
  return `${op.kind} ${formatShape(op.shape)}`;
}

/**
 * Checks that apply's x and out have the block shape. Cheap (no allocation unless it throws),
 * so built-in operators call it on every apply.
 */
export function checkApplyOperands(op: LinearOperator, x: Tensor, out: Tensor): void {
  if (!isShape(x.shape, op.shape) || !isShape(out.shape, op.shape)) {
    const bad = sameShape(x.shape, op.shape) ? ['out', out] : ['x', x];
    throw new ShapeError(
      `${describeOperator(op)}: apply got ${bad[0] as string} of shape ${formatShape((bad[1] as Tensor).shape)}, ` +
        `expected the block shape ${formatShape(op.shape)} (reshape it with backend.reshape)`,
    );
  }
  if (x === out) throw new ShapeError(`${describeOperator(op)}: apply needs out distinct from x`);
}

/** sameShape without a closure: apply calls it on every iteration. */
function isShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks that every operator acts on the same block shape and dtype; names the first misfit. */
export function checkSameBlock(what: string, ops: readonly LinearOperator[]): void {
  const first = ops[0];
  ops.forEach((op, i) => {
    if (!sameShape(op.shape, first.shape)) {
      throw new ShapeError(
        `${what}: part ${i} (${describeOperator(op)}) acts on shape ${formatShape(op.shape)}, ` +
          `part 0 (${describeOperator(first)}) on ${formatShape(first.shape)}`,
      );
    }
    if (op.dtype !== first.dtype) {
      throw new TypeError(`${what}: part ${i} (${describeOperator(op)}) is ${op.dtype}, part 0 is ${first.dtype}`);
    }
  });
}

/** The backend shared by a list of operators, if any owns one; two different ones throw. */
export function sharedBackend(what: string, ops: readonly LinearOperator[]): Backend | undefined {
  let found: Backend | undefined;
  for (const op of ops) {
    if (!op.backend) continue;
    if (found && op.backend !== found) {
      throw new TypeError(
        `${what}: parts live on different backend instances (${found.name}/${found.dtype} and ` +
          `${op.backend.name}/${op.backend.dtype}); build every part on one backend`,
      );
    }
    found = op.backend;
  }
  return found;
}
