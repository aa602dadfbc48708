/**
 * Positioned file reads and writes in chunks. One fs call moves at most 2^31 - 1 bytes and a
 * Node Buffer stops at 4 GiB, so large tensors go through several calls into one typed array.
 */
import type { FileHandle } from 'node:fs/promises';

const CHUNK = 1 << 30;

/** Fills target with the bytes of the file at [position, position + target.length). */
export async function readFully(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
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

/** Writes all of source to the file at position. */
export async function writeFully(handle: FileHandle, source: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < source.length) {
    const length = Math.min(CHUNK, source.length - done);
    const { bytesWritten } = await handle.write(source, done, length, position + done);
    done += bytesWritten;
  }
}
