/**
 * Errors of the file system that are the user's environment, not a bug in mats: a full disk
 * (ENOSPC), a file past the size limit (EFBIG, `ulimit -f`), no permission (EACCES), ... Each
 * becomes a FileSystemError: one line naming the file and the cause, exit status 1.
 */
import { FileSystemError, UserError } from '../errors.js';

/** errno code -> what it means for the user. */
const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large (over the file size limit: see ulimit -f, or the file system maximum)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files (see ulimit -n)',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error (the disk or a network file system failed)',
  ESTALE: 'stale file handle (a network file system)',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'file busy',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EXDEV: 'not on the same file system',
  EAGAIN: 'resource temporarily unavailable (too many processes or threads?)',
  ENOMEM: 'out of memory',
};

type ErrnoError = Error & { code: string; path?: string; syscall?: string };

/** Whether e is an errno error of the user's environment (see CAUSES). */
export function isEnvironmentError(e: unknown): e is ErrnoError {
  return e instanceof Error && typeof (e as ErrnoError).code === 'string' && (e as ErrnoError).code in CAUSES;
}

/**
 * The error to throw for e, met while doing `action` ("write", "create the folder") on file:
 * a FileSystemError for an environment error, e itself otherwise (a UserError stays as it is, a
 * bug stays a bug).
 */
export function asFileSystemError(e: unknown, file: string | undefined, action: string): unknown {
  if (e instanceof UserError || !isEnvironmentError(e)) return e;
  const where = file ?? e.path ?? '(unknown file)';
  return new FileSystemError(where, e.code, `cannot ${action} ${where}: ${CAUSES[e.code]} (${e.code})`, { cause: e });
}

/** Runs an fs step, turning an environment error into a FileSystemError naming file. */
export async function fileStep<T>(file: string, action: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    throw asFileSystemError(e, file, action);
  }
}
