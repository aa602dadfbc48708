/** Messages between the page and the merge worker. */

/** What to merge: the same config text `mats merge` reads, over the dropped files. */
export interface MergeRequest {
  /** The config, exactly as `mats merge merge.yaml` would read it beside the inputs. */
  readonly configText: string;
  /** Every dropped file under its relative path (`base/model-00001-of-00002.safetensors`). */
  readonly files: readonly (readonly [string, File])[];
  /**
   * Where the output is written: 'disk' is the Origin Private File System (the output never
   * has to fit in memory; falls back to memory where the browser lacks OPFS), 'memory' keeps
   * it as Blobs.
   */
  readonly storage: 'disk' | 'memory';
}

export type ToWorker =
  /** The checks and the plan alone (mats merge --dry-run). */
  | { readonly type: 'plan'; readonly request: MergeRequest }
  | { readonly type: 'merge'; readonly request: MergeRequest }
  /** Stop the running merge between two tensors; nothing is kept. */
  | { readonly type: 'cancel' };

export interface OutputFile {
  readonly name: string;
  readonly file: Blob;
}

/** A merging method as the form shows it, from the registry and the method's own schema. */
export interface MethodInfo {
  readonly name: string;
  readonly summary: string;
  /** Whether it reads statistics files (fisher, regmean, mats). */
  readonly usesStatistics: boolean;
  /** The JSON Schema of its parameters (zod's toJSONSchema of the schema the config loader uses). */
  readonly knobs: KnobsSchema;
}

export interface KnobSchema {
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
}

export interface KnobsSchema {
  readonly properties?: Readonly<Record<string, KnobSchema>>;
}

export type FromWorker =
  /** Sent once when the worker starts. */
  | { readonly type: 'ready'; readonly version: string; readonly methods: readonly MethodInfo[] }
  | { readonly type: 'planned'; readonly text: string }
  /** A pass over the inputs starts (preparation passes, then 'merge'). */
  | { readonly type: 'phase'; readonly label: string; readonly totalBytes: number }
  | { readonly type: 'progress'; readonly doneBytes: number; readonly totalBytes: number }
  /** A log line, as the CLI prints it. */
  | { readonly type: 'line'; readonly text: string }
  | { readonly type: 'done'; readonly files: readonly OutputFile[]; readonly storage: 'disk' | 'memory'; readonly summary: string }
  /**
   * A failure, worded as the CLI words it: 'error: ...' for a problem with the inputs or the
   * config (the CLI's exit status 1), 'internal error: ...' for a bug (status 2).
   */
  | { readonly type: 'failed'; readonly message: string; readonly cancelled: boolean };

/** The folder the page keeps its outputs in, inside the origin's private file system. */
export const OPFS_FOLDER = 'mats-web';
