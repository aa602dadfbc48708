import type { NamedArray } from '../mlp/mlp.js';

/** A set of named tensors with string metadata: one safetensors file. */
export interface StoredTensors {
  readonly tensors: ReadonlyMap<string, NamedArray>;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Where the zoo keeps its checkpoints and statistics files, by name ('base', 'task-flip',
 * 'stats-flip', ...): the cache that lets a second run skip training.
 */
export interface CheckpointStore {
  /** Path of the file a name is stored in (what merge configs point at). */
  pathOf(name: string): string;
  /** The stored tensors, or undefined when the name was never stored. */
  load(name: string): Promise<StoredTensors | undefined>;
  /** Stores tensors atomically: a crash never leaves a file that looks complete. */
  save(name: string, stored: StoredTensors): Promise<void>;
}
