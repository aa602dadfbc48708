/**
 * Solving with an exact inverse, and the composite solves (Scaled, BlockDiagonal). A closed
 * form is checked like PCG's answer: the residual ||b - A x|| is recomputed and reported, and
 * the status never says 'converged' above the tolerance.
 * - A built-in closed form that misses the tolerance (an ill-conditioned block in float32,
 *   say) is finished by PCG preconditioned by the same inverse (options.refine, default on).
 * - A registered rule (a user kind's solve) that misses it is reported, not silently refined:
 *   a miss there is more likely a wrong rule than rounding. The result's note and closedForm
 *   field say by how much; refine: true asks for the PCG finish.
 * - A pseudo-inverse (a singular operator) returns the minimum-norm least-squares solution;
 *   when its residual is above the tolerance because b has a part outside the range, the
 *   status is 'leastSquares'.
 * A closed form that does not exist for this operator (an indefinite factor) falls back to
 * PCG, and the result says so.
 */
import type { Tensor } from '../backend/backend.js';
import { NotPositiveDefiniteError } from '../backend/errors.js';
import { sameShape } from '../backend/shape.js';
import type { BlockDiagonalOperator } from '../operators/block-diagonal.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import type { ScaledOperator } from '../operators/scaled.js';
import { checkBlockTensor, DEFAULT_RTOL, runSolve } from '../solver/pcg-setup.js';
import { statusMessage } from '../solver/pcg-status.js';
import type { PcgStatus } from '../solver/pcg-types.js';
import type { ClosedFormCheck, SolveOptions, SolveResult } from '../solver/solve-types.js';
import { reachableRtol, roundingFloor } from '../solver/stagnation.js';
import { inverseDescription, type ExactInverse } from './exact-inverses.js';
import type { ResolvePreconditioner } from './resolve-preconditioner.js';

type Solver = (op: LinearOperator, b: Tensor, options: SolveOptions) => SolveResult;

/** Steps of x <- x + pinv(A) (b - A x) a pseudo-inverse solve may take to meet the tolerance within the range. */
const PSEUDO_REFINEMENT_STEPS = 2;

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));
const joinNotes = (...notes: (string | undefined)[]) => notes.filter(Boolean).join('; ') || undefined;

/** PCG with the 'auto' preconditioner: the path for everything without a closed form. */
export function solveByPcg(op: LinearOperator, b: Tensor, options: SolveOptions, resolve: ResolvePreconditioner, note?: string): SolveResult {
  const result = runSolve('solve', op, [b], options.x0 ? [options.x0] : [], options, 'auto', (choice) => resolve('solve', op, choice))[0];
  const notes = joinNotes(note, result.note);
  return { ...result, method: 'pcg', ...(notes ? { note: notes } : {}) };
}

export function solveWithInverse(
  op: LinearOperator,
  b: Tensor,
  options: SolveOptions,
  rule: string,
  inverse: () => ExactInverse,
  resolve: ResolvePreconditioner,
): SolveResult {
  const backend = b.backend;
  checkBlockTensor('solve', 'b', b, op, backend);
  let inv: ExactInverse;
  try {
    inv = inverse();
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
    return solveByPcg(op, b, options, resolve, `no closed form (${rule}): ${e.message}; solved by PCG`);
  }
  const asBlock = (t: Tensor) => (sameShape(t.shape, op.shape) ? t : backend.reshape(t, op.shape));
  const x = backend.zeros(b.shape);
  const bBlock = asBlock(b);
  const xBlock = asBlock(x);
  inv.operator.apply(bBlock, xBlock);
  const bNorm = backend.nrm2(b);
  const threshold = Math.max(options.atol ?? 0, (options.rtol ?? DEFAULT_RTOL) * bNorm);
  const initialResidualNorm = options.x0 ? residualNorm(op, bBlock, asBlock(options.x0)) : bNorm;
  const first = residualNorm(op, bBlock, xBlock);
  const check = (residual: number, refined: boolean): ClosedFormCheck => ({ rule, residualNorm: residual, threshold, withinTolerance: residual <= threshold, refined });
  const finite = Number.isFinite(bNorm) && Number.isFinite(first);
  const base = { x, iterations: 0, initialResidualNorm, history: [], preconditioner: 'none', method: rule };

  if (!finite || first <= threshold) {
    const status: PcgStatus = finite ? 'converged' : 'nonFinite';
    const detail = finite ? `closed form: ${rule}` : 'in b or in the closed-form solution';
    const message = statusMessage(status, { iterations: 0, residualNorm: first, threshold, bNorm, dtype: op.dtype, reference: false, detail });
    return { ...base, status, message, residualNorm: first, closedForm: check(first, false), ...(inv.note ? { note: inv.note } : {}) };
  }
  if (inv.pseudo) {
    const outcome = leastSquaresOutcome(op, inv.operator, bBlock, xBlock, bNorm, threshold, rule);
    return { ...base, ...outcome, closedForm: check(first, outcome.refined), ...(inv.note ? { note: inv.note } : {}) };
  }
  const missed =
    `the closed form ${rule} misses the tolerance: ||b - A x|| = ${fmt(first)} (||r|| / ||b|| = ${fmt(first / bNorm)}) > ${fmt(threshold)}` +
    (inv.registered ? '; a registered rule that misses by this much is likely wrong: check it against apply' : '');
  const refine = options.refine ?? !inv.registered;
  if (refine) {
    // PCG preconditioned by the same inverse finishes the job from the closed form's answer.
    const refined = runSolve('solve', op, [b], [x], { ...options, preconditioner: inv.operator }, 'none', (choice) => resolve('solve', op, choice))[0];
    backend.dispose(x);
    const note = joinNotes(inv.note, inv.registered ? missed : undefined);
    return {
      ...refined,
      method: `${rule} + pcg refinement`,
      preconditioner: inverseDescription(rule, inv),
      closedForm: check(first, true),
      ...(note ? { note } : {}),
    };
  }
  const message =
    `${missed}; not refined (refine: ${options.refine === false ? 'false' : 'false is the default for registered rules'}): ` +
    `x is the closed form's answer. Pass refine: true to finish it by PCG preconditioned by the rule`;
  return { ...base, status: 'maxIterations', message, residualNorm: first, closedForm: check(first, false), note: joinNotes(inv.note, missed)! };
}

/**
 * A pseudo-inverse's answer above the tolerance. r = b - A x splits into the part outside the
 * range, which no x can reduce, and the part inside, A pinv(A) r, which a better x would
 * remove. When the inside part is within the tolerance, x is the least-squares solution to
 * that tolerance ('leastSquares'); otherwise (rounding in an ill-conditioned float32 block, say)
 * a few steps x <- x + pinv(A) r, which stay in the range and so keep x minimum-norm, try to
 * meet it; what remains is reported as 'stagnated'.
 */
function leastSquaresOutcome(
  op: LinearOperator,
  pinv: LinearOperator,
  b: Tensor,
  x: Tensor,
  bNorm: number,
  threshold: number,
  rule: string,
): { status: PcgStatus; message: string; residualNorm: number; refined: boolean } {
  const backend = b.backend;
  const r = backend.zeros(op.shape);
  const d = backend.zeros(op.shape);
  const q = backend.zeros(op.shape);
  try {
    let refined = false;
    let rNorm = 0;
    let inRange = 0;
    let axNorm = 0;
    for (let step = 0; ; step++) {
      // r = b - A x; d = pinv(A) r; inRange = ||A d||, the part of r a better x could remove.
      op.apply(x, q);
      axNorm = backend.nrm2(q);
      backend.copy(b, r);
      backend.axpy(-1, q, r);
      rNorm = backend.nrm2(r);
      pinv.apply(r, d);
      op.apply(d, q);
      inRange = backend.nrm2(q);
      if (rNorm <= threshold || inRange <= threshold || step === PSEUDO_REFINEMENT_STEPS || !Number.isFinite(inRange)) break;
      backend.axpy(1, d, x);
      refined = true;
    }
    const context = { iterations: 0, residualNorm: rNorm, threshold, bNorm, dtype: op.dtype, reference: false };
    if (rNorm <= threshold) return { status: 'converged', message: statusMessage('converged', { ...context, detail: `closed form: ${rule}` }), residualNorm: rNorm, refined };
    if (inRange <= threshold) {
      const detail = `closed form ${rule}, pseudo-inverse; the residual's part inside the range is ${fmt(inRange)}`;
      return { status: 'leastSquares', message: statusMessage('leastSquares', { ...context, detail }), residualNorm: rNorm, refined };
    }
    const reach = reachableRtol(inRange, bNorm, roundingFloor(bNorm, axNorm, op.dtype));
    const message =
      `stagnated: the pseudo-inverse solution (${rule}) misses the tolerance inside the operator's range: ||A pinv(A) r|| = ${fmt(inRange)} > ` +
      `${fmt(threshold)} after ${PSEUDO_REFINEMENT_STEPS} refinement steps (||r|| = ${fmt(rNorm)}, ||r|| / ||b|| = ${fmt(rNorm / bNorm)}); ` +
      `${op.dtype} reaches rtol ${reach.toExponential(0)} on this system: ask for rtol >= ${reach.toExponential(0)}` +
      (op.dtype === 'float32' ? ', or compute in float64' : ', or damp the system');
    return { status: 'stagnated', message, residualNorm: rNorm, refined };
  } finally {
    backend.dispose(r);
    backend.dispose(d);
    backend.dispose(q);
  }
}

/** ||b - A x||, with one temporary. */
function residualNorm(op: LinearOperator, b: Tensor, x: Tensor): number {
  const backend = b.backend;
  const r = backend.zeros(op.shape);
  op.apply(x, r);
  backend.axpy(-1, b, r);
  const norm = backend.nrm2(r);
  backend.dispose(r);
  return norm;
}

/** (alpha A)^-1 b = A^-1 b / alpha: solve the inner operator (the residual is the same). */
export function solveScaled(op: ScaledOperator, b: Tensor, options: SolveOptions, self: Solver, resolve: ResolvePreconditioner): SolveResult {
  if (op.alpha === 0) return solveByPcg(op, b, options, resolve);
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

/** Worst last: the status of a block-diagonal solve is its worst block's. */
const SEVERITY: readonly PcgStatus[] = ['converged', 'leastSquares', 'maxIterations', 'stagnated', 'stopped', 'breakdown', 'indefinite', 'nonFinite'];

/**
 * Each block solved on its own, by its own rule. Block i gets the absolute tolerance
 * T ||b_i|| / ||b||, T = max(atol, rtol ||b||): the squares of the blocks' thresholds sum to
 * T^2, so blocks that all converge make a whole that converges.
 */
export function solveBlockwise(op: BlockDiagonalOperator, b: Tensor, options: SolveOptions, self: Solver): SolveResult {
  const backend = b.backend;
  checkBlockTensor('solve', 'b', b, op, backend);
  const x = backend.zeros(b.shape);
  const gather = (from: Tensor, i: number) => {
    const t = backend.zeros(op.blocks[i].shape);
    backend.copyRange(from, op.offsets[i], t, 0, t.size);
    return t;
  };
  const bNorm = backend.nrm2(b);
  const whole = Math.max(options.atol ?? 0, (options.rtol ?? DEFAULT_RTOL) * bNorm);
  const results = op.blocks.map((block, i) => {
    const bi = gather(b, i);
    const x0 = options.x0 ? gather(options.x0, i) : undefined;
    const share = bNorm > 0 ? backend.nrm2(bi) / bNorm : 0;
    // A NaN or Inf in b has no share to give: each block then reports it (nonFinite) itself.
    const tolerance = Number.isFinite(bNorm) ? { rtol: 0, atol: whole * share } : {};
    const r = self(block, bi, { ...options, x0, ...tolerance });
    backend.copyRange(r.x, 0, x, op.offsets[i], r.x.size);
    backend.dispose(bi);
    if (x0) backend.dispose(x0);
    backend.dispose(r.x);
    return r;
  });
  return { x, ...combineBlocks(op, results) };
}

/** The whole's report from its blocks': the worst status, norms over all blocks, every note. */
function combineBlocks(op: BlockDiagonalOperator, results: SolveResult[]): Omit<SolveResult, 'x'> {
  const worst = results.reduce((w, r, i) => (SEVERITY.indexOf(r.status) > SEVERITY.indexOf(results[w].status) ? i : w), 0);
  const norm = (values: number[]) => Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  const distinct = (values: string[]) => [...new Set(values)].join(', ');
  const notes = results.flatMap((r, i) => (r.note ? [`block ${i}: ${r.note}`] : []));
  const status = results[worst].status;
  return {
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
