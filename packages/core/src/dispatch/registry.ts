/**
 * The dispatch instance: an isolated typed-function (typed.create(), so nothing leaks into or
 * from other users of typed-function) holding add, scale, diagonal, solve and preconditioner.
 * It is built on first use and rebuilt when a user registers a kind (typed-functions are
 * immutable, and a new type must be inserted before the generic one).
 */
import typedFunction, { type TypedFunction, type Typed } from 'typed-function';
import type { Tensor } from '../backend/backend.js';
import { isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import { ADD_RULES } from './add-rules.js';
import { diagonalRules } from './diagonal-rules.js';
import { BUILT_IN_TYPES, GENERIC_TYPE, userTypeName } from './operator-types.js';
import { preconditionerRules } from './preconditioner-rules.js';
import type { Preconditioner } from './preconditioners.js';
import { resolvePreconditioner, type ResolvePreconditioner } from './resolve-preconditioner.js';
import type { Rule } from './rule.js';
import { scaleRules } from './scale-rules.js';
import { solveRules } from './solve-rules.js';
import type { OperatorRules } from './operator-rules.js';
import { userRules } from './user-kinds.js';

interface Dispatch {
  readonly typed: Typed;
  readonly add: TypedFunction;
  readonly scale: TypedFunction;
  readonly diagonal: TypedFunction;
  readonly solve: TypedFunction;
  readonly preconditioner: TypedFunction;
  /** A PreconditionerChoice resolved with this instance's rules (what pcg and solve use). */
  readonly resolvePreconditioner: ResolvePreconditioner;
  /** Per typed function: signature -> rule name. */
  readonly ruleNames: Map<TypedFunction, Map<string, string>>;
}

const userKinds = new Map<string, OperatorRules<any>>();
let current: Dispatch | null = null;

/** Sets (rules) or removes (null) the rules of a user kind; dispatch is rebuilt on next use. */
export function setUserKind(kind: string, rules: OperatorRules<any> | null): boolean {
  const had = userKinds.has(kind);
  if (rules) userKinds.set(kind, rules);
  else userKinds.delete(kind);
  current = null;
  return had;
}

/** The rules registered for a kind, as given (the conformance suite checks each one), or undefined. */
export function userKindRules(kind: string): Readonly<OperatorRules<any>> | undefined {
  return userKinds.get(kind);
}

/** The current dispatch instance (built on first use). */
export function dispatch(): Dispatch {
  return (current ??= build());
}

function build(): Dispatch {
  const typed = typedFunction.create();
  typed.addTypes([...BUILT_IN_TYPES, ...[...userKinds.keys()].map((kind) => ({ name: userTypeName(kind), test: (x: unknown) => isLinearOperator(x) && x.kind === kind })), GENERIC_TYPE]);
  const user = [...userKinds].map(([kind, rules]) => userRules(kind, rules));
  const userSolveRules = (resolve: ResolvePreconditioner) => user.flatMap((u) => u.solve(resolve));
  const ruleNames = new Map<TypedFunction, Map<string, string>>();
  const make = (name: string, rules: Rule[]) => {
    const fn = typed(name, Object.fromEntries(rules.map((r) => [r.signature, r.fn])));
    ruleNames.set(fn, new Map(rules.map((r) => [r.signature, r.rule])));
    return fn;
  };
  // User rules go first in each table: their types are more specific than 'LinearOperator',
  // and typed-function orders signatures by type, so only the table needs them.
  const diagonal = make('diagonal', [...user.flatMap((u) => u.diagonal), ...diagonalRules(typed)]);
  const diagonalOf = (op: LinearOperator) => diagonal(op) as Tensor;
  const preconditioner = make('preconditioner', [...user.flatMap((u) => u.preconditioner), ...preconditionerRules(typed, diagonalOf)]);
  const rules = { diagonal: diagonalOf, auto: (op: LinearOperator) => preconditioner(op) as Preconditioner };
  const resolve: ResolvePreconditioner = (caller, A, choice) => resolvePreconditioner(caller, A, choice, rules);
  return {
    typed,
    add: make('add', [...ADD_RULES]),
    scale: make('scale', scaleRules(typed)),
    diagonal,
    solve: make('solve', [...userSolveRules(resolve), ...solveRules(typed, resolve)]),
    preconditioner,
    resolvePreconditioner: resolve,
    ruleNames,
  };
}

/** Checks that a dispatch argument is an operator, with an error naming what it got. */
export function requireOperator(fn: string, what: string, x: unknown): asserts x is LinearOperator {
  if (!isLinearOperator(x)) {
    const got = x === null ? 'null' : typeof x === 'object' ? `an object with keys ${Object.keys(x as object).join(', ')}` : typeof x;
    throw new TypeError(`${fn}: ${what} must be an operator (an object with kind, shape, dtype and apply), got ${got}`);
  }
}
