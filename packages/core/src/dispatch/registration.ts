/**
 * Registering rules for user kinds, and asking which rule a call reaches. Kept apart from the
 * registry so that the public type declarations never mention typed-function's types.
 */
import { isLinearOperator, type LinearOperator } from '../operators/linear-operator.js';
import type { OperatorRules } from './operator-rules.js';
import { BUILT_IN_KINDS } from './operator-types.js';
import { dispatch, setUserKind } from './registry.js';

/** The typed functions dispatch offers. */
export type DispatchFunction = 'add' | 'scale' | 'diagonal' | 'solve' | 'preconditioner';

/**
 * Registers dispatch rules for operators whose kind is `kind`: its diagonal (used by Jacobi,
 * also inside Sums), a closed-form solve, a preconditioner. Registering a kind again replaces
 * its rules. Built-in kinds cannot be overridden.
 */
export function registerOperatorKind<T extends LinearOperator>(kind: string, rules: OperatorRules<T>): void {
  if (typeof kind !== 'string' || !/^[A-Za-z0-9_.:-]+$/.test(kind)) {
    throw new TypeError(`registerOperatorKind: kind must be a non-empty string of letters, digits, '_', '.', ':' or '-', got ${JSON.stringify(kind)}`);
  }
  if (BUILT_IN_KINDS.has(kind)) throw new TypeError(`registerOperatorKind: '${kind}' is a built-in kind; choose another name`);
  for (const key of Object.keys(rules)) {
    if (!['diagonal', 'solve', 'preconditioner'].includes(key)) {
      throw new TypeError(`registerOperatorKind: unknown rule '${key}' for kind '${kind}'; rules are diagonal, solve and preconditioner`);
    }
  }
  setUserKind(kind, { ...rules });
}

/** Removes the rules registered for a kind (its operators fall back to the generic rules). */
export function unregisterOperatorKind(kind: string): void {
  setUserKind(kind, null);
}

/**
 * The name of the rule a dispatch call with these arguments reaches, without running it (for
 * tests and logs). The arguments are those of the call itself:
 *
 * - `dispatchRule('add', a, b)`, `dispatchRule('scale', op, alpha)`, `dispatchRule('diagonal', op)`;
 * - `dispatchRule('solve', op, b, options?)`: `'two-kroneckers'`, `'registered:<kind>'`, ...,
 *   or `'pcg'` (also for `reference: true` and `method: 'pcg'`, which skip the closed forms);
 * - `dispatchRule('preconditioner', op, choice?)`: for `'auto'` (the default) the rule
 *   dispatch picks for op (`'kronecker-approximation'`, `'registered:<kind>'`, ...); any other
 *   name is no dispatch and comes back as given (`'jacobi'`); an operator gives `'operator'`.
 *
 * Throws a TypeError when no rule takes these arguments (e.g. `op` is not an operator).
 */
export function dispatchRule(fn: DispatchFunction, ...args: unknown[]): string {
  if (fn === 'solve') {
    const [op, b, options = {}] = args;
    const o = options as { reference?: unknown; method?: unknown };
    if (o.reference || o.method === 'pcg') return 'pcg';
    args = [op, b, options];
  }
  if (fn === 'preconditioner') {
    const [op, choice = 'auto'] = args;
    if (isLinearOperator(choice)) return 'operator';
    if (choice !== 'auto') return String(choice);
    args = [op];
  }
  const d = dispatch();
  const typedFn = d[fn];
  const signature = d.typed.resolve(typedFn, args);
  if (!signature) throw new TypeError(`dispatchRule: no ${fn} rule matches these arguments`);
  return d.ruleNames.get(typedFn)!.get(signature.name)!;
}
