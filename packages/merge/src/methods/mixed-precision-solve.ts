/**
 * mats' `mixed_precision: true`: a K-FAC system solved by core's pcgMixedPrecision (PCG with
 * float32 operator products inside float64 iterative refinement; the stopping rule is checked
 * on the float64 residual, so `converged` means what it means for plain PCG). It pays where
 * the operator products dominate: a sum of 3 or more Kroneckers (2 or fewer have closed forms)
 * on a float64 backend (with precision: float32 every product is float32 already). Elsewhere
 * the usual solve runs and the report's note says why the option did nothing.
 */
import { pcgMixedPrecision, solve, type SolveOptions, type SolveResult } from '@mats/core';
import type { TaskSystem } from './task-system.js';
import type { Subspace } from './subspace.js';

/** Why mixed precision does not apply to this solve, or undefined when it does. */
function mixedPrecisionObstacle(subspace: Subspace, dtype: string): string | undefined {
  if (subspace !== 'kfac') return `the ${subspace} subspace has no float32 product`;
  if (dtype !== 'float64') return `precision: ${dtype} computes every product in ${dtype} already`;
  return undefined;
}

/** The solve of `system` with float32 products where they apply, else core's solve with a note. */
export function solveMixedPrecision(system: TaskSystem, subspace: Subspace, options: SolveOptions): SolveResult {
  const obstacle = mixedPrecisionObstacle(subspace, system.rhs.dtype);
  if (obstacle !== undefined) {
    const result = solve(system.system, system.rhs, options);
    return { ...result, note: [result.note, `mixed_precision: not used (${obstacle})`].filter(Boolean).join('; ') };
  }
  const { x0, rtol, atol, maxIterations, preconditioner, signal } = options;
  const result = pcgMixedPrecision(system.system, system.rhs, { x0, rtol, atol, maxIterations, preconditioner, signal });
  const rounds = `${result.refinements} float64 refinement round${result.refinements === 1 ? '' : 's'}, ${result.lowPrecisionIterations} iterations with float32 products`;
  return { ...result, method: result.precision === 'mixed' ? 'pcg (float32 products, float64 refinement)' : 'pcg', note: [result.note, rounds].filter(Boolean).join('; ') };
}
