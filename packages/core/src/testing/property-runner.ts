/**
 * Runs a check over an arbitrary with fast-check (generated, shrunk), or once on a fixed value,
 * and turns a failure into a few readable lines: the property, the operator as a compact spec,
 * the check's report (compared, observed, allowed, likely cause) and how to rerun the case.
 * fast-check's own report stringifies the whole counterexample, which for an operator means
 * its backend and every function source (hundreds of lines).
 */
import fc from 'fast-check';
import { CheckFailure } from './check-failure.js';

/** What a check returns for a value it does not apply to (no toDense, no registered rule). */
export const NOT_APPLICABLE = 'not applicable';
export type CheckResult = void | typeof NOT_APPLICABLE;

export interface PropertyRun<T> {
  /** Runs per property. */
  readonly numRuns: number;
  /** One line naming a value: the operator's spec. */
  readonly describe: (value: T) => string;
  /** More fast-check parameters (seed, path, verbose, ...), e.g. to rerun a reported case. */
  readonly parameters?: fc.Parameters<[T]> | undefined;
}

/** A failed property: its message is the whole report, and its stack adds nothing to it. */
export class PropertyFailure extends Error {
  override readonly name = 'PropertyFailure';
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.stack = `${this.name}: ${message}`;
  }
}

/**
 * Checks `check` on values of `arbitrary`. Returns NOT_APPLICABLE when the check applied to
 * none of them (the caller marks the test skipped); throws a PropertyFailure on a failure.
 */
export function runProperty<T>(property: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => CheckResult, run: PropertyRun<T>): CheckResult {
  let applied = 0;
  const details = fc.check(
    fc.property(arbitrary, (value) => {
      if (check(value) !== NOT_APPLICABLE) applied++;
    }),
    { numRuns: run.numRuns, ...run.parameters },
  );
  if (!details.failed) return applied === 0 ? NOT_APPLICABLE : undefined;
  if (details.counterexample === null) {
    throw new PropertyFailure(`${property}\n${fc.defaultReportMessage(details)}`);
  }
  const [value] = details.counterexample;
  // The seed alone replays the run and its shrinking; the path skips to the case, when short.
  const path = details.counterexamplePath.length <= 40 ? `, path: ${JSON.stringify(details.counterexamplePath)}` : '';
  const rerun = `{ seed: ${details.seed}${path} }`;
  const where = `failed on run ${details.numRuns} of ${run.numRuns}, shrunk ${details.numShrinks} time(s); rerun it with fast-check parameters ${rerun}`;
  throw failure(property, run.describe(value), details.errorInstance, `  fast-check: ${where}`);
}

/** Runs `check` once on a fixed value, with the same report as runProperty. */
export function runOnce<T>(property: string, value: T, check: (value: T) => CheckResult, describe: (value: T) => string): CheckResult {
  try {
    return check(value);
  } catch (e) {
    throw failure(property, describe(value), e);
  }
}

function failure(property: string, operator: string, error: unknown, trailer?: string): PropertyFailure {
  const body = error instanceof CheckFailure ? error.message : threw(error);
  const lines = [`${property}`, `  operator: ${operator}`, body];
  if (trailer) lines.push(trailer);
  return new PropertyFailure(lines.join('\n'), error instanceof CheckFailure ? undefined : error);
}

/** An unexpected error: its message and the first frames of its stack, where it came from. */
function threw(error: unknown): string {
  if (!(error instanceof Error)) return `  threw: ${String(error)}`;
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 3)
    .map((l) => `    ${l.trim()}`);
  return [`  threw: ${error.name}: ${error.message}`, ...frames].join('\n');
}
