import type { PcgOptions, PcgResult } from './pcg-types.js';

export interface SolveOptions extends PcgOptions {
  /**
   * 'auto' (default): a closed form where dispatch has one, PCG otherwise; 'pcg': always PCG
   * (reference mode implies it: the paper runs CG even where a closed form exists, and its
   * early stopping is part of the method).
   */
  method?: 'auto' | 'pcg';
}

export interface SolveResult extends PcgResult {
  /**
   * The rule that solved it: 'pcg', or a closed form ('kronecker', 'sum-of-grams',
   * 'two-kroneckers', ..., or a user kind's rule), '+ pcg refinement' when the closed form
   * missed the tolerance and PCG finished the job.
   */
  method: string;
}
