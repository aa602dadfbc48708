/**
 * Exit statuses of `mats`, and which errors are the user's:
 *   0  success
 *   1  the user's to fix: a bad config or input, NaN in a checkpoint, a full disk (ENOSPC), a
 *      file over the size limit (EFBIG), no permission (EACCES), ... (one `error:` line)
 *   2  a bug in mats (`internal error:`, the stack with --verbose)
 *   128 + N  stopped by signal N: 130 for SIGINT (Ctrl-C), 143 for SIGTERM, 129 for SIGHUP
 */
import { constants } from 'node:os';
import { InterruptedError, UserError } from '../errors.js';
import { asFileSystemError } from '../util/file-errors.js';

export const EXIT_SUCCESS = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_BUG = 2;

/** The shell's convention for a process stopped by a signal: 128 + its number. */
export function exitCodeOfSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** The signals a merge stops on (each removes the partial output first). */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface Failure {
  readonly code: number;
  /** What to print on stderr (ends with a newline). */
  readonly text: string;
}

/** The exit status and the message of an error that ended a command. */
export function describeFailure(e: unknown, verbose: boolean): Failure {
  const error = asFileSystemError(e, undefined, 'use');
  if (error instanceof UserError) {
    const stack = verbose && error.stack !== undefined ? `${error.stack}\n` : '';
    const code = error instanceof InterruptedError && error.signal !== undefined ? exitCodeOfSignal(error.signal) : EXIT_USER_ERROR;
    return { code, text: `error: ${error.message}\n${stack}` };
  }
  const err = e as Error;
  const text = `internal error: ${err?.message ?? String(e)}\n${verbose ? `${err?.stack ?? ''}\n` : 'this is a bug in mats; run again with --verbose for the stack trace and report it\n'}`;
  return { code: EXIT_BUG, text };
}
