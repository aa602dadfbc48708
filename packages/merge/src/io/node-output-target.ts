/**
 * OutputTarget on the file system (Node): an output is written into a hidden `.NAME.partial-*`
 * folder beside the target and renamed into place at commit, so a failed or interrupted merge
 * never leaves something that looks like a finished model.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { INDEX_FILE } from '../checkpoint/shard-index.js';
import { UserError } from '../errors.js';
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

/** Whether an existing path may be replaced by --force: a previous output, or an empty folder. */
async function checkReplaceable(target: string): Promise<void> {
  const info = await stat(target);
  if (!info.isDirectory()) throw new UserError(`output ${target} exists and is not a folder; refusing to replace it even with --force`);
  const foreign = (await readdir(target)).filter((f) => !f.endsWith('.safetensors') && f !== INDEX_FILE);
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
  static async create(path: string, size: number): Promise<NodeFileSink> {
    const handle = await open(path, 'w');
    try {
      await handle.truncate(size);
    } catch (e) {
      await handle.close();
      throw e;
    }
    return new NodeFileSink(path, handle);
  }

  async write(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const length = Math.min(CHUNK, bytes.length - done);
      const { bytesWritten } = await this.handle.write(bytes, done, length, position + done);
      done += bytesWritten;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
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
    readonly tempFolder: string,
    private readonly force: boolean,
  ) {}

  createFile(name: string, size: number): Promise<ByteSink> {
    return NodeFileSink.create(join(this.tempFolder, name), size);
  }

  async commit(): Promise<void> {
    let old: string | undefined;
    if (await pathExists(this.path)) {
      if (!this.force) throw new UserError(`output ${this.path} appeared during the merge; pass --force to replace it`);
      await checkReplaceable(this.path);
      old = join(dirname(this.path), `.${basename(this.path)}.old-${randomBytes(4).toString('hex')}`);
      await rename(this.path, old);
    }
    await rename(this.tempFolder, this.path);
    this.finished = true;
    if (old !== undefined) await rm(old, { recursive: true, force: true });
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    await rm(this.tempFolder, { recursive: true, force: true });
  }
}

export const nodeOutputTarget: OutputTarget = {
  exists: pathExists,

  /** Creates the temporary folder beside target. Refuses an existing target unless force. */
  async create(target, force) {
    const full = resolve(target);
    if (await pathExists(full)) {
      if (!force) throw new UserError(`output ${full} already exists; pass --force to replace it`);
      await checkReplaceable(full);
    }
    await mkdir(dirname(full), { recursive: true });
    const temp = join(dirname(full), `.${basename(full)}.partial-${randomBytes(4).toString('hex')}`);
    await mkdir(temp);
    return new NodeOutputFolder(full, temp, force);
  },
};
