/**
 * The checks of the operator conformance suite, each on one operator (a Subject) and each
 * about one thing, so that the check that fails is the one that names what is wrong: apply's
 * matrix is built from unit vectors (never from toDense), and symmetry, toDense and every
 * diagonal are compared with it directly. Every rule a kind registers (diagonal, solve,
 * preconditioner) is called as registered and checked against the operator itself; add and
 * scale are checked as dispatch applies them to the operator.
 *
 * Tolerances: u is the dtype's unit roundoff, n the block size, ||A|| the Frobenius norm of
 * apply's matrix; a matrix entry computed by a few sums of n products may be off by ~n u ||A||.
 */
import type { Backend, Tensor } from '../backend/backend.js';
import { add, diagonal, scale, solve } from '../dispatch/api.js';
import { dispatchRule } from '../dispatch/registration.js';
import { userKindRules } from '../dispatch/registry.js';
import { DiagonalOperator } from '../operators/diagonal.js';
import { NoDiagonalError } from '../operators/dense-of.js';
import { IdentityOperator } from '../operators/identity.js';
import { blockSize, isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { ScaledOperator } from '../operators/scaled.js';
import { SumOperator } from '../operators/sum.js';
import { CheckFailure, num, requireAtMost } from './check-failure.js';
import { countAllocations } from './count-allocations.js';
import { distance, matrixOfApply, norm, symmetricPart, transposed, worstEntry } from './matrices.js';
import { NOT_APPLICABLE, type CheckResult } from './property-runner.js';
import { randomArray } from './random.js';
import { referenceMatVec, referenceSpdSolve, referenceSymmetricEigen } from './reference.js';
import { unitRoundoff } from './tolerance.js';

/** One operator under test, with the matrix its apply gives. */
export interface Subject {
  readonly operator: LinearOperator;
  readonly backend: Backend;
  /** The matrix apply gives: column j is apply(e_j). */
  readonly matrix: Float64Array;
  /** A matrix written independently of apply (a kind generator's matrix()), when there is one. */
  readonly reference: Float64Array | undefined;
  /**
   * The operator's matrix, as far as the suite knows: the reference where there is one, else
   * apply's. toDense, the diagonals, the registered solve and the psd tag are checked against
   * it, so a wrong apply fails the checks of apply, not those of the rules that are right.
   */
  readonly truth: Float64Array;
  /** What truth is, for messages: "the generator's matrix()" or "the matrix apply gives". */
  readonly truthName: string;
  readonly n: number;
  /** The dtype's unit roundoff. */
  readonly u: number;
  /** ||A||_F of the matrix apply gives. */
  readonly norm: number;
  /**
   * What a matrix entry computed in this dtype may be off by: 64 n u ||A||, plus n times the
   * smallest normal number (a reference written in float64 may hold values float32 flushes).
   */
  readonly entryTolerance: number;
}

export function subjectOf(operator: LinearOperator, backend: Backend, reference?: Float64Array): Subject {
  const n = blockSize(operator);
  const matrix = matrixOfApply(operator, backend);
  const u = unitRoundoff(backend.dtype);
  const size = norm(matrix);
  const truthName = reference ? "the generator's matrix()" : 'the matrix apply gives';
  const tiny = backend.dtype === 'float32' ? 2 ** -126 : 2 ** -1022;
  return { operator, backend, matrix, reference, truth: reference ?? matrix, truthName, n, u, norm: size, entryTolerance: 64 * n * u * size + n * tiny };
}

export interface ConformanceCheck {
  readonly name: string;
  /** Checks a kind's own registered rules: over kinds, it runs on the kind alone, not composed. */
  readonly ownRules?: boolean;
  readonly run: (s: Subject) => CheckResult;
}

const ENTRY_BOUND = '64 n u ||A||_F, u the unit roundoff';

/** A block-shaped random vector as the backend stores it (values in [-1, 1)). */
function vector(s: Subject, seed: number): { host: Float64Array; tensor: Tensor } {
  const tensor = s.backend.fromArray(randomArray(s.n, seed), s.operator.shape);
  return { host: Float64Array.from(s.backend.toArray(tensor)), tensor };
}

/** apply(x) into a fresh zero tensor, read back to the host. */
function applied(s: Subject, x: Tensor): Float64Array {
  const out = s.backend.zeros(s.operator.shape);
  s.operator.apply(x, out);
  const values = Float64Array.from(s.backend.toArray(out));
  s.backend.dispose(out);
  return values;
}

/** Compares two matrices; the failure points at the worst entry. */
function requireSameMatrix(s: Subject, observed: Float64Array, expected: Float64Array, names: { compared: string; observed: string; expected: string; cause: string }): void {
  const d = distance(observed, expected);
  if (d <= s.entryTolerance) return;
  const w = worstEntry(observed, expected, s.n);
  throw new CheckFailure({
    compared: names.compared,
    observed: `||${names.observed} - ${names.expected}||_F = ${num(d)}; worst at entry (${w.i}, ${w.j}): ${names.observed} ${num(w.a)}, ${names.expected} ${num(w.b)}`,
    allowed: `||${names.observed} - ${names.expected}||_F <= ${num(s.entryTolerance)} (${ENTRY_BOUND})`,
    cause: names.cause,
  });
}

/** Appended to a cause when the operator's matrix is apply's: then apply may be the one wrong. */
function unlessApply(s: Subject): string {
  return s.reference ? '' : "; or apply is wrong, if its own checks fail too (without a reference matrix, apply's matrix is the operator's)";
}

/** Compares a diagonal (a tensor some rule returned) with the diagonal of the operator's matrix. */
function requireDiagonal(s: Subject, t: Tensor, what: string, cause: string): void {
  if (t.size !== s.n) {
    throw new CheckFailure({ compared: `${what} against the diagonal of ${s.truthName}`, observed: `${t.size} entries`, allowed: `${s.n} entries, one per block element`, cause });
  }
  const d = Float64Array.from(s.backend.toArray(t));
  const expected = Float64Array.from({ length: s.n }, (_, i) => s.truth[i * s.n + i]);
  const gap = distance(d, expected);
  if (gap <= s.entryTolerance) return;
  const w = worstEntry(d, expected, s.n);
  throw new CheckFailure({
    compared: `${what} against the diagonal of ${s.truthName}`,
    observed: `||difference|| = ${num(gap)}; worst at index ${w.j}: ${what} ${num(w.a)}, the matrix ${num(w.b)}`,
    allowed: `||difference|| <= ${num(s.entryTolerance)} (${ENTRY_BOUND})`,
    cause: cause + unlessApply(s),
  });
}

function registered(s: Subject) {
  return userKindRules(s.operator.kind);
}

export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  {
    name: 'has a kind, a block shape and the dtype of its backend',
    run: (s) => {
      const op = s.operator;
      const shapeOk = Array.isArray(op.shape) && op.shape.length > 0 && op.shape.every((d) => Number.isInteger(d) && d > 0);
      if (typeof op.kind !== 'string' || op.kind === '' || !shapeOk || op.dtype !== s.backend.dtype) {
        throw new CheckFailure({
          compared: 'kind, shape and dtype against the backend the operator was built on',
          observed: `kind ${JSON.stringify(op.kind)}, shape ${JSON.stringify(op.shape)}, dtype ${String(op.dtype)}`,
          allowed: `a non-empty kind, positive integer dimensions, dtype ${s.backend.dtype}`,
          cause: op.dtype !== s.backend.dtype ? 'the operator reports another dtype than its backend has' : undefined,
        });
      }
    },
  },
  {
    name: 'apply is linear: A (a x + b y) = a A x + b A y',
    run: (s) => {
      const x = vector(s, 1);
      const y = vector(s, 2);
      const [a, b] = [0.75, -1.25];
      const combined = s.backend.fromArray(x.host.map((v, i) => a * v + b * y.host[i]), s.operator.shape);
      const left = applied(s, combined);
      const ax = applied(s, x.tensor);
      const ay = applied(s, y.tensor);
      const right = ax.map((v, i) => a * v + b * ay[i]);
      requireAtMost(distance(left, right), 4 * s.entryTolerance * (norm(x.host) + norm(y.host)), {
        compared: 'A (a x + b y) against a A x + b A y, for a = 0.75, b = -1.25 and random x, y',
        quantity: '||A (a x + b y) - (a A x + b A y)||',
        bound: '4 (64 n u ||A||_F) (||x|| + ||y||)',
        cause: 'apply depends on more than x: state kept between calls, or the content of out',
      });
    },
  },
  {
    name: "apply gives the matrix of its parameters (the generator's matrix())",
    run: (s) => {
      if (!s.reference) return NOT_APPLICABLE;
      requireSameMatrix(s, s.matrix, s.reference, {
        compared: "the matrix apply gives (column j = apply(e_j)) against the generator's matrix(parameters)",
        observed: 'apply',
        expected: 'matrix()',
        cause: 'apply computes another matrix than its parameters describe: look for an index or a range off by one where the worst entry is',
      });
    },
  },
  {
    name: 'apply overwrites out: it neither adds into out nor reads it',
    run: (s) => {
      const x = vector(s, 3);
      const expected = applied(s, x.tensor);
      const held = vector(s, 4);
      const out = s.backend.fromArray(held.host, s.operator.shape);
      s.operator.apply(x.tensor, out);
      const got = Float64Array.from(s.backend.toArray(out));
      const tolerance = s.entryTolerance * (norm(x.host) + 1);
      const gap = distance(got, expected);
      if (gap <= tolerance) {
        s.backend.fill(out, NaN);
        s.operator.apply(x.tensor, out);
        if (Array.from(s.backend.toArray(out)).every(Number.isFinite)) return;
        throw new CheckFailure({
          compared: 'apply(x, out) with out holding NaN before the call',
          observed: 'NaN in the result',
          allowed: 'no NaN: out is written, never read',
          cause: 'apply reads out before writing every entry of it',
        });
      }
      const addsInto = distance(got, expected.map((v, i) => v + held.host[i])) <= tolerance;
      throw new CheckFailure({
        compared: 'out after apply(x, out) with out holding a random y before the call, against A x (apply into zeros)',
        observed: `||out - A x|| = ${num(gap)}${addsInto ? ', and out - A x is the y out held' : ''}`,
        allowed: `||out - A x|| <= ${num(tolerance)}`,
        cause: addsInto ? 'apply adds into out instead of overwriting it (out += A x): write its first term with an operation that overwrites' : 'apply reads out before writing it',
      });
    },
  },
  {
    name: 'apply leaves x unchanged',
    run: (s) => {
      const x = vector(s, 5);
      const out = s.backend.zeros(s.operator.shape);
      s.operator.apply(x.tensor, out);
      const after = s.backend.toArray(x.tensor);
      const changed = x.host.findIndex((v, i) => !Object.is(v, after[i]));
      if (changed < 0) return;
      throw new CheckFailure({
        compared: 'x before and after apply(x, out)',
        observed: `x[${changed}] changed from ${num(x.host[changed])} to ${num(after[changed])}`,
        allowed: 'x bit for bit as it was',
        cause: 'apply writes into x: use scratch space of its own',
      });
    },
  },
  {
    name: 'apply allocates no tensor after its first call',
    run: (s) => {
      const x = vector(s, 6);
      const out = s.backend.zeros(s.operator.shape);
      s.operator.apply(x.tensor, out);
      const count = countAllocations(s.backend, () => s.operator.apply(x.tensor, out));
      if (count === 0) return;
      throw new CheckFailure({
        compared: 'tensors allocated (backend.zeros, backend.fromArray) during the second apply(x, out)',
        observed: `${count} tensor(s) allocated by one apply`,
        allowed: '0: a CG loop calls apply every iteration',
        cause: 'apply creates tensors on every call: make its scratch tensors once (in the constructor or on the first call) and reuse them',
      });
    },
  },
  {
    name: 'apply is symmetric (A = A^T), as CG needs',
    run: (s) => {
      requireSameMatrix(s, s.matrix, transposed(s.matrix, s.n), {
        compared: "the matrix apply gives (column j = apply(e_j)) against its transpose",
        observed: 'A',
        expected: 'A^T',
        cause: 'apply is not symmetric: entry (i, j) and entry (j, i) are computed differently; compare the code that fills the two triangles',
      });
    },
  },
  {
    name: 'is positive semi-definite when its tags say psd',
    run: (s) => {
      if (!s.operator.tags?.psd) return NOT_APPLICABLE;
      const { values } = referenceSymmetricEigen(symmetricPart(s.truth, s.n), s.n);
      if (values[0] >= -s.entryTolerance) return;
      throw new CheckFailure({
        compared: `the smallest eigenvalue of ${s.truthName} (its symmetric part), as the tag psd: true promises`,
        observed: `lambda_min = ${num(values[0])} (lambda_max = ${num(values[s.n - 1])})`,
        allowed: `lambda_min >= ${num(-s.entryTolerance)} (-${ENTRY_BOUND})`,
        cause: 'the operator is indefinite but tagged psd: its parameters make it indefinite, or the tags claim more than holds',
      });
    },
  },
  {
    name: "toDense() is the operator's matrix",
    run: (s) => {
      if (!s.operator.toDense) return NOT_APPLICABLE;
      const dense = s.operator.toDense();
      if (dense.length !== s.n * s.n) {
        throw new CheckFailure({ compared: `toDense() against ${s.truthName}`, observed: `${dense.length} entries`, allowed: `${s.n * s.n} (n x n, n = ${s.n})`, cause: 'toDense builds a matrix of the wrong size' });
      }
      requireSameMatrix(s, dense, s.truth, {
        compared: `toDense() against ${s.truthName}`,
        observed: 'toDense',
        expected: s.reference ? 'matrix()' : 'apply',
        cause: s.reference
          ? 'toDense builds another matrix than its parameters describe, at the worst entry'
          : 'toDense builds another matrix than apply computes: one of the two is wrong at the worst entry (the other checks of apply tell which)',
      });
    },
  },
  {
    name: "diagonal() is the diagonal of the operator's matrix",
    run: (s) => {
      if (!s.operator.diagonal) return NOT_APPLICABLE;
      let d: Tensor;
      try {
        d = s.operator.diagonal();
      } catch (e) {
        // A Sum, Scaled or BlockDiagonal whose part has no diagonal() (only a registered rule).
        if (e instanceof NoDiagonalError) return NOT_APPLICABLE;
        throw e;
      }
      requireDiagonal(s, d, 'diagonal()', "the operator's diagonal() method (or, in a Sum, Scaled or BlockDiagonal, a part's) returns wrong values");
    },
  },
  {
    name: "its registered diagonal rule gives the diagonal of the operator's matrix",
    ownRules: true,
    run: (s) => {
      const rule = registered(s)?.diagonal;
      if (!rule) return NOT_APPLICABLE;
      requireDiagonal(s, rule(s.operator), `the diagonal rule registered for '${s.operator.kind}'`, `registerOperatorKind('${s.operator.kind}', { diagonal }) returns wrong values`);
    },
  },
  {
    name: "diagonal(op) through dispatch is the diagonal of the operator's matrix",
    run: (s) => {
      let d: Tensor;
      try {
        d = diagonal(s.operator);
      } catch (e) {
        if (e instanceof NoDiagonalError) return NOT_APPLICABLE;
        throw e;
      }
      const rule = dispatchRule('diagonal', s.operator);
      requireDiagonal(s, d, `diagonal(op) (dispatch rule '${rule}')`, `the rule '${rule}' returns wrong values (for a Sum, Scaled or BlockDiagonal: a part's registered diagonal rule or diagonal() method)`);
    },
  },
  {
    name: 'its registered solve rule solves A x = b',
    ownRules: true,
    run: (s) => {
      const rule = registered(s)?.solve;
      if (!rule) return NOT_APPLICABLE;
      const b = vector(s, 7);
      const x = rule(s.operator, b.tensor);
      if (x.size !== s.n) {
        throw new CheckFailure({ compared: `the solve rule registered for '${s.operator.kind}', x = solve(op, b)`, observed: `x has ${x.size} entries`, allowed: `${s.n}, b's`, cause: 'the solve rule returns a tensor of another size than b' });
      }
      const bAfter = s.backend.toArray(b.tensor);
      if (b.host.some((v, i) => !Object.is(v, bAfter[i]))) {
        throw new CheckFailure({ compared: 'b before and after the registered solve rule', observed: 'b changed', allowed: 'b unchanged', cause: 'the solve rule writes into b: work in a copy' });
      }
      const xs = Float64Array.from(s.backend.toArray(x));
      const residual = distance(referenceMatVec(s.truth, xs, s.n), b.host);
      const allowed = s.entryTolerance * (norm(xs) + 1) + 64 * s.n * s.u * norm(b.host);
      requireAtMost(residual, allowed, {
        compared: `b against A x, for x = the solve rule registered for '${s.operator.kind}' (A: ${s.truthName})`,
        quantity: '||b - A x||',
        bound: "a backward-stable solve's residual, 64 n u (||A||_F ||x|| + ||b||)",
        cause: `the registered solve is not the inverse of the operator (relative residual ${num(residual / norm(b.host))}); dispatch trusts it as an exact inverse, for solve and as the 'auto' preconditioner${unlessApply(s)}`,
      });
    },
  },
  {
    name: 'its registered preconditioner rule gives a symmetric positive definite operator of its block shape',
    ownRules: true,
    run: (s) => {
      const rule = registered(s)?.preconditioner;
      if (!rule) return NOT_APPLICABLE;
      const m = rule(s.operator);
      if (m === null) return;
      const what = `the preconditioner rule registered for '${s.operator.kind}'`;
      if (!isLinearOperator(m) || blockSize(m) !== s.n || m.dtype !== s.operator.dtype) {
        throw new CheckFailure({
          compared: `${what}: its result against the operator's block`,
          observed: isLinearOperator(m) ? `${m.kind} of shape ${JSON.stringify(m.shape)}, ${m.dtype}` : `not an operator (${typeof m})`,
          allowed: `an operator of ${s.n} elements, ${s.operator.dtype}, or null`,
          cause: 'the preconditioner rule returns something PCG cannot apply to this block',
        });
      }
      const pm = matrixOfApply(m, s.backend);
      const pn = norm(pm);
      const tolerance = 64 * s.n * s.u * pn;
      requireAtMost(distance(pm, transposed(pm, s.n)), tolerance, {
        compared: `the matrix of ${what} against its transpose`,
        quantity: '||M - M^T||_F',
        bound: '64 n u ||M||_F',
        cause: 'the preconditioner is not symmetric; PCG needs M symmetric positive definite',
      });
      const { values } = referenceSymmetricEigen(symmetricPart(pm, s.n), s.n);
      if (values[0] > tolerance) return;
      throw new CheckFailure({
        compared: `the smallest eigenvalue of the matrix of ${what}`,
        observed: `lambda_min(M) = ${num(values[0])}`,
        allowed: `lambda_min(M) > ${num(tolerance)} (64 n u ||M||_F)`,
        cause: 'the preconditioner is not positive definite; PCG would report breakdown',
      });
    },
  },
  {
    name: 'add(op, D) through dispatch is A + D',
    run: (s) => {
      const d = Float64Array.from(randomArray(s.n, 8), (v) => 1.5 + v);
      const diagonalOp = new DiagonalOperator(s.backend.fromArray(d, s.operator.shape));
      const rule = dispatchRule('add', s.operator, diagonalOp);
      const sum = add(s.operator, diagonalOp);
      const expected = s.matrix.map((v, k) => (k % (s.n + 1) === 0 ? v + d[Math.floor(k / (s.n + 1))] : v));
      requireSameMatrix(s, matrixOfApply(sum, s.backend), expected, {
        compared: `the matrix of add(op, D) (dispatch rule '${rule}'), D a positive diagonal, against A + D`,
        observed: 'add(op, D)',
        expected: '(A + D)',
        cause: `the add rule '${rule}' builds another operator than A + D`,
      });
    },
  },
  {
    name: 'scale(op, alpha) through dispatch is alpha A',
    run: (s) => {
      const alpha = 1.5;
      const rule = dispatchRule('scale', s.operator, alpha);
      const scaled = scale(s.operator, alpha);
      requireSameMatrix(s, matrixOfApply(scaled, s.backend), s.matrix.map((v) => alpha * v), {
        compared: `the matrix of scale(op, 1.5) (dispatch rule '${rule}') against 1.5 A`,
        observed: 'scale(op, 1.5)',
        expected: '1.5 A',
        cause: `the scale rule '${rule}' builds another operator than alpha A`,
      });
    },
  },
  {
    name: 'works inside a Sum, and dispatch solves it like its matrix',
    run: (s) => {
      // A + c I with c lifting the smallest eigenvalue to 1: positive definite whatever A is.
      const { values } = referenceSymmetricEigen(symmetricPart(s.matrix, s.n), s.n);
      const c = Math.max(0, 1 - values[0]);
      const op = s.operator;
      const shifted = c > 0 ? new SumOperator([op, new ScaledOperator(c, new IdentityOperator(s.backend, op.shape))]) : op;
      const dense = s.matrix.map((v, k) => (k % (s.n + 1) === 0 ? v + c : v));
      const condition = (values[s.n - 1] + c) / (values[0] + c);
      const rtol = Math.max(1e-10, 16 * Math.sqrt(s.n) * s.u * condition);
      const b = vector(s, 9);
      const result = solve(shifted, b.tensor, { rtol });
      const what = c > 0 ? `A + ${num(c)} I (a Sum with A in it)` : 'A';
      if (result.status !== 'converged') {
        throw new CheckFailure({
          compared: `solve(${what}, b) by dispatch (method ${result.method})`,
          observed: `status '${result.status}': ${result.message}`,
          allowed: "status 'converged'",
          cause: 'dispatch could not solve a positive definite system built on this operator: see the other failing checks (apply must be symmetric, its registered rules must agree with it)',
        });
      }
      const expected = referenceSpdSolve(dense, b.host, s.n);
      requireAtMost(distance(s.backend.toArray(result.x), expected), 4 * condition * (rtol + 64 * s.n * s.u) * norm(expected), {
        compared: `x = solve(${what}, b) by dispatch (method ${result.method}) against a dense solve of apply's matrix`,
        quantity: '||x - x_dense||',
        bound: '4 kappa (rtol + 64 n u) ||x_dense||',
        cause: 'the solve converged to another answer than the matrix apply gives: a registered solve or diagonal rule disagrees with apply',
      });
    },
  },
];
