/**
 * The shared set-up of pcg, pcgMany and solve's PCG path: operands and options are checked,
 * the preconditioner is obtained from the caller's resolver (dispatch, for names; this layer
 * never imports dispatch), and the loop (pcg-loop.ts) runs.
 */
import type { Backend, Tensor } from '../backend/backend.js';
import { DTypeMismatchError, ForeignTensorError, ShapeError } from '../backend/errors.js';
import { describeBackend } from '../backend/checks.js';
import { formatShape, sameShape } from '../backend/shape.js';
import { blockSize, describeOperator, isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { runPcg, type LoopSettings } from './pcg-loop.js';
import type { PcgManyOptions, PcgOptions, PcgResult, PreconditionerChoice } from './pcg-types.js';
import { NO_PRECONDITIONER, type ResolvedPreconditioner } from './resolved-preconditioner.js';
import { DEFAULT_STAGNATION_WINDOW } from './stagnation.js';

/** scipy's default tolerance. */
export const DEFAULT_RTOL = 1e-5;
/** Iterations between true-residual recomputations. */
export const DEFAULT_RECOMPUTE_EVERY = 50;
/** The paper's iteration count (METHODS.md: iterations, paper: 100). */
export const REFERENCE_ITERATIONS = 100;
/** scipy's legacy `tol`. */
export const REFERENCE_TOL = 1e-5;

/** From options.preconditioner (or the caller's default) to the operator the loop applies. */
export type PreconditionerResolver = (choice: PreconditionerChoice) => ResolvedPreconditioner;

/**
 * The shared implementation of pcg, pcgMany and solve's PCG path. resolve turns
 * options.preconditioner (or defaultPreconditioner) into an operator; it is called once,
 * after every check, and never in reference mode.
 */
export function runSolve(
  caller: string,
  A: LinearOperator,
  bs: readonly Tensor[],
  x0s: readonly Tensor[],
  options: PcgOptions | PcgManyOptions,
  defaultPreconditioner: PreconditionerChoice,
  resolve: PreconditionerResolver,
): PcgResult[] {
  if (!isLinearOperator(A)) {
    throw new TypeError(`${caller}: A must be an operator (an object with kind, shape, dtype and apply)`);
  }
  if (bs.length === 0) throw new RangeError(`${caller}: needs at least one right-hand side`);
  const backend = bs[0].backend;
  bs.forEach((b, j) => checkBlockTensor(caller, bs.length > 1 ? `b[${j}]` : 'b', b, A, backend));
  if (x0s.length > 0 && x0s.length !== bs.length) {
    throw new RangeError(`${caller}: ${x0s.length} initial guesses for ${bs.length} right-hand sides`);
  }
  x0s.forEach((x0, j) => checkBlockTensor(caller, x0s.length > 1 ? `x0[${j}]` : 'x0', x0, A, backend));
  const { loop, preconditioner } = loopSettings(caller, A, options, defaultPreconditioner, resolve);

  const xs = bs.map((b) => backend.zeros(b.shape));
  const asBlock = (t: Tensor) => (sameShape(t.shape, A.shape) ? t : backend.reshape(t, A.shape));
  const outcomes = runPcg(
    A,
    backend,
    bs.map(asBlock),
    bs.map((_, j) => (x0s[j] ? asBlock(x0s[j]) : undefined)),
    xs.map(asBlock),
    loop,
  );
  return outcomes.map((o, j) => ({
    x: xs[j],
    ...o,
    preconditioner: preconditioner.description,
    ...(preconditioner.note ? { note: preconditioner.note } : {}),
  }));
}

/** A right-hand side or initial guess: A's dtype, A's block size, one backend. */
export function checkBlockTensor(caller: string, what: string, t: Tensor, A: LinearOperator, backend: Backend): void {
  if (t.dtype !== A.dtype) throw new DTypeMismatchError(`${caller}: ${what}`, A.dtype, t.dtype);
  if (t.backend !== backend || (A.backend && A.backend !== backend)) {
    const owner = A.backend && A.backend !== t.backend ? A.backend : backend;
    throw new ForeignTensorError(`${caller}: ${what}`, describeBackend(t.backend), describeBackend(owner));
  }
  const n = blockSize(A);
  if (t.size !== n) {
    throw new ShapeError(
      `${caller}: ${what} has shape ${formatShape(t.shape)} (${t.size} elements), but ${describeOperator(A)} acts on ${n} elements`,
    );
  }
}

function loopSettings(
  caller: string,
  A: LinearOperator,
  o: PcgOptions | PcgManyOptions,
  defaultPreconditioner: PreconditionerChoice,
  resolve: PreconditionerResolver,
): { loop: LoopSettings; preconditioner: ResolvedPreconditioner } {
  const reference = o.reference === true ? {} : o.reference || null;
  if (reference) {
    for (const key of ['rtol', 'atol', 'recomputeResidualEvery', 'stagnationWindow'] as const) {
      if (o[key] !== undefined) {
        throw new TypeError(
          `${caller}: options.${key} cannot be combined with reference mode, which fixes scipy's legacy stopping rule; drop one of them`,
        );
      }
    }
    if (o.preconditioner !== undefined && o.preconditioner !== 'none') {
      throw new TypeError(`${caller}: reference mode runs without a preconditioner (the paper's solver); drop options.preconditioner`);
    }
  }
  const n = blockSize(A);
  const loop: LoopSettings = {
    rtol: nonNegative(caller, 'rtol', o.rtol, DEFAULT_RTOL),
    atol: nonNegative(caller, 'atol', o.atol, 0),
    maxIterations: count(caller, 'maxIterations', o.maxIterations, reference ? REFERENCE_ITERATIONS : 10 * n),
    recomputeEvery: count(caller, 'recomputeResidualEvery', o.recomputeResidualEvery, reference ? 0 : DEFAULT_RECOMPUTE_EVERY),
    referenceTol: reference ? nonNegative(caller, 'reference.tol', reference.tol, REFERENCE_TOL) : null,
    stagnationWindow: reference ? 0 : count(caller, 'stagnationWindow', o.stagnationWindow, DEFAULT_STAGNATION_WINDOW),
    preconditioner: null,
    callback: o.callback,
    signal: o.signal,
  };
  if (o.callback !== undefined && typeof o.callback !== 'function') throw new TypeError(`${caller}: options.callback must be a function`);
  if (o.signal !== undefined && typeof o.signal?.aborted !== 'boolean') throw new TypeError(`${caller}: options.signal must be an AbortSignal`);
  const preconditioner = reference ? NO_PRECONDITIONER : resolve(o.preconditioner ?? defaultPreconditioner);
  loop.preconditioner = preconditioner.operator;
  return { loop, preconditioner };
}

function nonNegative(caller: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${caller}: options.${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function count(caller: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${caller}: options.${name} must be an integer >= 0, got ${String(value)}`);
  return value;
}
