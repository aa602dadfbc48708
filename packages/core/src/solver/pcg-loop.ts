/**
 * The preconditioned conjugate gradient iteration (Saad, Iterative Methods for Sparse Linear
 * Systems, 2nd ed., Algorithm 9.1), for several right-hand sides in lock-step.
 *
 * Everything is set up before the loop: the preconditioner arrives resolved (the loop knows
 * nothing of dispatch), work vectors are allocated once per right-hand side, and an iteration
 * only calls apply, dot, nrm2, axpy and axpby: no dispatch, no tensor allocation.
 *
 * Stagnation (stagnation.ts) ends a solve that cannot reach its tolerance instead of letting it
 * grind through its budget, or drift at the rounding floor until it overflows.
 */
import type { Backend, Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { unitRoundoff } from '../testing/tolerance.js';
import { statusMessage } from './pcg-status.js';
import type { PcgProgress, PcgResult, PcgStatus } from './pcg-types.js';
import { atRoundingFloor, diverged, FLOOR_CHECK_SPACING, improves, roundingFloor, type Stagnation } from './stagnation.js';

export interface LoopSettings {
  rtol: number;
  atol: number;
  maxIterations: number;
  /** 0: never. */
  recomputeEvery: number;
  /** scipy's legacy rule with this tol, or null for the default rule. */
  referenceTol: number | null;
  /** Iterations without progress before 'stagnated'; 0: never (nor the floor test). */
  stagnationWindow: number;
  preconditioner: LinearOperator | null;
  callback?: (progress: PcgProgress) => void | 'stop';
  signal?: AbortSignal;
}

/** What the loop reports per right-hand side (the caller adds x and the preconditioner). */
export type ColumnOutcome = Omit<PcgResult, 'x' | 'preconditioner' | 'note'>;

/** The state of one right-hand side. */
interface Column {
  readonly b: Tensor;
  readonly x: Tensor;
  readonly r: Tensor;
  /** The preconditioned residual M r; the same tensor as r without a preconditioner. */
  readonly z: Tensor;
  readonly p: Tensor;
  /** A p, and scratch for A x when the true residual is recomputed. */
  readonly q: Tensor;
  /** x0 (null: zero), to restore when no later iterate beats it. */
  readonly x0: Tensor | null;
  bNorm: number;
  threshold: number;
  rz: number;
  /** r^T M r at the start: what a vanished r^T M r is measured against. */
  rzInitial: number;
  rNorm: number;
  /** ||A x|| when r was last computed directly (for the rounding floor). */
  axNorm: number;
  /** r is b - A x computed directly (not updated recursively) at the current x. */
  fresh: boolean;
  iterations: number;
  initialResidualNorm: number;
  history: number[];
  /** The smallest true residual seen, and its x (null: x0's, or zero's, is the best). */
  bestTrueNorm: number;
  xBest: Tensor | null;
  /** The last true residual that improved on the one before it by the margin, and when. */
  markNorm: number;
  markIteration: number;
  /** The first iteration at which the rounding floor may be checked again. */
  nextFloorCheck: number;
  status: PcgStatus | null;
  detail: string;
  stagnation: Stagnation | null;
}

/**
 * Solves A x_j = b_j for every column j. bs and x0s have A's block shape; xs (block-shaped,
 * one per column) receive the solutions.
 */
export function runPcg(
  A: LinearOperator,
  backend: Backend,
  bs: readonly Tensor[],
  x0s: readonly (Tensor | undefined)[],
  xs: readonly Tensor[],
  s: LoopSettings,
): ColumnOutcome[] {
  const M = s.preconditioner;
  const work: Tensor[] = [];
  const alloc = () => {
    const t = backend.zeros(A.shape);
    work.push(t);
    return t;
  };
  const columns: Column[] = bs.map((b, j) => {
    const r = alloc();
    return {
      b,
      x: xs[j],
      r,
      z: M ? alloc() : r,
      p: alloc(),
      q: alloc(),
      x0: x0s[j] ?? null,
      bNorm: 0,
      threshold: 0,
      rz: 0,
      rzInitial: 0,
      rNorm: 0,
      axNorm: 0,
      fresh: true,
      iterations: 0,
      initialResidualNorm: 0,
      history: [],
      bestTrueNorm: Infinity,
      xBest: null,
      markNorm: Infinity,
      markIteration: 0,
      nextFloorCheck: 0,
      status: null,
      detail: '',
      stagnation: null,
    };
  });

  try {
    for (let j = 0; j < columns.length; j++) start(A, backend, columns[j], s);
    iterate(A, backend, columns, s, alloc);
    return columns.map((c) => finish(A, backend, c, s));
  } finally {
    for (const t of work) backend.dispose(t);
  }
}

/** r = b - A x0, the tolerance, and the first search direction; may settle the column at once. */
function start(A: LinearOperator, backend: Backend, c: Column, s: LoopSettings): void {
  c.bNorm = backend.nrm2(c.b);
  if (!Number.isFinite(c.bNorm)) return settle(c, 'nonFinite', 'in the right-hand side b');
  if (c.x0) {
    backend.copy(c.x0, c.x);
    trueResidual(A, backend, c);
  } else {
    // x = 0: r = b without an apply.
    backend.copy(c.b, c.r);
    c.rNorm = c.bNorm;
  }
  c.initialResidualNorm = c.rNorm;
  c.bestTrueNorm = c.rNorm;
  c.markNorm = c.rNorm;
  c.history.push(c.rNorm);
  if (!Number.isFinite(c.rNorm)) return settle(c, 'nonFinite', 'in the initial residual b - A x0 (x0 or the operator)');
  if (c.bNorm === 0) {
    // A zero right-hand side has the solution zero, whatever x0 says.
    backend.fill(c.x, 0);
    backend.fill(c.r, 0);
    c.rNorm = 0;
    return settle(c, 'converged', 'b = 0, so x = 0');
  }
  if (s.referenceTol !== null) {
    // scipy's legacy _get_atol: exit at once if ||b - A x0|| <= tol (an absolute test), else
    // stop when ||r|| <= tol ||b||.
    c.threshold = s.referenceTol * c.bNorm;
    if (c.rNorm <= s.referenceTol || c.rNorm <= c.threshold) return settle(c, 'converged', 'initial guess accepted by the legacy rule');
  } else {
    c.threshold = Math.max(s.atol, s.rtol * c.bNorm);
    if (c.rNorm <= c.threshold) return settle(c, 'converged', 'initial guess already within tolerance');
    if (s.stagnationWindow > 0 && atRoundingFloor(c.rNorm, c.bNorm, c.axNorm, A.dtype)) {
      return stagnate(c, { kind: 'floor', iteration: 0, floor: roundingFloor(c.bNorm, c.axNorm, A.dtype) });
    }
  }
  if (!precondition(backend, c, s.preconditioner, 0)) return;
  backend.copy(c.z, c.p);
}

/** z = M r and rz = r^T z; false (and the column settled) when that breaks down. */
function precondition(backend: Backend, c: Column, M: LinearOperator | null, iteration: number): boolean {
  if (M) {
    M.apply(c.r, c.z);
    c.rz = backend.dot(c.r, c.z);
  } else {
    c.rz = c.rNorm * c.rNorm;
  }
  if (!Number.isFinite(c.rz)) {
    settle(c, 'nonFinite', `in the preconditioned residual at iteration ${iteration}`);
    return false;
  }
  if (iteration === 0) c.rzInitial = c.rz;
  if (c.rz <= 0) {
    // Rounding noise (below u^2 of its initial value) where r^T M r was once well above 0: M r
    // vanished, r lies in M's null space.
    const vanished = Math.abs(c.rz) <= unitRoundoff(c.r.dtype) ** 2 * c.rzInitial;
    settle(
      c,
      'breakdown',
      `r^T M r = ${c.rz.toExponential(2)} <= 0 at iteration ${iteration} with ||r|| = ${c.rNorm.toExponential(2)}` +
        (vanished
          ? ' (M r vanished: r lies in the null space of a singular preconditioner, e.g. the pseudo-inverse of a singular operator ' +
            "when b has a part outside the operator's range; solve's closed forms return the least-squares solution there)"
          : ''),
    );
    return false;
  }
  return true;
}

function iterate(A: LinearOperator, backend: Backend, columns: Column[], s: LoopSettings, alloc: () => Tensor): void {
  const M = s.preconditioner;
  const norms = new Float64Array(columns.length);
  const wasRunning = new Uint8Array(columns.length);
  // One progress record, updated in place: the loop allocates nothing per iteration.
  const progress = { iteration: 0, residualNorm: 0, residualNorms: norms };
  for (let k = 1; k <= s.maxIterations; k++) {
    if (s.signal?.aborted) {
      const reason = s.signal.reason instanceof Error ? s.signal.reason.message : String(s.signal.reason ?? '');
      stopRunning(columns, `by the AbortSignal${reason ? ` (${reason})` : ''}`);
      return;
    }
    let running = 0;
    for (let j = 0; j < columns.length; j++) {
      const c = columns[j];
      wasRunning[j] = c.status === null ? 1 : 0;
      if (c.status === null) {
        step(A, backend, c, M, k, s, alloc);
        running++;
      }
      norms[j] = c.rNorm;
    }
    if (running === 0) return;
    if (s.callback) {
      let largest = 0;
      for (let j = 0; j < columns.length; j++) if (wasRunning[j]) largest = Math.max(largest, norms[j]);
      progress.iteration = k;
      progress.residualNorm = largest;
      if (s.callback(progress) === 'stop') {
        stopRunning(columns, 'by the callback');
        return;
      }
    }
  }
}

/** One CG iteration for one column. */
function step(A: LinearOperator, backend: Backend, c: Column, M: LinearOperator | null, k: number, s: LoopSettings, alloc: () => Tensor): void {
  A.apply(c.p, c.q);
  const pq = backend.dot(c.p, c.q);
  if (!Number.isFinite(pq)) return settle(c, 'nonFinite', `in A p at iteration ${k} (p^T A p = ${pq})`);
  // A zero or negative curvature means A is not positive definite: stop rather than take a
  // zero or uphill step (alpha = r^T z / p^T A p is never computed with a zero denominator).
  if (pq <= 0) {
    const singular = pq === 0 ? ' (A is singular along the search direction, or indefinite)' : '';
    return settle(c, 'indefinite', `p^T A p = ${pq.toExponential(2)} <= 0 at iteration ${k}${singular}`);
  }
  const alpha = c.rz / pq;
  backend.axpy(alpha, c.p, c.x);
  backend.axpy(-alpha, c.q, c.r);
  c.iterations = k;
  c.fresh = false;
  if (s.recomputeEvery > 0 && k % s.recomputeEvery === 0) trueResidual(A, backend, c);
  else c.rNorm = backend.nrm2(c.r);
  c.history.push(c.rNorm);
  if (!Number.isFinite(c.rNorm)) return settle(c, 'nonFinite', `in the residual at iteration ${k}`);
  if (c.rNorm <= c.threshold) {
    // An exact-zero residual lands here too. Confirm on the true residual (scipy's legacy rule
    // skips this after the first iteration).
    const confirm = s.referenceTol === null || k > 1;
    if (confirm && !c.fresh) {
      trueResidual(A, backend, c);
      c.history[c.history.length - 1] = c.rNorm;
    }
    if (c.rNorm <= c.threshold) return settle(c, 'converged', '');
    // The updated residual had drifted: continue from the true one.
  }
  if (s.stagnationWindow > 0 && stagnated(A, backend, c, k, s, alloc)) return;
  if (k === s.maxIterations) return settle(c, 'maxIterations', '');
  const rzPrevious = c.rz;
  if (!precondition(backend, c, M, k)) return;
  // p <- z + beta p, one fused pass.
  backend.axpby(1, c.z, c.rz / rzPrevious, c.p);
}

/**
 * The stagnation tests after iteration k (the column is not converged): settles the column
 * and returns true when it can make no more progress. The true residual is computed when a
 * test needs it, so every 'stagnated' is decided on ||b - A x||, never on the drifting
 * recursive residual.
 */
function stagnated(A: LinearOperator, backend: Backend, c: Column, k: number, s: LoopSettings, alloc: () => Tensor): boolean {
  // Cheap triggers on the recursive residual (||A x|| ~ ||b|| near a solution) ...
  const floorLikely = atRoundingFloor(c.rNorm, c.bNorm, c.bNorm, A.dtype) && k >= c.nextFloorCheck;
  const windowOver = k - c.markIteration >= s.stagnationWindow;
  if (!c.fresh && (floorLikely || windowOver || diverged(c.rNorm, c.bestTrueNorm))) {
    trueResidual(A, backend, c);
    c.history[c.history.length - 1] = c.rNorm;
    if (floorLikely) c.nextFloorCheck = k + FLOOR_CHECK_SPACING;
    if (c.rNorm <= c.threshold) {
      settle(c, 'converged', '');
      return true;
    }
  }
  // ... and the decisions on the true one (the recursive residual may drift below it forever).
  if (!c.fresh) return false;
  keepBest(backend, c, alloc);
  if (improves(c.rNorm, c.markNorm)) {
    c.markNorm = c.rNorm;
    c.markIteration = k;
  }
  if (atRoundingFloor(c.rNorm, c.bNorm, c.axNorm, A.dtype)) {
    stagnate(c, { kind: 'floor', iteration: k, floor: roundingFloor(c.bNorm, c.axNorm, A.dtype) });
  } else if (diverged(c.rNorm, c.bestTrueNorm)) {
    stagnate(c, { kind: 'diverged', iteration: k, floor: roundingFloor(c.bNorm, c.axNorm, A.dtype) });
  } else if (k - c.markIteration >= s.stagnationWindow) {
    stagnate(c, { kind: 'window', iteration: k, floor: roundingFloor(c.bNorm, c.axNorm, A.dtype), window: s.stagnationWindow });
  }
  return c.status !== null;
}

/** Keeps x when its (fresh) true residual is the smallest so far: 'stagnated' returns the best iterate. */
function keepBest(backend: Backend, c: Column, alloc: () => Tensor): void {
  if (!(c.rNorm < c.bestTrueNorm)) return;
  c.bestTrueNorm = c.rNorm;
  // Allocated only by solves that reach a true-residual check after iteration 0.
  c.xBest ??= alloc();
  backend.copy(c.x, c.xBest);
}

/** r = b - A x, computed directly; also ||A x|| for the rounding floor. */
function trueResidual(A: LinearOperator, backend: Backend, c: Column): void {
  A.apply(c.x, c.q);
  c.axNorm = backend.nrm2(c.q);
  backend.copy(c.b, c.r);
  backend.axpy(-1, c.q, c.r);
  c.rNorm = backend.nrm2(c.r);
  c.fresh = true;
}

function settle(c: Column, status: PcgStatus, detail: string): void {
  c.status = status;
  c.detail = detail;
}

function stagnate(c: Column, why: Stagnation): void {
  c.stagnation = why;
  settle(c, 'stagnated', '');
}

function stopRunning(columns: Column[], detail: string): void {
  for (const c of columns) if (c.status === null) settle(c, 'stopped', detail);
}

/** The outcome of a column, with the residual norm recomputed from the returned x. */
function finish(A: LinearOperator, backend: Backend, c: Column, s: LoopSettings): ColumnOutcome {
  const status = c.status ?? 'maxIterations';
  if (!c.fresh) trueResidual(A, backend, c);
  if (status === 'stagnated' && c.rNorm > c.bestTrueNorm) {
    // Past the floor the iterates only wander: return the best one seen.
    if (c.xBest) backend.copy(c.xBest, c.x);
    else if (c.x0) backend.copy(c.x0, c.x);
    else backend.fill(c.x, 0);
    trueResidual(A, backend, c);
  }
  const message = statusMessage(status, {
    iterations: c.iterations,
    residualNorm: c.rNorm,
    threshold: c.threshold,
    bNorm: c.bNorm,
    dtype: A.dtype,
    reference: s.referenceTol !== null,
    detail: c.detail,
    stagnation: c.stagnation,
    bestNorm: c.bestTrueNorm,
  });
  return {
    status,
    message,
    iterations: c.iterations,
    residualNorm: c.rNorm,
    initialResidualNorm: c.initialResidualNorm,
    history: c.history,
  };
}
