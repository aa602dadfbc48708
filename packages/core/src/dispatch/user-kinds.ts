/**
 * Rules a user registers for an operator kind of their own: its diagonal, a closed-form solve,
 * a preconditioner. Dispatch then reaches them wherever the operator appears: alone, inside a
 * Sum (the diagonal rule feeds Jacobi), a Scaled or a BlockDiagonal.
 */
import type { Tensor } from '../backend/backend.js';
import { checkApplyOperands, type LinearOperator, type OperatorTags } from '../operators/linear-operator.js';
import { closedFormRule } from './solve-rules.js';
import type { ExactInverse } from './exact-inverses.js';
import { exactPreconditioner, type Preconditioner } from './preconditioners.js';
import type { Rule } from './rule.js';
import type { OperatorRules } from './operator-rules.js';
import { userTypeName } from './operator-types.js';
import type { ResolvePreconditioner } from './resolve-preconditioner.js';

/** A user's solve rule seen as an exact inverse operator (so it also serves as a preconditioner). */
class RegisteredSolveInverse implements LinearOperator {
  readonly kind: string;
  readonly shape;
  readonly dtype;
  readonly backend;
  readonly tags: OperatorTags;

  constructor(
    private readonly op: LinearOperator,
    private readonly solveRule: (op: LinearOperator, b: Tensor) => Tensor,
  ) {
    this.kind = `${op.kind}-inverse`;
    this.shape = op.shape;
    this.dtype = op.dtype;
    this.backend = op.backend;
    this.tags = op.tags ?? { symmetric: false, psd: false };
  }

  apply(b: Tensor, out: Tensor): void {
    checkApplyOperands(this, b, out);
    const x = this.solveRule(this.op, b);
    out.backend.copy(x, out);
    x.backend.dispose(x);
  }
}

let registrations = 0;

/**
 * The typed-function rules of a user kind. A solve rule without a preconditioner rule also
 * serves as the 'auto' preconditioner, described as 'registered solve (kind)': it is meant to
 * be an exact inverse, but nothing has verified that it is one.
 */
export function userRules(
  kind: string,
  rules: OperatorRules<any>,
): { diagonal: Rule[]; solve: (resolve: ResolvePreconditioner) => Rule[]; preconditioner: Rule[] } {
  const type = userTypeName(kind);
  const name = `registered:${kind}`;
  // The inverse is cached beside each operator under a key of this registration: registering
  // the kind again must not leave an operator solved by the rules it replaced.
  const cacheKey = `exact:${name}:${++registrations}`;
  const inverse = (op: LinearOperator): ExactInverse => ({ operator: new RegisteredSolveInverse(op, rules.solve!), registered: true });
  return {
    diagonal: rules.diagonal ? [{ signature: type, rule: name, fn: rules.diagonal }] : [],
    solve: (resolve) => (rules.solve ? [closedFormRule(type, name, inverse, resolve, cacheKey)] : []),
    preconditioner: !rules.preconditioner && rules.solve
      ? [{ signature: type, rule: name, fn: (op: LinearOperator) => exactPreconditioner(op, name, () => inverse(op), cacheKey) }]
      : rules.preconditioner
      ? [
          {
            signature: type,
            rule: name,
            fn: (op: LinearOperator): Preconditioner => {
              const operator = rules.preconditioner!(op);
              return { operator, description: operator ? `registered (${kind})` : 'none' };
            },
          },
        ]
      : [],
  };
}

