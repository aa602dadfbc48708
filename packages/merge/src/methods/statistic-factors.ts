/**
 * From statistics as stored to the data of one task's C_i (DESIGN.md §3): elementwise
 * preparation on the host, before the operators are built. No linear algebra happens here;
 * the operators, their sums and their solves are @mats/core's.
 *
 * Symmetry: statistics files are checked symmetric to a tolerance (pipeline/statistics-checks.ts:
 * a float32 Gram accumulated by a non-symmetric kernel differs from its transpose by rounding).
 * Every Gram factor is symmetrised here, (M + M^T) / 2, so the operator core builds is exactly
 * symmetric (CG needs it) and core's tight symmetry check (64 unit roundoffs) always passes.
 */
import type { FloatArray } from '../safetensors/decode.js';
import type { Damping, FactorPreparation } from './factor-controls.js';

/**
 * The floor of a diagonal Fisher entry (the MaTS reference code's set_minimum(fisher, 1e-8)): a
 * coordinate that no task cares about gets the (weighted) average instead of 0 / 0.
 */
export const DEFAULT_FISHER_FLOOR = 1e-8;

export interface GramFactorOptions extends FactorPreparation {
  /** Multiplies the result (a model's weight w_i, folded into one factor of C_i). */
  readonly scale: number;
  /**
   * mean_j tr(F_j) / n over the tasks (after their normalisation), for the shared damping
   * (taskMeanEigenvalue); 0 when damping.shared is 0.
   */
  readonly tasksMeanEigenvalue?: number;
}

/** mean_j tr(F_j) / n over factors [n, n] (1 for factors that will be normalised, 0 for none). */
export function tasksMeanEigenvalue(factors: readonly FloatArray[], n: number, normalize: boolean): number {
  if (factors.length === 0 || n === 0) return 0;
  let sum = 0;
  for (const m of factors) {
    let trace = 0;
    for (let i = 0; i < n; i++) trace += m[i * n + i];
    sum += normalize && trace > 0 ? 1 : trace / n;
  }
  return sum / factors.length;
}

/**
 * A prepared [n, n] Gram factor, as a new float64 array: symmetrised, shrunk
 * (F -> s F + (1 - s) Diag(F), RegMean's alpha, the MaTS reference code's model_lambda),
 * normalised to mean eigenvalue 1 when asked (F / (tr F / n)), damped
 * (+ (relative tr(F) / n + shared mean_j tr(F_j) / n + absolute) I, Tikhonov damping of the
 * factor, after the normalisation) and scaled. m: [n, n] row-major, read only.
 */
export function prepareGramFactor(m: FloatArray, n: number, options: GramFactorOptions): Float64Array {
  const { shrink, normalize, damping, scale } = options;
  const out = new Float64Array(n * n);
  let trace = 0;
  for (let i = 0; i < n; i++) {
    const ii = i * n + i;
    trace += m[ii];
    out[ii] = m[ii];
    for (let j = i + 1; j < n; j++) {
      const v = (shrink * (m[i * n + j] + m[j * n + i])) / 2;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  // A factor with trace 0 is 0 (PSD): nothing to normalise.
  const normalizer = normalize && trace > 0 ? n / trace : 1;
  const meanEigenvalue = n > 0 ? (trace * normalizer) / n : 0;
  const shift = damping.relative * meanEigenvalue + damping.shared * (options.tasksMeanEigenvalue ?? 0) + damping.absolute;
  if (normalizer !== 1) for (let k = 0; k < out.length; k++) out[k] *= normalizer;
  for (let i = 0; i < n; i++) out[i * n + i] += shift;
  if (scale !== 1) for (let k = 0; k < out.length; k++) out[k] *= scale;
  return out;
}

export interface DiagonalFisherOptions {
  /** Entries below the floor are raised to it (see DEFAULT_FISHER_FLOOR). */
  readonly floor: number;
  /** F -> F + relative * mean(F) + absolute, after the floor. */
  readonly damping: Damping;
  /** Multiplies the result (a model's weight). */
  readonly scale: number;
}

/** A prepared diagonal Fisher: max(F, floor) + relative * mean + absolute, times scale, as a new float64 array. */
export function prepareDiagonalFisher(f: FloatArray, options: DiagonalFisherOptions): Float64Array {
  const { floor, damping, scale } = options;
  const n = f.length;
  const out = new Float64Array(n);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const v = f[j] > floor ? f[j] : floor;
    out[j] = v;
    sum += v;
  }
  // The shared damping is for Gram factors (a mean eigenvalue across tasks); on a diagonal Fisher it is relative.
  const relative = damping.relative + damping.shared;
  const shift = (relative > 0 && n > 0 ? (relative * sum) / n : 0) + damping.absolute;
  for (let j = 0; j < n; j++) out[j] = (out[j] + shift) * scale;
  return out;
}
