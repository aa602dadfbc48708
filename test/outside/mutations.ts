/**
 * The bugs the mutation test plants in the "Write your own operator" tutorial's kind
 * (packages/core/examples/your-operator), one at a time, each a text replacement in one file,
 * with the conformance check that must catch it and the cause its message must give.
 */
export interface Mutation {
  /** The bug, as the issue lists it. */
  readonly bug: string;
  readonly file: 'tridiagonal.ts' | 'tridiagonal.test.ts';
  /** Text that occurs exactly once in the file, and what replaces it. */
  readonly find: string;
  readonly replace: string;
  /** The name of the operator conformance check that must fail. */
  readonly check: string;
  /** What that check's message must say. */
  readonly message: RegExp;
  /** Checks that must still pass: those the kit used to blame for this bug instead. */
  readonly passes?: readonly string[];
}

export const MUTATIONS: readonly Mutation[] = [
  {
    bug: 'off-by-one in apply',
    file: 'tridiagonal.ts',
    find: 'be.copyRange(x, 0, s, 1, n - 1); // s_i = x_(i-1)',
    replace: 'be.copyRange(x, 1, s, 1, n - 1); // s_i = x_(i-1)',
    check: "apply gives the matrix of its parameters (the generator's matrix())",
    message: /likely cause: apply computes another matrix than its parameters describe: look for an index or a range off by one/,
  },
  {
    bug: 'wrong diagonal',
    file: 'tridiagonal.ts',
    find: 'return this.backend.fromArray(this.d, this.shape);',
    replace:
      'const ones = this.backend.fromArray(new Float64Array(this.shape[0]).fill(1), this.shape);\n    const rowSums = this.backend.zeros(this.shape);\n    this.apply(ones, rowSums); // diag(A) taken as A 1\n    return rowSums;',
    check: "diagonal() is the diagonal of the operator's matrix",
    message: /likely cause: the operator's diagonal\(\) method .* returns wrong values/,
  },
  {
    bug: 'wrong registered diagonal',
    file: 'tridiagonal.ts',
    find: "registerOperatorKind<Tridiagonal>('tridiagonal', {",
    replace:
      "registerOperatorKind<Tridiagonal>('tridiagonal', {\n  diagonal: (op) => op.backend.fromArray(Float64Array.from(op.d, (_, i) => op.d[(i + 1) % op.d.length] ?? 0), op.shape),",
    check: "its registered diagonal rule gives the diagonal of the operator's matrix",
    message: /likely cause: registerOperatorKind\('tridiagonal', \{ diagonal \}\) returns wrong values/,
  },
  {
    bug: 'allocation in apply',
    file: 'tridiagonal.ts',
    find: 'const s = this.scratch;',
    replace: 'const s = be.zeros(this.shape); // fresh scratch on every call',
    check: 'apply allocates no tensor after its first call',
    message: /observed: 1 tensor\(s\) allocated by one apply[\s\S]*likely cause: apply creates tensors on every call/,
  },
  {
    bug: 'adding into out',
    file: 'tridiagonal.ts',
    find: 'be.mul(this.diagonalValues, x, out); // out = d .* x',
    replace: 'be.mul(this.diagonalValues, x, s);\n    be.axpy(1, s, out); // out += d .* x',
    check: 'apply overwrites out: it neither adds into out nor reads it',
    message: /likely cause: apply adds into out instead of overwriting it/,
  },
  {
    bug: 'indefinite but tagged PSD',
    file: 'tridiagonal.test.ts',
    find: 'margin: eighths(1, 16)',
    replace: 'margin: eighths(-16, 16)',
    check: 'is positive semi-definite when its tags say psd',
    message: /likely cause: the operator is indefinite but tagged psd/,
  },
  {
    bug: 'asymmetric apply',
    file: 'tridiagonal.ts',
    find: 'be.mul(this.lower, s, s);',
    replace: 'be.mul(this.upper, s, s);',
    check: 'apply is symmetric (A = A^T), as CG needs',
    message: /likely cause: apply is not symmetric/,
    passes: ['apply is linear: A (a x + b y) = a A x + b A y', "toDense() is the operator's matrix"],
  },
  {
    bug: 'wrong toDense',
    file: 'tridiagonal.ts',
    find: 'm[(i + 1) * n + i] = this.e[i];',
    replace: 'm[(i + 1) * n + i + 1] = this.e[i];',
    check: "toDense() is the operator's matrix",
    message: /likely cause: toDense builds another matrix than its parameters describe/,
    passes: ['apply is linear: A (a x + b y) = a A x + b A y', 'apply is symmetric (A = A^T), as CG needs'],
  },
  {
    bug: 'wrong registered solve',
    file: 'tridiagonal.ts',
    find: 'y[i] = i === 0 ? rhs[0] / pivot : (rhs[i] - e[i - 1] * y[i - 1]) / pivot;',
    replace: 'y[i] = i === 0 ? rhs[0] / pivot : (rhs[i] - e[i - 1] * y[i - 1]) / d[i];',
    check: 'its registered solve rule solves A x = b',
    message: /likely cause: the registered solve is not the inverse of the operator/,
  },
];
