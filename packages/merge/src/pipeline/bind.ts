/**
 * Binding a method: its parameters validated by its schema, and the methods it calls (nested())
 * bound the same way, recursively. Every problem in the tree is collected, not just the first.
 */
import { formatIssues } from '../config/zod-issues.js';
import type { MethodCall, StatisticNeed, TensorDescriptor } from '../methods/method.js';
import { findMethod, methodNames, type AnyMethod } from '../methods/registry.js';
import { didYouMean } from '../util/did-you-mean.js';

const MAX_NESTING = 4;

export interface MethodBinding {
  readonly method: AnyMethod;
  /** Validated parameters, defaults filled in. */
  readonly parameters: unknown;
  /** Where in the config these parameters come from, e.g. "parameters" or "parameters.init". */
  readonly path: string;
  readonly nested: Readonly<Record<string, MethodBinding>>;
}

/** Binds method `name` with raw parameters; pushes problems and returns undefined on failure. */
export function bindMethod(call: MethodCall, path: string, problems: string[], depth = 0): MethodBinding | undefined {
  const method = findMethod(call.method);
  if (method === undefined) {
    problems.push(`${path}: unknown method '${call.method}'${didYouMean(call.method, methodNames())} (methods: ${methodNames().join(', ')})`);
    return undefined;
  }
  const parsed = method.parameters.safeParse(call.parameters ?? {}, { reportInput: true });
  if (!parsed.success) {
    problems.push(...formatIssues(parsed.error.issues, method.parameters, path).map((p) => `${p} (method ${method.name})`));
    return undefined;
  }
  const nested: Record<string, MethodBinding> = {};
  const calls = method.nested?.(parsed.data) ?? {};
  if (Object.keys(calls).length > 0 && depth >= MAX_NESTING) {
    problems.push(`${path}: methods nested more than ${MAX_NESTING} deep (a method that calls itself?)`);
    return undefined;
  }
  let ok = true;
  for (const [key, c] of Object.entries(calls)) {
    const bound = bindMethod(c, `${path}.${key}`, problems, depth + 1);
    if (bound === undefined) ok = false;
    else nested[key] = bound;
  }
  return ok ? { method, parameters: parsed.data, path, nested } : undefined;
}

/** Every binding in the tree, nested ones before the methods that call them. */
export function bindingsInOrder(root: MethodBinding): MethodBinding[] {
  const out: MethodBinding[] = [];
  const visit = (b: MethodBinding) => {
    for (const n of Object.values(b.nested)) visit(n);
    out.push(b);
  };
  visit(root);
  return out;
}

export function requiresBase(root: MethodBinding): boolean {
  return bindingsInOrder(root).some((b) => b.method.requiresBase(b.parameters));
}

/** Elementwise only if every method in the tree is. */
export function isElementwise(root: MethodBinding): boolean {
  return bindingsInOrder(root).every((b) => b.method.elementwise(b.parameters));
}

/** The union of the statistics every method in the tree needs for a tensor ('required' wins). */
export function statisticNeeds(root: MethodBinding, tensor: TensorDescriptor): StatisticNeed[] {
  const byKind = new Map<string, StatisticNeed>();
  for (const b of bindingsInOrder(root)) {
    for (const need of b.method.statistics?.(tensor, b.parameters) ?? []) {
      const prior = byKind.get(need.kind);
      if (prior === undefined || (prior.presence === 'optional' && need.presence === 'required')) byKind.set(need.kind, need);
    }
  }
  return [...byKind.values()];
}

/** Working bytes of the whole tree for a job (nested calls add up). */
export function workingBytes(root: MethodBinding, length: number, modelCount: number, precisionBytes = 4, statisticElements = 0): number {
  return bindingsInOrder(root).reduce((s, b) => s + (b.method.workingBytes?.(length, modelCount, b.parameters, precisionBytes, statisticElements) ?? 16 * length), 0);
}
