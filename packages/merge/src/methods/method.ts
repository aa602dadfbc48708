/**
 * The interface every merging method implements (DESIGN.md §6): one module per method, a new
 * method is one new file plus one line in registry.ts.
 *
 * The pipeline drives a method in this order:
 *   1. `parameters` (a zod schema) validates the config's `parameters:`; unknown keys get a
 *      "did you mean". `nested()` names other methods this one calls (e.g. an initialisation);
 *      they are validated and bound the same way.
 *   2. From headers alone: `requiresBase()`, `statistics()` per tensor (checked to exist with
 *      the right shape before anything is computed).
 *   3. `prepare()` (optional): whole-model passes before the first tensor is merged (TIES's
 *      global trim threshold). Nested methods are prepared first.
 *   4. `merge()` once per tensor (or per chunk of a tensor, for elementwise methods), in plan
 *      order, which is the same order `prepare()`'s passes saw.
 */
import type { Backend } from '@mats/core';
import type { z } from 'zod';
import type { FloatArray, Precision } from '../safetensors/decode.js';
import type { SafetensorsDType } from '../safetensors/dtype.js';

/** Keys of a statistics file: `<param>::<kind>` (DESIGN.md §6). */
export type StatisticKind = 'fisher' | 'input_gram' | 'grad_gram' | 'fisher_block';

/** What is known about a merged tensor before any value is read. */
export interface TensorDescriptor {
  readonly name: string;
  /** Row-major; a linear layer's weight is [out, in]. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /** dtype of the tensor in the base (or in the first model when there is no base). */
  readonly dtype: SafetensorsDType;
}

/** A statistic a method needs for one tensor, checked before the merge starts. */
export interface StatisticNeed {
  readonly kind: StatisticKind;
  /** Expected shape, e.g. [in, in] for an input Gram of a [out, in] weight. */
  readonly shape: readonly number[];
  /**
   * 'required': a model without it is a validation error. 'optional': the method falls back
   * (METHODS.md: to the plain average) and says so in its TensorReport.fallback. A statistic
   * that is present with the wrong shape is an error either way.
   */
  readonly presence: 'required' | 'optional';
}

/**
 * One unit of work: a whole tensor, or for elementwise methods a contiguous range of its
 * elements in flat row-major order. Inputs are read lazily, at most once, and shared by nested
 * method calls: treat every array returned here as read-only.
 */
export interface TensorJob extends TensorDescriptor {
  /** Position of this job in plan order (0-based), the same in every pass. */
  readonly index: number;
  /** First element of this job in the tensor's flat row-major order (0 for a whole tensor). */
  readonly offset: number;
  /** Elements in this job (== size for a whole tensor). Arrays of the tensor's shape have this length. */
  readonly length: number;
  /** Precision of every array this job returns. */
  readonly precision: Precision;
  readonly modelCount: number;
  /** Per-model weights from the config for this tensor (1 where not given; a config may vary them by tensor). */
  readonly weights: readonly number[];
  readonly hasBase: boolean;
  /** The base's values for this job's range. Throws when the config has no base. */
  base(): Promise<FloatArray>;
  /** Model i's values for this job's range. */
  model(i: number): Promise<FloatArray>;
  /** Whether model i has statistic kind for this tensor. */
  hasStatistic(i: number, kind: StatisticKind): boolean;
  /**
   * Model i's statistic: sliced to this job's range when its shape is the tensor's own shape
   * (diagonal Fisher), whole otherwise (Grams). Throws when absent.
   */
  statistic(i: number, kind: StatisticKind): Promise<FloatArray>;
}

/** What a method says about one tensor: goes to the log line and to --json-log. */
export interface TensorReport {
  /** Iterative solves: iterations run. */
  readonly iterations?: number;
  /** Iterative solves: e.g. the PCG status ('converged', 'maxIterations', ...). */
  readonly status?: string;
  readonly initialResidualNorm?: number;
  readonly residualNorm?: number;
  /** Set when the method fell back to another rule for this tensor, saying why. */
  readonly fallback?: string;
  /** Anything else worth logging (numbers, strings, booleans). */
  readonly details?: Readonly<Record<string, number | string | boolean>>;
}

export interface TensorResult {
  /** The merged values for the job's range, length job.length, in any float precision. */
  readonly values: FloatArray;
  readonly report?: TensorReport;
}

/** Another method called by this one, as named in the parameters. */
export interface MethodCall {
  readonly method: string;
  readonly parameters?: unknown;
}

/** A method with validated parameters, ready to merge jobs (what nested calls receive). */
export interface BoundMethod {
  readonly name: string;
  readonly parameters: unknown;
  merge(job: TensorJob): Promise<TensorResult>;
}

/** What the pipeline gives every method. */
export interface MethodRuntime {
  /** The compute backend chosen by the config (`backend: cpu | gpu`), of dtype `precision`. */
  readonly backend: Backend;
  readonly precision: Precision;
  /** The config's seed (0 by default): methods that draw random numbers derive theirs from it. */
  readonly seed: number;
  /**
   * Aborted when the merge is interrupted: a long solve passes it on (core's PCG stops between
   * iterations); the pipeline also stops between jobs.
   */
  readonly signal?: AbortSignal;
  /** A message for the user (stderr, and the JSON log). */
  log(message: string): void;
}

export interface PrepareContext<P> extends MethodRuntime {
  readonly parameters: P;
  /**
   * Each model's parameters: `parameters` with the model's own per-model knobs on top (see
   * MergeMethod.perModel); `parameters` itself for every model when none are given.
   */
  readonly modelParameters: readonly P[];
  /** Every merged (floating-point) tensor, in plan order. */
  readonly tensors: readonly TensorDescriptor[];
  readonly modelCount: number;
  /** Per-model weights from the config (1 where not given); where a config varies them by tensor, the first tensor's: read each job's. */
  readonly weights: readonly number[];
  /**
   * One pass over every job in plan order (the same jobs, chunks included, that merge() will
   * get). Each job's inputs are released when the loop moves on. label names the pass in the
   * progress display.
   */
  pass(label: string): AsyncIterable<TensorJob>;
}

export interface MergeContext<P, S> extends MethodRuntime {
  /** This tensor's parameters (a config may give numeric knobs per tensor: layer gradients, filters). */
  readonly parameters: P;
  /** Each model's parameters for this tensor: `parameters` with the model's per-model knobs on top. */
  readonly modelParameters: readonly P[];
  /** What prepare() returned (undefined without prepare). merge() may update it in place. */
  readonly state: S;
  /** The methods named by nested(), bound and prepared, by key. */
  readonly nested: Readonly<Record<string, BoundMethod>>;
}

export interface MergeMethod<P = unknown, S = undefined> {
  /** The name used in configs (`method: task_arithmetic`). */
  readonly name: string;
  /** One line for the CLI and the README. */
  readonly summary: string;
  /**
   * zod schema of `parameters:`, with defaults; use z.strictObject so unknown keys are caught.
   * Give every knob a `.describe('...')`: `mats methods` and the README's knob table are
   * generated from these schemas (a test checks that every knob has one).
   */
  readonly parameters: z.ZodType<P>;
  /**
   * Knobs a model entry may set for itself, under the model as `weight` is (`density` of TIES:
   * per model in the paper and in mergekit); the value in `parameters:` is every model's
   * default. Each model's full set is validated by `parameters` and handed to merge() as
   * `modelParameters[i]`.
   */
  readonly perModel?: readonly string[];
  /**
   * Whether prepare() makes passes over the whole model with these parameters (TIES's global
   * trim): then the parameters must be the same for every tensor, and a config that gives a
   * knob per tensor is refused.
   */
  wholeModel?(parameters: P): boolean;
  /** Whether the config must name a base model. */
  requiresBase(parameters: P): boolean;
  /**
   * Whether merge() works element by element (the value at j depends only on inputs at j and
   * on state): the pipeline then feeds it chunks of large tensors, bounding memory.
   */
  elementwise(parameters: P): boolean;
  /** Statistics needed for a tensor (default: none). */
  statistics?(tensor: TensorDescriptor, parameters: P): readonly StatisticNeed[];
  /** Other methods this one calls (default: none), validated and prepared by the pipeline. */
  nested?(parameters: P): Readonly<Record<string, MethodCall>>;
  /** Whole-model passes before merging; the result is MergeContext.state. */
  prepare?(context: PrepareContext<P>): Promise<S>;
  merge(job: TensorJob, context: MergeContext<P, S>): Promise<TensorResult>;
  /**
   * Bytes of working memory merge() holds at once for a job of `length` elements on top of the
   * inputs, its result included (for the dry-run estimate, pipeline/memory-estimate.ts);
   * precisionBytes: 4 or 8, the width of the arrays the job returns (task vectors are that
   * wide); statisticElements: the elements of the largest model's statistics for this job
   * (what a task-subspace method copies, prepares and sums). Default: two float64 arrays of the
   * job's length.
   */
  workingBytes?(length: number, modelCount: number, parameters: P, precisionBytes: number, statisticElements: number): number;
}

/** Declares a method with its parameter type inferred from the schema. */
export function defineMethod<P, S = undefined>(method: MergeMethod<P, S>): MergeMethod<P, S> {
  return method;
}
