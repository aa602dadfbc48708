/**
 * What a user should see before trusting a task-subspace merge (issue 14): per task, the trace
 * and effective rank of its statistics as stored, and the conditioning of the summed factors
 * the solve uses (after shrink, normalisation, damping and weights). An undamped K-FAC merge of
 * the demo's first layer has sum_i G_i with an eigenvalue ratio ~5e-5: the diagnostics say so.
 *
 * effective rank = tr(F)^2 / ||F||_F^2 (= the number of equal eigenvalues that would give the
 * same ratio; n for a multiple of I, 1 for a rank-one F). Conditioning: Lanczos estimates of the
 * extreme eigenvalues (core's denseExtremes): the ratio is a lower bound on the condition number,
 * exact for factors of up to 60 rows.
 */
import { denseExtremes } from '@mats/core';
import type { FloatArray } from '../safetensors/decode.js';

export interface FactorSummary {
  readonly trace: number;
  /** tr(F)^2 / ||F||_F^2 */
  readonly effectiveRank: number;
}

export interface SpectrumSummary {
  /** Smallest eigenvalue (an upper bound on it unless `exact`). */
  readonly min: number;
  /** Largest eigenvalue (a lower bound on it unless `exact`). */
  readonly max: number;
  /** max / min (Infinity for a singular factor): a lower bound on the condition number unless `exact`. */
  readonly condition: number;
  readonly exact: boolean;
}

export interface TaskFactorSummary {
  /** The model's index in the config. */
  readonly model: number;
  /** tr and effective rank of its input Gram A_i (with the bias row and column when folded). */
  readonly input?: FactorSummary;
  /** ... of its output-gradient Gram G_i (kfac). */
  readonly grad?: FactorSummary;
}

export interface SubspaceDiagnostics {
  readonly tasks: readonly TaskFactorSummary[];
  /** sum_i of the prepared A factors, as the system uses them. */
  readonly summedInput?: SpectrumSummary;
  /** sum_i of the prepared G factors (weights folded in), as the system uses them. */
  readonly summedGrad?: SpectrumSummary;
}

/** Trace and effective rank of a symmetric [n, n] matrix. */
export function summarizeFactor(m: FloatArray, n: number): FactorSummary {
  let trace = 0;
  let frobenius2 = 0;
  for (let i = 0; i < n; i++) trace += m[i * n + i];
  for (let k = 0; k < n * n; k++) frobenius2 += m[k] * m[k];
  return { trace, effectiveRank: frobenius2 > 0 ? (trace * trace) / frobenius2 : 0 };
}

/** Lanczos extremes of a symmetric [n, n] matrix (60 products at most). */
export function summarizeSpectrum(m: Float64Array, n: number): SpectrumSummary {
  const { min, max, exact } = denseExtremes(m, n);
  return { min, max, condition: min > 0 ? max / min : Infinity, exact };
}

/**
 * Factors above this order get no summed spectrum: the running sum would hold n^2 float64
 * (512 MB at 8192) beside the statistics themselves.
 */
export const MAX_SUMMED_ORDER = 8192;

/** Running sum of [n, n] factors, for the summed-factor spectrum. */
export class FactorSum {
  private sum: Float64Array | undefined;

  constructor(readonly n: number) {}

  add(m: Float64Array): void {
    if (this.n > MAX_SUMMED_ORDER) return;
    if (this.sum === undefined) this.sum = Float64Array.from(m);
    else for (let k = 0; k < m.length; k++) this.sum[k] += m[k];
  }

  spectrum(): SpectrumSummary | undefined {
    return this.sum === undefined ? undefined : summarizeSpectrum(this.sum, this.n);
  }
}
