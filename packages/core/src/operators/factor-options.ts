/** Options shared by the operators built from symmetric factor matrices. */
export interface FactorOptions {
  /**
   * Declares the factors positive semi-definite. Statistics Grams are, by construction
   * ((1/T) sum a a^T); this is not verified, since that costs a factorization.
   */
  psd?: boolean;
  /** Names the operator in error messages, e.g. "encoder.0.weight task 3". */
  label?: string;
  /** Largest |M[i,j] - M[j,i]| accepted, relative to max |M| (default 64 unit roundoffs). */
  symmetryTolerance?: number;
}
