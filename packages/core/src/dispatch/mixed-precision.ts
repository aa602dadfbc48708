/**
 * Mixed-precision PCG: the iterations apply A with float32 products (twice the SIMD width),
 * the vectors and the residuals stay float64, and iterative refinement with residual
 * replacement makes the answer a float64 one:
 *
 *   r = b - A x (float64);  repeat: solve A32 d = r by PCG (float32 products) to the tolerance
 *   still missing, x += d, r = b - A x (float64, the true residual)  until ||r|| <= target.
 *
 * Every round's residual is the true float64 one, so the result meets the same stopping rule
 * as pcg and residualNorm is ||b - A x||. An inner solve stops at its tolerance, at about
 * 1e-6 relative (what float32 products can reach), or after 50 iterations; a round that does
 * not at least halve the float64 residual ends the refinement and plain float64 PCG finishes
 * from the best x so far, so the worst case (kappa u32 > 1) costs one round more, never a
 * wrong answer (Higham, "Accuracy and Stability of Numerical Algorithms",
 * ch. 12; Carson and Higham 2018 for the GMRES variant).
 *
 * Statuses follow pcg's contract: 'converged' only when the float64 ||b - A x|| <= max(atol,
 * rtol ||b||); when the float64 finish runs, its status (stagnated, maxIterations, ...) is the
 * result's; 'stopped' when the signal fired. An inner round that ends in breakdown, nonFinite,
 * indefinite or stopped is not applied. It lives in dispatch (beside pcg-api.ts) because it
 * resolves a named preconditioner; the solver layer never imports dispatch.
 *
 * Not the default: it pays where the operator apply dominates and has a float32 version (a
 * K-FAC system on a backend with prepareKroneckerSum); elsewhere it runs plain pcg.
 */

/** Inner statuses whose x is a usable correction (a finite iterate that reduced the inner residual or tried to). */
const USABLE_ROUND: ReadonlySet<PcgStatus> = new Set(['converged', 'maxIterations', 'stagnated']);
import type { Tensor } from '../backend/backend.js';
import type { LinearOperator } from '../operators/linear-operator.js';
import { lowPrecisionOperator } from '../operators/low-precision.js';
import { DEFAULT_RTOL } from '../solver/pcg-setup.js';
import type { PcgOptions, PcgResult, PcgStatus } from '../solver/pcg-types.js';
import { pcg } from './pcg-api.js';
import { dispatch } from './registry.js';

/** Iterations of one float32 round before the float64 residual is checked. */
const ROUND_ITERATIONS = 50;

/** Options of pcgMixedPrecision: pcg's (no reference mode, no callback), and the rounds. */
export interface MixedPrecisionOptions extends Omit<PcgOptions, 'reference' | 'callback'> {
  /** Refinement rounds before plain float64 PCG takes over (default 6). */
  maxRefinements?: number;
}

export interface MixedPrecisionResult extends PcgResult {
  /** Refinement rounds run (each one inner float32 solve and one float64 residual). */
  refinements: number;
  /** Iterations with float32 products (in `iterations`, with any float64 ones). */
  lowPrecisionIterations: number;
  /** 'mixed' when float32 products ran, 'float64' when the operator has no float32 version. */
  precision: 'mixed' | 'float64';
}

/** Solves A x = b like pcg, with float32 products inside float64 iterative refinement. */
export function pcgMixedPrecision(A: LinearOperator, b: Tensor, options: MixedPrecisionOptions = {}): MixedPrecisionResult {
  const low = lowPrecisionOperator(A);
  const backend = b.backend;
  const { maxRefinements = 6, ...pcgOptions } = options;
  if (low === null) {
    const plain = pcg(A, b, pcgOptions);
    return { ...plain, refinements: 0, lowPrecisionIterations: 0, precision: 'float64', note: joinNotes(plain.note, 'no float32 version of the operator here: plain float64 PCG') };
  }
  const rtol = options.rtol ?? DEFAULT_RTOL;
  const atol = options.atol ?? 0;
  const bNorm = backend.nrm2(b);
  const target = Math.max(atol, rtol * bNorm);
  // One preconditioner for every round, resolved against the exact operator.
  const preconditioner = dispatch().resolvePreconditioner('pcgMixedPrecision', A, options.preconditioner ?? 'none');
  const inner = { preconditioner: preconditioner.operator ?? ('none' as const), signal: options.signal, recomputeResidualEvery: options.recomputeResidualEvery };
  let maxIterations = options.maxIterations ?? 10 * b.size;

  const x = backend.zeros(b.shape);
  if (options.x0 !== undefined) backend.copy(options.x0, x);
  const r = backend.zeros(b.shape);
  const residual = () => {
    // r = b - A x, in float64.
    A.apply(x, r);
    backend.axpby(1, b, -1, r);
    return backend.nrm2(r);
  };
  let norm = residual();
  if (!Number.isFinite(norm)) {
    // NaN/Inf in b or x0 (or A x0): pcg's checks name it with status nonFinite.
    backend.dispose(x);
    backend.dispose(r);
    return { ...pcg(A, b, pcgOptions), refinements: 0, lowPrecisionIterations: 0, precision: 'float64' };
  }
  const initialResidualNorm = norm;
  const history = [norm];
  let refinements = 0;
  let lowIterations = 0;
  let stalled = false;
  try {
    while (norm > target && refinements < maxRefinements && maxIterations > 0) {
      refinements++;
      // The inner solve needs to reduce this residual to the target: ask for that, or for
      // what float32 products can give (below ~1e-6 they cannot), whichever is larger.
      // At most ROUND_ITERATIONS per round, then the float64 residual decides: a float32 solve
      // that goes nowhere (or the wrong way) costs one round, not the budget.
      const d = pcg(low, r, { ...inner, rtol: Math.max(target / norm, 1e-6), maxIterations: Math.min(ROUND_ITERATIONS, maxIterations) });
      lowIterations += d.iterations;
      maxIterations -= d.iterations;
      if (!USABLE_ROUND.has(d.status)) {
        // breakdown / nonFinite / indefinite / stopped: the correction is not trusted; x stays.
        backend.dispose(d.x);
        stalled = true;
        break;
      }
      const previous = norm;
      backend.axpy(1, d.x, x);
      norm = residual();
      history.push(norm);
      if (!(norm <= 0.5 * previous)) {
        // No progress: undo a round that made things worse, and stop refining.
        if (!(norm <= previous)) {
          backend.axpy(-1, d.x, x);
          norm = residual();
        }
        backend.dispose(d.x);
        stalled = true;
        break;
      }
      backend.dispose(d.x);
    }
    if (norm > target && maxIterations > 0 && !options.signal?.aborted) {
      // Float32 products cannot get further: float64 PCG finishes from here.
      const finish = pcg(A, b, { ...pcgOptions, x0: x, maxIterations, preconditioner: preconditioner.operator ?? 'none' });
      backend.dispose(x);
      return {
        ...finish,
        initialResidualNorm,
        iterations: lowIterations + finish.iterations,
        history: [...history, ...finish.history.slice(1)],
        refinements,
        lowPrecisionIterations: lowIterations,
        precision: 'mixed',
        note: joinNotes(
          finish.note,
          `${refinements} float32 refinement round${refinements === 1 ? '' : 's'} (${lowIterations} iterations) ${stalled ? 'stalled' : 'ran out'} at ||r|| = ${norm.toExponential(2)}: float64 PCG finished`,
        ),
      };
    }
  } finally {
    backend.dispose(r);
  }
  const converged = norm <= target;
  const stopped = !converged && options.signal?.aborted === true;
  const status: PcgStatus = converged ? 'converged' : stopped ? 'stopped' : 'maxIterations';
  const messages: Record<string, string> = {
    converged: `converged: ||b - A x|| = ${norm.toExponential(2)} <= ${target.toExponential(2)} after ${refinements} refinement round(s) with float32 products`,
    stopped: `stopped by the signal after ${refinements} refinement round(s) with ||b - A x|| = ${norm.toExponential(2)} > ${target.toExponential(2)}`,
    maxIterations: `stopped after ${refinements} refinement round(s) (${lowIterations} iterations, maxIterations) with ||b - A x|| = ${norm.toExponential(2)} > ${target.toExponential(2)}; raise maxIterations`,
  };
  return {
    x,
    status,
    message: messages[status],
    iterations: lowIterations,
    residualNorm: norm,
    initialResidualNorm,
    history,
    preconditioner: preconditioner.description,
    ...(preconditioner.note ? { note: preconditioner.note } : {}),
    refinements,
    lowPrecisionIterations: lowIterations,
    precision: 'mixed',
  };
}

function joinNotes(...notes: (string | undefined)[]): string | undefined {
  const kept = notes.filter((n): n is string => Boolean(n));
  return kept.length ? kept.join('; ') : undefined;
}
