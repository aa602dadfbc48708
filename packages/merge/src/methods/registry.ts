/** Every merging method by config name. A new method: one file, one line here. */
import { average } from './average.js';
import { breadcrumbs } from './breadcrumbs.js';
import { dare } from './dare.js';
import { fisher } from './fisher.js';
import { mats } from './mats.js';
import type { MergeMethod } from './method.js';
import { regmean } from './regmean.js';
import { taskArithmetic } from './task-arithmetic.js';
import { ties } from './ties.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethod = MergeMethod<any, any>;

const METHODS: AnyMethod[] = [average, taskArithmetic, ties, dare, breadcrumbs, fisher, regmean, mats];

export function methodNames(): string[] {
  return METHODS.map((m) => m.name);
}

export function findMethod(name: string): AnyMethod | undefined {
  return METHODS.find((m) => m.name === name);
}

export function allMethods(): readonly AnyMethod[] {
  return METHODS;
}

/**
 * Adds a method defined outside this package (a library user's own, or a test's). Names are
 * unique: registering a name twice throws.
 */
export function registerMethod(method: AnyMethod): void {
  if (findMethod(method.name) !== undefined) throw new Error(`a method named ${method.name} is already registered`);
  METHODS.push(method);
}
