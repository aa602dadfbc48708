/**
 * What a failing check says, so that a person can act on it: what was compared, the observed
 * and the allowed values, and the likely cause where one is known. The property runner adds
 * the property's name and the operator (a compact spec), so a counterexample reads in a few
 * lines instead of a dump of the backend.
 */

export interface CheckReport {
  /** What was compared with what: 'apply(x, out) with out holding y, against A x'. */
  readonly compared: string;
  /** The observed value: '||out - A x|| = 1.7'. */
  readonly observed: string;
  /** The allowed value: '||out - A x|| <= 3.1e-15 (64 n u ||A||_F ||x||)'. */
  readonly allowed: string;
  /** The likely cause, where the check can tell: 'apply adds into out instead of overwriting it'. */
  readonly cause?: string | undefined;
}

/** Thrown by a check: a report, not a bare number. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
  constructor(readonly report: CheckReport) {
    super(formatReport(report));
  }
}

/** The report as indented lines (no property, no operator: the runner adds those). */
export function formatReport(r: CheckReport): string {
  const lines = [`compared: ${r.compared}`, `observed: ${r.observed}`, `allowed:  ${r.allowed}`];
  if (r.cause) lines.push(`likely cause: ${r.cause}`);
  return lines.map((l) => `  ${l}`).join('\n');
}

/** Throws a CheckFailure unless observed <= allowed (NaN fails). */
export function requireAtMost(observed: number, allowed: number, report: Omit<CheckReport, 'observed' | 'allowed'> & { quantity: string; bound?: string }): void {
  if (observed <= allowed) return;
  const [o, a] = distinct(observed, allowed);
  throw new CheckFailure({
    compared: report.compared,
    observed: `${report.quantity} = ${o}`,
    allowed: `${report.quantity} <= ${a}${report.bound ? ` (${report.bound})` : ''}`,
    cause: report.cause,
  });
}

/** A number in three significant digits (exponent form when tiny or huge), exact for integers. */
export function num(x: number, digits = 3): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a < 1e-3 || a >= 1e6 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

/** Two numbers printed with as many digits as it takes to tell them apart (up to 8). */
function distinct(a: number, b: number): [string, string] {
  for (let digits = 3; digits < 8; digits++) if (num(a, digits) !== num(b, digits)) return [num(a, digits), num(b, digits)];
  return [num(a, 8), num(b, 8)];
}
