/**
 * Errors a user can act on. The CLI exits with status 1 and prints the message alone for any
 * UserError; anything else is a bug (status 2).
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A safetensors file (or sharded checkpoint) that breaks the format's rules. */
export class SafetensorsError extends UserError {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
  }
}

/**
 * Several problems found together (config validation, checkpoint compatibility): reported at
 * once so that one run shows everything to fix.
 */
export class ValidationError extends UserError {
  constructor(
    readonly subject: string,
    readonly problems: readonly string[],
  ) {
    super(`${subject}:\n${problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}`);
  }
}

/**
 * The file system refused an operation: a full disk, a file over the size limit, a folder
 * without write permission. The user's to fix (exit status 1), never a bug.
 */
export class FileSystemError extends UserError {
  constructor(
    readonly file: string,
    /** The errno code (ENOSPC, EFBIG, EACCES, ...). */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The merge was stopped before it finished (a signal, or an aborted AbortSignal); nothing was written. */
export class InterruptedError extends UserError {
  constructor(
    message: string,
    /** The signal that stopped it, when there was one. */
    readonly signal?: NodeJS.Signals,
  ) {
    super(message);
  }
}
