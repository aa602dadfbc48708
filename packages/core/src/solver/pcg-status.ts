/** The messages behind each PCG status: what happened, then what to change. */
import type { DType } from '../backend/backend.js';
import type { PcgStatus } from './pcg-types.js';

export interface StatusContext {
  iterations: number;
  residualNorm: number;
  threshold: number;
  bNorm: number;
  dtype: DType;
  reference: boolean;
  /** Status-specific detail: the offending value and where it arose. */
  detail: string;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));

export function statusMessage(status: PcgStatus, c: StatusContext): string {
  const relative = c.bNorm > 0 ? c.residualNorm / c.bNorm : c.residualNorm;
  switch (status) {
    case 'converged':
      return (
        `converged in ${c.iterations} iteration${c.iterations === 1 ? '' : 's'}: ` +
        `||r|| = ${fmt(c.residualNorm)} <= ${fmt(c.threshold)}${c.detail ? ` (${c.detail})` : ''}`
      );
    case 'maxIterations':
      if (c.reference) {
        return (
          `ran the fixed ${c.iterations} iterations of reference mode (the paper's solver); ` +
          `||r|| / ||b|| = ${fmt(relative)}`
        );
      }
      return (
        `stopped after ${c.iterations} iterations (maxIterations) with ||r|| = ${fmt(c.residualNorm)} ` +
        `(||r|| / ||b|| = ${fmt(relative)}), above ${fmt(c.threshold)}: raise maxIterations, loosen rtol/atol, ` +
        `or use a preconditioner ('auto', 'kronecker', 'jacobi')` +
        (c.dtype === 'float32' && relative < 1e-4
          ? '; float32 rarely gets ||r|| / ||b|| much below 1e-5: use float64 for tighter tolerances'
          : '')
      );
    case 'breakdown':
      return (
        `breakdown: ${c.detail}; the preconditioner must be symmetric positive definite ` +
        `(an approximation of A^-1): check it, or run without one`
      );
    case 'indefinite':
      return (
        `the operator is not positive definite: ${c.detail}. A sum of task subspaces should be ` +
        `positive semi-definite: check the statistics for negative or corrupted entries, add damping ` +
        `(a multiple of the identity), or choose another subspace`
      );
    case 'nonFinite':
      return `NaN or Inf ${c.detail}: check the inputs for NaN/Inf, or the factors for overflow (in float32 above all)`;
    case 'stopped':
      return `stopped ${c.detail} after ${c.iterations} iterations with ||r|| = ${fmt(c.residualNorm)}`;
  }
}
