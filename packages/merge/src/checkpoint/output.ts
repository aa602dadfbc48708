/**
 * Writing a merged checkpoint: shards planned from the tensor specs and a size limit, written
 * into a temporary folder beside the target, renamed into place only when every tensor is in.
 * A failed or interrupted merge leaves a hidden `.NAME.partial-*` folder at most, never
 * something that looks like a finished model; the folder holds an owner record until the rename,
 * so a later run can tell a folder left by a killed merge (and remove it) from one being written
 * (checkpoint/temporary-folders.ts). A refusal of the file system (ENOSPC, EFBIG, EACCES, ...)
 * becomes a FileSystemError naming the file: the user's to fix, not a bug.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { fileStep } from '../util/file-errors.js';
import type { FloatArray } from '../safetensors/decode.js';
import { tensorByteLength, type TensorSpec } from '../safetensors/layout.js';
import { SafetensorsWriter } from '../safetensors/writer.js';
import { isCompanionFile } from './hf-folder.js';
import { INDEX_FILE, SINGLE_FILE } from './shard-index.js';
import { OWNER_FILE, temporaryPrefix, writeOwner } from './temporary-folders.js';

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
  const pad = (i: number) => String(i).padStart(5, '0');
  return groups.map((g, i) => ({ ...g, file: n === 1 ? SINGLE_FILE : `model-${pad(i + 1)}-of-${pad(n)}.safetensors` }));
}

/** Whether an existing path may be replaced by --force: a previous output, or an empty folder. */
async function checkReplaceable(target: string): Promise<void> {
  const info = await stat(target);
  if (!info.isDirectory()) throw new UserError(`output ${target} exists and is not a folder; refusing to replace it even with --force`);
  const foreign = (await readdir(target)).filter((f) => !f.endsWith('.safetensors') && f !== INDEX_FILE && !isCompanionFile(f));
  if (foreign.length > 0) {
    throw new UserError(`output ${target} holds files that are not a checkpoint (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); refusing to replace it even with --force`);
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class CheckpointOutput {
  private readonly open = new Map<string, { writer: SafetensorsWriter; left: number }>();
  private readonly shardOf = new Map<string, ShardPlan>();
  private readonly completed = new Set<string>();
  private finished = false;

  private constructor(
    readonly target: string,
    readonly tempFolder: string,
    readonly shards: readonly ShardPlan[],
    private readonly metadata: Readonly<Record<string, string>>,
    private readonly force: boolean,
  ) {
    for (const shard of shards) for (const t of shard.tensors) this.shardOf.set(t.name, shard);
  }

  /** Creates the temporary folder beside target. Refuses an existing target unless force. */
  static async create(target: string, shards: readonly ShardPlan[], metadata: Readonly<Record<string, string>>, force: boolean): Promise<CheckpointOutput> {
    const full = resolve(target);
    if (await pathExists(full)) {
      if (!force) throw new UserError(`output ${full} already exists; pass --force to replace it`);
      await checkReplaceable(full);
    }
    await fileStep(dirname(full), 'create the output\'s parent folder', () => mkdir(dirname(full), { recursive: true }));
    const temp = join(dirname(full), `${temporaryPrefix(full)}${randomBytes(4).toString('hex')}`);
    await fileStep(temp, 'create the temporary output folder', () => mkdir(temp));
    try {
      await fileStep(join(temp, OWNER_FILE), 'write', () => writeOwner(temp));
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
    return new CheckpointOutput(full, temp, shards, metadata, force);
  }

  /** Writes a tensor, or the chunk of it that starts at element offset. */
  async writeFloats(name: string, values: FloatArray, offset = 0): Promise<void> {
    const entry = await this.writerFor(name);
    if (await fileStep(entry.writer.path, 'write', () => entry.writer.writeFloats(name, values, offset))) await this.done(entry);
  }

  /** Writes a whole tensor's raw bytes. */
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    const entry = await this.writerFor(name);
    if (await fileStep(entry.writer.path, 'write', () => entry.writer.writeBytes(name, bytes))) await this.done(entry);
  }

  /** Writes the index (when sharded) and renames the folder into place. */
  async commit(): Promise<void> {
    for (const shard of this.shards) {
      if (shard.tensors.length === 0) {
        // A checkpoint with no tensors is still a valid file.
        const file = join(this.tempFolder, shard.file);
        await fileStep(file, 'write', async () => {
          const w = await SafetensorsWriter.create(file, [], this.metadata);
          await w.close();
        });
      } else if (!this.completed.has(shard.file)) {
        throw new Error(`output: shard ${shard.file} is incomplete at commit`);
      }
    }
    if (this.shards.length > 1) {
      const weightMap: Record<string, string> = {};
      const names = [...this.shardOf.keys()].sort();
      for (const n of names) weightMap[n] = this.shardOf.get(n)!.file;
      const total = this.shards.reduce((s, x) => s + x.bytes, 0);
      const index = { metadata: { total_size: total, ...this.metadata }, weight_map: weightMap };
      const file = join(this.tempFolder, INDEX_FILE);
      await fileStep(file, 'write', () => writeFile(file, `${JSON.stringify(index, null, 2)}\n`));
    }
    // The owner record goes before the rename: the output holds the checkpoint alone.
    await fileStep(join(this.tempFolder, OWNER_FILE), 'remove', () => rm(join(this.tempFolder, OWNER_FILE)));
    let old: string | undefined;
    if (await pathExists(this.target)) {
      if (!this.force) throw new UserError(`output ${this.target} appeared during the merge; pass --force to replace it`);
      await checkReplaceable(this.target);
      old = join(dirname(this.target), `.${basename(this.target)}.old-${randomBytes(4).toString('hex')}`);
      await fileStep(this.target, 'replace', () => rename(this.target, old!));
    }
    await fileStep(this.target, 'rename the finished output to', () => rename(this.tempFolder, this.target));
    this.finished = true;
    if (old !== undefined) await rm(old, { recursive: true, force: true });
  }

  /** Closes everything and removes the temporary folder. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.finished) return;
    for (const { writer } of this.open.values()) await writer.abort();
    this.open.clear();
    await rm(this.tempFolder, { recursive: true, force: true });
  }

  private async writerFor(name: string): Promise<{ writer: SafetensorsWriter; left: number }> {
    const shard = this.shardOf.get(name);
    if (shard === undefined) throw new Error(`output: tensor ${name} is not in the shard plan`);
    let entry = this.open.get(shard.file);
    if (entry === undefined) {
      const file = join(this.tempFolder, shard.file);
      const writer = await fileStep(file, 'create', () => SafetensorsWriter.create(file, shard.tensors, this.metadata));
      entry = { writer, left: shard.tensors.length };
      this.open.set(shard.file, entry);
    }
    return entry;
  }

  private async done(entry: { writer: SafetensorsWriter; left: number }): Promise<void> {
    entry.left--;
    if (entry.left === 0) {
      const file = basename(entry.writer.path);
      this.open.delete(file);
      await fileStep(entry.writer.path, 'write', () => entry.writer.close());
      this.completed.add(file);
    }
  }
}
