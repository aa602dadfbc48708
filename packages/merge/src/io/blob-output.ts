/**
 * OutputTarget whose files are Blobs assembled from the written parts: each positioned write
 * becomes a Blob of its own (the browser's blob store owns the bytes from then on; Chromium moves
 * large blobs to disk), and closing a file orders the parts into one Blob. Nothing is visible
 * before commit; abort drops everything. For an output written to disk instead, the web app's
 * OPFS target implements the same interface.
 */
import { UserError } from '../errors.js';
import type { ByteSink, OutputFolder, OutputSurvey, OutputTarget } from './files.js';

class BlobFileSink implements ByteSink {
  private parts: { position: number; blob: Blob }[] = [];
  blob: Blob | undefined;

  constructor(
    readonly path: string,
    readonly size: number,
  ) {}

  async write(bytes: Uint8Array, position: number): Promise<void> {
    if (position < 0 || position + bytes.length > this.size) {
      throw new Error(`${this.path}: write of ${bytes.length} bytes at ${position} runs past the file's ${this.size} bytes`);
    }
    // Blob copies the bytes, so the caller may reuse its array; it takes no view of shared memory.
    const part = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
    if (bytes.length > 0) this.parts.push({ position, blob: new Blob([part]) });
  }

  /** Orders the parts; unwritten ranges are zeros (as in a file created at its final size). */
  async close(): Promise<void> {
    const sorted = this.parts.sort((a, b) => a.position - b.position);
    const pieces: Blob[] = [];
    let covered = 0;
    for (const { position, blob } of sorted) {
      if (position < covered) throw new Error(`${this.path}: two writes overlap at byte ${position}`);
      if (position > covered) pieces.push(new Blob([new Uint8Array(position - covered)]));
      pieces.push(blob);
      covered = position + blob.size;
    }
    if (covered < this.size) pieces.push(new Blob([new Uint8Array(this.size - covered)]));
    this.blob = new Blob(pieces);
    this.parts = [];
  }

  async abort(): Promise<void> {
    this.parts = [];
    this.blob = undefined;
  }
}

class BlobOutputFolder implements OutputFolder {
  private readonly sinks = new Map<string, BlobFileSink>();
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    private readonly target: BlobOutputTarget,
  ) {}

  async createFile(name: string, size: number): Promise<ByteSink> {
    if (this.state !== 'open') throw new Error(`output ${this.path}: createFile after ${this.state === 'committed' ? 'commit' : 'abort'}`);
    const sink = new BlobFileSink(`${this.path}/${name}`, size);
    this.sinks.set(name, sink);
    return sink;
  }

  async commit(): Promise<void> {
    const files = new Map<string, Blob>();
    for (const [name, sink] of this.sinks) {
      if (sink.blob === undefined) throw new Error(`output ${this.path}: ${name} was never closed`);
      files.set(name, sink.blob);
    }
    this.state = 'committed';
    this.target.outputs.set(this.path, files);
  }

  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    for (const sink of this.sinks.values()) await sink.abort();
    this.sinks.clear();
  }
}

export class BlobOutputTarget implements OutputTarget {
  /** Committed outputs: path -> file name -> contents. */
  readonly outputs = new Map<string, ReadonlyMap<string, Blob>>();

  async exists(path: string): Promise<boolean> {
    return this.outputs.has(path);
  }

  async survey(): Promise<OutputSurvey> {
    // Blobs are never inputs, and an output is visible whole or not at all: nothing to find.
    return { overlaps: [], temporaryFolders: [], shardFolders: [] };
  }

  async removeStale(): Promise<boolean> {
    return false;
  }

  async create(path: string, force: boolean): Promise<OutputFolder> {
    if (this.outputs.has(path) && !force) throw new UserError(`output ${path} already exists; pass --force to replace it`);
    return new BlobOutputFolder(path, this);
  }
}
