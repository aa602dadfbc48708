/** What the demo measured: written to results.json and drawn in report.html. */

/** One candidate setting of a merge method's knobs, scored on validation data. */
export interface CandidateScore {
  readonly parameters: Readonly<Record<string, unknown>>;
  /** Mean validation accuracy over the tasks. */
  readonly validationAccuracy: number;
  /** Validation accuracy of each task, in task order. */
  readonly validationTaskAccuracy: readonly number[];
  readonly mergeSeconds: number;
}

/** One row of the table: accuracies on each task's test set, in task order. */
export interface ResultRow {
  /** As printed: 'base', 'individual', 'multitask', 'average', 'mats kfac', ... */
  readonly label: string;
  /** 'reference' rows are trained models; 'merge' rows come out of `mats merge`. */
  readonly kind: 'reference' | 'merge';
  readonly testAccuracy: readonly number[];
  readonly meanTestAccuracy: number;
  /** Merges: the method and the knobs chosen on validation data. */
  readonly method?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly validationAccuracy?: number;
  /** Merges: the chosen knobs' validation accuracy on each task. */
  readonly validationTaskAccuracy?: readonly number[];
  /** Merges: how the knobs were chosen (the mean validation accuracy, and any per-task floor). */
  readonly selection?: string;
  /**
   * Merges with a per-task floor whose best mean on validation did not meet it: that candidate,
   * tested too, so the report shows what the floor cost (it never chooses anything).
   */
  readonly unconstrained?: { readonly parameters: Readonly<Record<string, unknown>>; readonly validationAccuracy: number; readonly testAccuracy: readonly number[]; readonly meanTestAccuracy: number };
  /** Merges: every candidate tried, with its validation score. */
  readonly candidates?: readonly CandidateScore[];
  /** Merges: each grid axis's values as tried, after any extension past its first edges. */
  readonly grid?: Readonly<Record<string, readonly (number | string)[]>>;
  /** Merges whose grid knobs are not the config's own (mats kfac's damping and beta): the chosen point. */
  readonly gridPoint?: Readonly<Record<string, unknown>>;
}

/** One change to a chosen merge and what it did (no tuning: one merge). */
export interface AblationRow {
  readonly label: string;
  /** The table row it varies ('mats kfac', 'regmean'). */
  readonly of: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  /** The statistics set its config names. */
  readonly statistics: string;
  readonly validationAccuracy: number;
  readonly testAccuracy: readonly number[];
  readonly meanTestAccuracy: number;
}

/** What a K-FAC merge's log says about each weight matrix's system (the chosen mats kfac). */
export interface LayerDiagnostics {
  readonly parameter: string;
  readonly subspace: string;
  /** Per task: tr and effective rank tr^2 / ||.||_F^2 of its G_i and A_i, as estimated. */
  readonly tasks: readonly { readonly model: number; readonly gradTrace?: number; readonly gradRank?: number; readonly inputTrace?: number; readonly inputRank?: number }[];
  /** Lanczos estimates of the summed (damped) factors' eigenvalue ratio: lower bounds. */
  readonly gradCondition?: number;
  readonly inputCondition?: number;
  /** ||r_k|| / ||r_0|| per CG iteration. */
  readonly relativeResiduals: readonly number[];
  readonly status?: string;
}

/** Residual norms of a mats solve per parameter, at increasing iteration counts. */
export interface ConvergenceSeries {
  readonly label: string;
  readonly parameter: string;
  /** Points (iterations, relative residual ||r|| / ||r_0||). */
  readonly points: readonly { readonly iterations: number; readonly relativeResidual: number }[];
}

export interface TrainingSummary {
  readonly model: string;
  readonly examples: number;
  readonly epochs: number;
  readonly seconds: number;
  readonly finalLoss: number;
  /** Whether this run trained it (false: loaded from the cache). */
  readonly trainedNow: boolean;
}

export interface DemoResults {
  readonly zoo: string;
  readonly tasks: readonly string[];
  readonly taskDescriptions: readonly string[];
  readonly architecture: readonly number[];
  readonly parameterCount: number;
  readonly dataSizes: {
    readonly pretrain: number;
    readonly trainPerTask: readonly number[];
    readonly validationPerTask: number;
    readonly testPerTask: number;
  };
  readonly training: readonly TrainingSummary[];
  readonly rows: readonly ResultRow[];
  /** Changes to chosen merges and what they did (the report's ablation table). */
  readonly ablations: readonly AblationRow[];
  /** The chosen mats kfac merge's systems, per weight matrix. */
  readonly diagnostics: readonly LayerDiagnostics[];
  readonly convergence: readonly ConvergenceSeries[];
  readonly seconds: { readonly total: number; readonly training: number; readonly statistics: number; readonly merging: number };
  /** How merges ran: the CLI's entry function in this process, or the built bin spawned. */
  readonly mergeCommand: string;
  /** Merges run by this run, and merges reused from the cache (same config, inputs and code). */
  readonly merges: { readonly run: number; readonly reused: number };
}
