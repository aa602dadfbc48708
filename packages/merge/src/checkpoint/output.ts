/**
 * Writing a merged checkpoint: shards planned from the tensor specs and a size limit, written
 * into an OutputFolder that shows them only when every tensor is in (on the file system: a
 * temporary folder beside the target with an owner record, renamed into place, its errors made
 * FileSystemErrors; io/node-output-target.ts). A failed or interrupted merge never leaves
 * something that looks like a finished model.
 */
import type { OutputFolder, OutputTarget } from '../io/files.js';
import { nodeOutputTarget } from '../io/node-io.js';
import type { FloatArray } from '../safetensors/decode.js';
import { tensorByteLength, type TensorSpec } from '../safetensors/layout.js';
import { SafetensorsWriter } from '../safetensors/writer.js';
import { INDEX_FILE, SINGLE_FILE, shardFileName, shardIndexText } from './shard-index.js';

export interface ShardPlan {
  /** File name inside the output folder. */
  readonly file: string;
  readonly tensors: readonly TensorSpec[];
  readonly bytes: number;
}

/**
 * Splits tensors, in the given order, into shards of at most maxBytes each (a tensor larger
 * than the limit gets a shard of its own), named as transformers names them.
 */
export function planShards(specs: readonly TensorSpec[], maxBytes: number): ShardPlan[] {
  const groups: { tensors: TensorSpec[]; bytes: number }[] = [];
  let current: { tensors: TensorSpec[]; bytes: number } | undefined;
  for (const spec of specs) {
    const bytes = tensorByteLength(spec);
    if (current === undefined || (current.tensors.length > 0 && current.bytes + bytes > maxBytes)) {
      current = { tensors: [], bytes: 0 };
      groups.push(current);
    }
    current.tensors.push(spec);
    current.bytes += bytes;
  }
  if (groups.length === 0) groups.push({ tensors: [], bytes: 0 });
  const n = groups.length;
  return groups.map((g, i) => ({ ...g, file: n === 1 ? SINGLE_FILE : shardFileName(i + 1, n) }));
}

export class CheckpointOutput {
  private readonly open = new Map<string, { writer: SafetensorsWriter; left: number; file: string }>();
  private readonly shardOf = new Map<string, ShardPlan>();
  private readonly completed = new Set<string>();

  private constructor(
    readonly folder: OutputFolder,
    readonly shards: readonly ShardPlan[],
    private readonly metadata: Readonly<Record<string, string>>,
  ) {
    for (const shard of shards) for (const t of shard.tensors) this.shardOf.set(t.name, shard);
  }

  /** Starts the output at target (on the file system unless `output` says otherwise). Refuses an existing target unless force. */
  static async create(
    target: string,
    shards: readonly ShardPlan[],
    metadata: Readonly<Record<string, string>>,
    force: boolean,
    output: OutputTarget = nodeOutputTarget,
  ): Promise<CheckpointOutput> {
    return new CheckpointOutput(await output.create(target, force), shards, metadata);
  }

  /** Where the output goes. */
  get target(): string {
    return this.folder.path;
  }

  /** Where the files are until commit, when that is a folder of its own (the file system's `.NAME.partial-*`). */
  get tempFolder(): string | undefined {
    return this.folder.temporaryPath;
  }

  /** Writes a tensor, or the chunk of it that starts at element offset. */
  async writeFloats(name: string, values: FloatArray, offset = 0): Promise<void> {
    const entry = await this.writerFor(name);
    if (await entry.writer.writeFloats(name, values, offset)) await this.done(entry);
  }

  /** Writes a whole tensor's raw bytes. */
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    const entry = await this.writerFor(name);
    if (await entry.writer.writeBytes(name, bytes)) await this.done(entry);
  }

  /** Writes the index (when sharded) and makes the output visible. */
  async commit(): Promise<void> {
    for (const shard of this.shards) {
      if (shard.tensors.length === 0) {
        // A checkpoint with no tensors is still a valid file.
        const w = await this.createWriter(shard);
        await w.close();
      } else if (!this.completed.has(shard.file)) {
        throw new Error(`output: shard ${shard.file} is incomplete at commit`);
      }
    }
    if (this.shards.length > 1) {
      const weightMap = new Map([...this.shardOf].map(([name, shard]) => [name, shard.file]));
      const total = this.shards.reduce((s, x) => s + x.bytes, 0);
      const bytes = new TextEncoder().encode(shardIndexText(weightMap, total, this.metadata));
      const sink = await this.folder.createFile(INDEX_FILE, bytes.length);
      await sink.write(bytes, 0);
      await sink.close();
    }
    await this.folder.commit();
  }

  /** Closes everything and removes what was written. Safe to call more than once. */
  async abort(): Promise<void> {
    for (const { writer } of this.open.values()) await writer.abort();
    this.open.clear();
    await this.folder.abort();
  }

  private createWriter(shard: ShardPlan): Promise<SafetensorsWriter> {
    return SafetensorsWriter.create(shard.file, shard.tensors, this.metadata, (name, size) => this.folder.createFile(name, size));
  }

  private async writerFor(name: string): Promise<{ writer: SafetensorsWriter; left: number; file: string }> {
    const shard = this.shardOf.get(name);
    if (shard === undefined) throw new Error(`output: tensor ${name} is not in the shard plan`);
    let entry = this.open.get(shard.file);
    if (entry === undefined) {
      entry = { writer: await this.createWriter(shard), left: shard.tensors.length, file: shard.file };
      this.open.set(shard.file, entry);
    }
    return entry;
  }

  private async done(entry: { writer: SafetensorsWriter; left: number; file: string }): Promise<void> {
    entry.left--;
    if (entry.left === 0) {
      this.open.delete(entry.file);
      await entry.writer.close();
      this.completed.add(entry.file);
    }
  }
}
