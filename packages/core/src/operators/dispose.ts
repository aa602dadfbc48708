import type { LinearOperator } from './linear-operator.js';
import { releaseOwned } from './owned.js';

/**
 * Releases the tensors the library allocated for op (scratch space, cached factorizations and
 * preconditioners, tensors made by add/scale) and recurses into its parts; never the tensors
 * you passed to a constructor. Matters on GPU backends, where storage is not garbage
 * collected. The operator stays usable (what it needs is made again on demand), unless a part
 * it owned (a Diagonal made by add) was released with it.
 */
export function disposeOperator(op: LinearOperator): void {
  op.dispose?.();
  releaseOwned(op);
  const parts = (op as { parts?: readonly LinearOperator[] }).parts ?? (op as { blocks?: readonly LinearOperator[] }).blocks;
  const inner = (op as { inner?: LinearOperator }).inner;
  for (const p of [...(parts ?? []), ...(inner ? [inner] : [])]) disposeOperator(p);
}
