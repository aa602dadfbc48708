/**
 * InputFiles on the file system (Node): positioned reads through a FileHandle. One fs call
 * moves at most 2^31 - 1 bytes and a Node Buffer stops at 4 GiB, so large tensors go through
 * several calls into one typed array.
 */
import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { FileAccessError, type ByteSource, type InputFiles } from './files.js';

const CHUNK = 1 << 30;

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e);

/** Fills target with the bytes of the file at [position, position + target.length). */
async function readFully(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(CHUNK, target.length - done);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new Error(`${file}: unexpected end of file at byte ${position + done} (the file changed while it was read?)`);
    }
    done += bytesRead;
  }
}

class NodeFileSource implements ByteSource {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  read(target: Uint8Array, position: number): Promise<void> {
    return readFully(this.handle, target, position, this.path);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const nodeInputFiles: InputFiles = {
  resolve: (baseDir, path) => (isAbsolute(path) ? path : resolve(baseDir, path)),
  dirname,
  isAbsolute,
  relative,
  join,

  async kind(path) {
    try {
      return (await stat(path)).isDirectory() ? 'folder' : 'file';
    } catch (e) {
      throw new FileAccessError(path, codeOf(e), { cause: e });
    }
  },

  list: (folder) => readdir(folder),

  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new FileAccessError(path, codeOf(e), { cause: e });
    }
  },

  async open(path) {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw new FileAccessError(path, codeOf(e), { cause: e });
    }
    try {
      const info = await handle.stat();
      // Linux opens a folder for reading; its first read would fail with EISDIR.
      if (info.isDirectory()) throw new FileAccessError(path, 'EISDIR');
      return new NodeFileSource(path, handle, info.size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  },
};
