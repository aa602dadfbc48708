/**
 * The merge's I/O as two small interfaces: InputFiles (where checkpoints, shard indexes and
 * statistics are read, by positioned reads of byte ranges) and OutputTarget (where a merged
 * checkpoint is written, by positioned writes, appearing whole at commit or not at all).
 *
 * Two implementations of each: the file system in Node (node-io.ts) and File/Blob objects in a
 * browser (blob-files.ts for inputs, blob-output.ts for an output kept as Blob parts; the web
 * app adds one on the Origin Private File System). The pipeline, the checkpoint reader and the
 * safetensors reader and writer see only these interfaces, so the CLI and the page run one engine.
 */
import type { TemporaryFolder } from '../checkpoint/temporary-folders.js';

/** Positioned reads of one file: tensors are read range by range, never the whole file. */
export interface ByteSource {
  /** The file's path, as messages name it. */
  readonly path: string;
  readonly size: number;
  /** Fills target with the bytes at [position, position + target.length); rejects on a short read. */
  read(target: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Why a path could not be read: `code` is the Node error code where there is one ('ENOENT':
 * nothing there, 'EISDIR': a folder where a file was expected), so each caller words the message
 * it always has.
 */
export class FileAccessError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${code}`, options);
    this.name = 'FileAccessError';
  }
}

/** A read-only tree of files: the file system, or the files and folders dropped on a page. */
export interface InputFiles {
  /** `path` as written in a config that lives in baseDir (an absolute path stays as it is). */
  resolve(baseDir: string, path: string): string;
  /** The folder that holds path. */
  dirname(path: string): string;
  /** Whether path names a place on its own (not relative to some folder). */
  isAbsolute(path: string): boolean;
  /** The path of `to` relative to the folder `from` ('' when they are the same). */
  relative(from: string, to: string): string;
  /** The path of `name` (a file name, or a relative path without '..') inside folder. */
  join(folder: string, name: string): string;
  /** Rejects with FileAccessError when nothing can be opened at path. */
  kind(path: string): Promise<'file' | 'folder'>;
  /** Names of the entries of a folder. */
  list(folder: string): Promise<string[]>;
  /** Rejects with FileAccessError. */
  readText(path: string): Promise<string>;
  /** Rejects with FileAccessError. */
  open(path: string): Promise<ByteSource>;
}

/** A file being written by positioned writes; its size is fixed when it is created. */
export interface ByteSink {
  /** The file's path, as messages name it. */
  readonly path: string;
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** The file is complete. */
  close(): Promise<void>;
  /** Closes after a failure; the folder's abort removes the file. */
  abort(): Promise<void>;
}

/** An output being written: its files become visible together at commit, or never. */
export interface OutputFolder {
  /** Where the output goes, as messages name it. */
  readonly path: string;
  /**
   * Where the files are until commit, when that is a place of its own that someone may have to
   * remove after a crash (Node: the `.NAME.partial-*` folder the CLI's supervisor watches).
   */
  readonly temporaryPath?: string;
  /** Creates a file of `size` bytes (zeros until written). */
  createFile(name: string, size: number): Promise<ByteSink>;
  /** Makes every file visible at the target (Node: renames the temporary folder into place). */
  commit(): Promise<void>;
  /** Removes everything written. Safe to call more than once, and after commit (then a no-op). */
  abort(): Promise<void>;
}

/** An input as the config names it (`models[1]`, `base`, `the config`), for the output's checks. */
export interface NamedInput {
  readonly role: string;
  readonly path: string;
}

/** What OutputTarget.survey finds in the way of an output before any tensor is read. */
export interface OutputSurvey {
  /** The output is, or holds, an input: refused even with --force. */
  readonly overlaps: readonly string[];
  /** Temporary folders of earlier merges into the same output, judged (stale, running, unknown). */
  readonly temporaryFolders: readonly TemporaryFolder[];
  /** Temporary folders of shards of a distributed merge writing into the output (`mats merge --shard`; checkpoint/shard-output.ts). */
  readonly shardFolders: readonly TemporaryFolder[];
}

/** Where merged checkpoints can be written. */
export interface OutputTarget {
  /** Whether something is already at path (a merge refuses to replace it without force). */
  exists(path: string): Promise<boolean>;
  /** The checks of path against the inputs and earlier merges, before anything is read (nothing to find where outputs live apart from inputs). */
  survey(path: string, inputs: readonly NamedInput[]): Promise<OutputSurvey>;
  /** Removes a temporary folder survey judged stale, if it still is; whether it did. */
  removeStale(folder: TemporaryFolder): Promise<boolean>;
  /** Starts an output at path; refuses an existing one unless force (and what force may replace). */
  create(path: string, force: boolean): Promise<OutputFolder>;
}

/** Everything a merge reads and writes through. */
export interface MergeIo {
  readonly inputs: InputFiles;
  readonly output: OutputTarget;
}
