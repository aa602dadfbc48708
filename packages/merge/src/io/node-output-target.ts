/**
 * OutputTarget on the file system (Node): an output is written into a hidden `.NAME.partial-*`
 * folder beside the target and renamed into place at commit, so a failed or interrupted merge
 * never leaves something that looks like a finished model. The folder holds an owner record
 * until the rename, so a later run can tell a folder left by a killed merge (and remove it) from
 * one being written (checkpoint/temporary-folders.ts). A refusal of the file system (ENOSPC,
 * EFBIG, EACCES, ...) becomes a FileSystemError naming the file: the user's to fix, not a bug.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isCompanionFile } from '../checkpoint/hf-folder.js';
import { INDEX_FILE } from '../checkpoint/shard-index.js';
import { SHARDS_FOLDER } from '../checkpoint/completion-record.js';
import { findShardTemporaryFolders, findTemporaryFolders, OWNER_FILE, removeIfStale, temporaryPrefix, writeOwner } from '../checkpoint/temporary-folders.js';
import { UserError } from '../errors.js';
import { outputOverlapsInputs } from '../pipeline/output-overlap.js';
import { fileStep } from '../util/file-errors.js';
import type { ByteSink, OutputFolder, OutputTarget } from './files.js';

const CHUNK = 1 << 30;

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether an existing path may be replaced by --force: a previous output (single-process or distributed), or an empty folder. */
async function checkReplaceable(target: string): Promise<void> {
  const info = await stat(target);
  if (!info.isDirectory()) throw new UserError(`output ${target} exists and is not a folder; refusing to replace it even with --force`);
  const foreign = (await readdir(target)).filter((f) => !f.endsWith('.safetensors') && f !== INDEX_FILE && f !== SHARDS_FOLDER && !isCompanionFile(f));
  if (foreign.length > 0) {
    throw new UserError(`output ${target} holds files that are not a checkpoint (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}); refusing to replace it even with --force`);
  }
}

/** A file opened for positioned writes, at its final size from the start. */
export class NodeFileSink implements ByteSink {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates (or truncates) path at `size` bytes: an unfinished file has zeros, not a short read, where tensors are missing. */
  static create(path: string, size: number): Promise<NodeFileSink> {
    return fileStep(path, 'create', async () => {
      const handle = await open(path, 'w');
      try {
        await handle.truncate(size);
      } catch (e) {
        await handle.close();
        throw e;
      }
      return new NodeFileSink(path, handle);
    });
  }

  write(bytes: Uint8Array, position: number): Promise<void> {
    return fileStep(this.path, 'write', async () => {
      let done = 0;
      while (done < bytes.length) {
        const length = Math.min(CHUNK, bytes.length - done);
        const { bytesWritten } = await this.handle.write(bytes, done, length, position + done);
        done += bytesWritten;
      }
    });
  }

  close(): Promise<void> {
    return fileStep(this.path, 'write', () => this.handle.close());
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

class NodeOutputFolder implements OutputFolder {
  private finished = false;

  constructor(
    /** The target, absolute. */
    readonly path: string,
    readonly temporaryPath: string,
    private readonly force: boolean,
  ) {}

  createFile(name: string, size: number): Promise<ByteSink> {
    return NodeFileSink.create(join(this.temporaryPath, name), size);
  }

  async commit(): Promise<void> {
    // The owner record goes before the rename: the output holds the checkpoint alone.
    await fileStep(join(this.temporaryPath, OWNER_FILE), 'remove', () => rm(join(this.temporaryPath, OWNER_FILE)));
    let old: string | undefined;
    if (await pathExists(this.path)) {
      if (!this.force) throw new UserError(`output ${this.path} appeared during the merge; pass --force to replace it`);
      await checkReplaceable(this.path);
      old = join(dirname(this.path), `.${basename(this.path)}.old-${randomBytes(4).toString('hex')}`);
      await fileStep(this.path, 'replace', () => rename(this.path, old!));
    }
    await fileStep(this.path, 'rename the finished output to', () => rename(this.temporaryPath, this.path));
    this.finished = true;
    if (old !== undefined) await rm(old, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    await rm(this.temporaryPath, { recursive: true, force: true });
  }
}

export const nodeOutputTarget: OutputTarget = {
  exists: pathExists,

  async survey(path, inputs) {
    return { overlaps: await outputOverlapsInputs(path, inputs), temporaryFolders: await findTemporaryFolders(path), shardFolders: await findShardTemporaryFolders(path) };
  },

  removeStale: removeIfStale,

  /** Creates the temporary folder beside target, with its owner record. Refuses an existing target unless force. */
  async create(target, force) {
    const full = resolve(target);
    if (await pathExists(full)) {
      if (!force) throw new UserError(`output ${full} already exists; pass --force to replace it`);
      await checkReplaceable(full);
    }
    await fileStep(dirname(full), "create the output's parent folder", () => mkdir(dirname(full), { recursive: true }));
    const temp = join(dirname(full), `${temporaryPrefix(full)}${randomBytes(4).toString('hex')}`);
    await fileStep(temp, 'create the temporary output folder', () => mkdir(temp));
    try {
      await fileStep(join(temp, OWNER_FILE), 'write', () => writeOwner(temp));
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
    return new NodeOutputFolder(full, temp, force);
  },
};
