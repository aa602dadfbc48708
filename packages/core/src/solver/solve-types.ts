import type { PcgOptions, PcgResult } from './pcg-types.js';

export interface SolveOptions extends PcgOptions {
  /**
   * 'auto' (default): a closed form where dispatch has one, PCG otherwise; 'pcg': always PCG
   * (reference mode implies it: the paper runs CG even where a closed form exists, and its
   * early stopping is part of the method).
   */
  method?: 'auto' | 'pcg';
  /**
   * What to do when a closed form's residual misses the tolerance: true finishes it by PCG
   * preconditioned with the closed form; false returns the closed form's answer, status
   * 'maxIterations', with a note. Default: true for built-in closed forms (a miss is
   * rounding), false for registered rules (a miss is more likely a wrong rule than rounding).
   */
  refine?: boolean;
}

/** How a closed form's own answer did, before any refinement. */
export interface ClosedFormCheck {
  /** The rule: 'kronecker', 'two-kroneckers', 'registered:<kind>', ... */
  readonly rule: string;
  /** ||b - A x|| of the closed form's answer. */
  readonly residualNorm: number;
  /** max(atol, rtol ||b||). */
  readonly threshold: number;
  readonly withinTolerance: boolean;
  /** True when something finished the job (PCG, or pseudo-inverse refinement steps). */
  readonly refined: boolean;
}

export interface SolveResult extends PcgResult {
  /**
   * The rule that solved it: 'pcg', or a closed form ('kronecker', 'sum-of-grams',
   * 'two-kroneckers', ..., or a user kind's rule), '+ pcg refinement' when the closed form
   * missed the tolerance and PCG finished the job.
   */
  method: string;
  /** Closed forms (not blockwise ones): the closed form's own residual, before any refinement. */
  closedForm?: ClosedFormCheck;
}
