/**
 * A file replaced whole or not at all: written to a temporary sibling first, then renamed over
 * the target (a rename within a folder is atomic), so a reader sees the old file or the
 * complete new one, never a half-written one. The temporary file is removed when any step
 * fails, and errors name the file at fault (file-errors.ts).
 */
import { rename, rm } from 'node:fs/promises';
import { fileStep } from './file-errors.js';

export async function replaceFile(path: string, write: (temporary: string) => Promise<void>, temporary = `${path}.partial`): Promise<void> {
  try {
    await fileStep(temporary, 'write', () => write(temporary));
    await fileStep(path, 'write', () => rename(temporary, path));
  } catch (e) {
    await rm(temporary, { force: true });
    throw e;
  }
}
