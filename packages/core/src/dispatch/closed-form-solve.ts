/**
 * Solving with an exact inverse, and the composite solves (Scaled, BlockDiagonal). A closed
 * form is checked like PCG's answer: the residual ||b - A x|| is recomputed and reported; when
 * it misses the tolerance (an ill-conditioned block in float32, say), PCG preconditioned by the
 * same inverse finishes the job from there. A closed form that does not exist for this
 * operator (a singular factor) falls back to PCG, and the result says so.
 */
import type { Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import { sameShape } from '../backend/shape.js';
import type { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import type { ScaledOperator } from '../operators/scaled.js';
import { statusMessage } from '../solver/pcg-status.js';
import type { PcgStatus } from '../solver/pcg-types.js';
import { checkBlockTensor, DEFAULT_RTOL, runSolve } from '../solver/pcg.js';
import type { SolveOptions, SolveResult } from '../solver/solve-types.js';
import type { ExactInverse } from './exact-inverses.js';

type Solver = (op: LinearOperator, b: Tensor, options: SolveOptions) => SolveResult;

/** PCG with the 'auto' preconditioner: the path for everything without a closed form. */
export function solveByPcg(op: LinearOperator, b: Tensor, options: SolveOptions, note?: string): SolveResult {
  const result = runSolve('solve', op, [b], options.x0 ? [options.x0] : [], options, 'auto')[0];
  const notes = [note, result.note].filter(Boolean).join('; ');
  return { ...result, method: 'pcg', ...(notes ? { note: notes } : {}) };
}

export function solveWithInverse(op: LinearOperator, b: Tensor, options: SolveOptions, rule: string, inverse: () => ExactInverse): SolveResult {
  const backend = b.backend;
  checkBlockTensor('solve', 'b', b, op, backend);
  let inv: ExactInverse;
  try {
    inv = inverse();
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
    return solveByPcg(op, b, options, `no closed form (${rule}): ${e.message}; solved by PCG`);
  }
  const asBlock = (t: Tensor) => (sameShape(t.shape, op.shape) ? t : backend.reshape(t, op.shape));
  const x = backend.zeros(b.shape);
  const bBlock = asBlock(b);
  inv.operator.apply(bBlock, asBlock(x));
  const residualNorm = residual(op, bBlock, asBlock(x));
  const bNorm = backend.nrm2(b);
  const initialResidualNorm = options.x0 ? residual(op, bBlock, asBlock(options.x0)) : bNorm;
  const threshold = Math.max(options.atol ?? 0, (options.rtol ?? DEFAULT_RTOL) * bNorm);
  const finite = Number.isFinite(bNorm) && Number.isFinite(residualNorm);
  if (finite && residualNorm > threshold && !inv.pseudo) {
    // The closed form missed the tolerance: refine with PCG, preconditioned by the same inverse.
    const refined = runSolve('solve', op, [b], [x], { ...options, preconditioner: inv.operator }, 'none')[0];
    backend.dispose(x);
    return { ...refined, method: `${rule} + pcg refinement`, preconditioner: `exact inverse (${rule})`, ...(inv.note ? { note: inv.note } : {}) };
  }
  const status: PcgStatus = finite ? 'converged' : 'nonFinite';
  // A pseudo-inverse's residual is b's part outside the range: say so rather than claim ||r|| <= threshold.
  const message =
    finite && inv.pseudo && residualNorm > threshold
      ? `solved in closed form (${rule}) by the pseudo-inverse of a singular operator: ||r|| = ${residualNorm.toExponential(2)} is the ` +
        `part of b outside the operator's range, which no solution can reduce (the minimum-norm least-squares solution); ` +
        `add damping if every direction should be constrained`
      : statusMessage(status, {
          iterations: 0,
          residualNorm,
          threshold,
          bNorm,
          dtype: op.dtype,
          reference: false,
          detail: finite ? `closed form: ${rule}` : 'in b or in the closed-form solution',
        });
  return {
    x,
    status,
    message,
    iterations: 0,
    residualNorm,
    initialResidualNorm,
    history: [],
    preconditioner: 'none',
    method: rule,
    ...(inv.note ? { note: inv.note } : {}),
  };
}

/** ||b - A x||, with one temporary. */
function residual(op: LinearOperator, b: Tensor, x: Tensor): number {
  const backend = b.backend;
  const r = backend.zeros(op.shape);
  op.apply(x, r);
  backend.axpy(-1, b, r);
  const norm = backend.nrm2(r);
  backend.dispose(r);
  return norm;
}

/** (alpha A)^-1 b = A^-1 b / alpha: solve the inner operator (the residual is the same). */
export function solveScaled(op: ScaledOperator, b: Tensor, options: SolveOptions, self: Solver): SolveResult {
  if (op.alpha === 0) return solveByPcg(op, b, options);
  const backend = b.backend;
  checkBlockTensor('solve', 'b', b, op, backend);
  let x0: Tensor | undefined;
  if (options.x0) {
    // The inner system's unknown is alpha x.
    x0 = backend.zeros(options.x0.shape);
    backend.copy(options.x0, x0);
    backend.scal(op.alpha, x0);
  }
  const inner = self(op.inner, b, { ...options, x0 });
  if (x0) backend.dispose(x0);
  backend.scal(1 / op.alpha, inner.x);
  return { ...inner, method: `scaled(${inner.method})` };
}

const SEVERITY: readonly PcgStatus[] = ['converged', 'maxIterations', 'stopped', 'breakdown', 'indefinite', 'nonFinite'];

/** Each block solved on its own, by its own rule, to its own tolerance (stricter than the whole's). */
export function solveBlockwise(op: BlockDiagonalOperator, b: Tensor, options: SolveOptions, self: Solver): SolveResult {
  const backend = b.backend;
  checkBlockTensor('solve', 'b', b, op, backend);
  const x = backend.zeros(b.shape);
  const gather = (from: Tensor, i: number) => {
    const t = backend.zeros(op.blocks[i].shape);
    backend.copyRange(from, op.offsets[i], t, 0, t.size);
    return t;
  };
  const results = op.blocks.map((block, i) => {
    const bi = gather(b, i);
    const x0 = options.x0 ? gather(options.x0, i) : undefined;
    const r = self(block, bi, { ...options, x0 });
    backend.copyRange(r.x, 0, x, op.offsets[i], r.x.size);
    backend.dispose(bi);
    if (x0) backend.dispose(x0);
    backend.dispose(r.x);
    return r;
  });
  const worst = results.reduce((w, r, i) => (SEVERITY.indexOf(r.status) > SEVERITY.indexOf(results[w].status) ? i : w), 0);
  const norm = (values: number[]) => Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  const distinct = (values: string[]) => [...new Set(values)].join(', ');
  const notes = results.flatMap((r, i) => (r.note ? [`block ${i}: ${r.note}`] : []));
  const status = results[worst].status;
  return {
    x,
    status,
    message:
      status === 'converged'
        ? `all ${results.length} blocks converged (${distinct(results.map((r) => r.method))})`
        : `block ${worst} (${op.blocks[worst].kind}): ${results[worst].message}`,
    iterations: Math.max(...results.map((r) => r.iterations)),
    residualNorm: norm(results.map((r) => r.residualNorm)),
    initialResidualNorm: norm(results.map((r) => r.initialResidualNorm)),
    history: [],
    preconditioner: distinct(results.map((r) => r.preconditioner)),
    method: `blockwise (${distinct(results.map((r) => r.method))})`,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
