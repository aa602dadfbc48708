/**
 * The operator conformance suite: what any operator, yours included, must satisfy to work
 * with dispatch and PCG (the checks are in conformance-checks.ts). It runs on one fixed
 * operator, or, as generated and shrunk properties, over your kinds (alone, scaled, plus a
 * diagonal, in a block-diagonal) or any arbitrary of generated operators.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { Backend, DType } from '../backend/backend.js';
import { describeOperator, type LinearOperator } from '../operators/linear-operator.js';
import { describeGenerated, spdOperator, type GeneratedOperator } from './arbitraries.js';
import { CONFORMANCE_CHECKS, subjectOf, type ConformanceCheck } from './conformance-checks.js';
import type { KindComposition, OperatorKindGenerator } from './kind-arbitraries.js';
import { NOT_APPLICABLE, runOnce, runProperty } from './property-runner.js';

export interface OperatorConformanceOptions {
  /** Creates a backend of the given dtype. */
  create(dtype: DType): Backend;
  dtypes: readonly DType[];
  /** One fixed operator under test, built on a backend (small: the suite builds its n x n matrix). */
  operator?: ((backend: Backend) => LinearOperator) | undefined;
  /**
   * Kinds of your own, drawn from their parameters' arbitraries (generated, shrunk) in every
   * composition of `compositions`; a kind's matrix() is also checked against apply.
   */
  kinds?: readonly OperatorKindGenerator[] | undefined;
  /** The compositions kinds are drawn in (default all). */
  compositions?: readonly KindComposition[] | undefined;
  /** Any arbitrary of generated operators, e.g. spdOperator(backend, { structures: [...] }). */
  operators?: ((backend: Backend) => fc.Arbitrary<GeneratedOperator>) | undefined;
  /** Runs per check over kinds or operators (default 25). */
  numRuns?: number | undefined;
  /** More fast-check parameters (seed, path, ...), e.g. to rerun a reported case. */
  fastCheck?: fc.Parameters<[GeneratedOperator]> | undefined;
}

export function describeOperatorConformance(label: string, options: OperatorConformanceOptions): void {
  const sources = [options.operator, options.kinds, options.operators].filter((s) => s !== undefined).length;
  if (sources !== 1) {
    throw new TypeError(`describeOperatorConformance('${label}'): give exactly one of operator, kinds and operators (got ${sources})`);
  }
  for (const dtype of options.dtypes) {
    describe(`${label} ${dtype} operator conformance`, () => {
      const backend = options.create(dtype);
      const run = runner(backend, options);
      for (const check of CONFORMANCE_CHECKS) {
        it(check.name, (context) => {
          if (run(check) === NOT_APPLICABLE) context.skip(`does not apply to ${label}`);
        });
      }
    });
  }
}

/** How one check runs: once on the fixed operator, or as a property over the arbitrary. */
function runner(backend: Backend, options: OperatorConformanceOptions): (check: ConformanceCheck) => unknown {
  if (options.operator) {
    const make = options.operator;
    let op: LinearOperator | undefined;
    return (check) =>
      runOnce(check.name, backend, (b) => check.run(subjectOf((op ??= make(b)), b)), () => (op ? `${describeOperator(op)} ${op.dtype}` : 'the operator (its construction failed)'));
  }
  const arbitrary = options.operators
    ? options.operators(backend)
    : spdOperator(backend, { kinds: options.kinds, compositions: options.compositions });
  // A kind's own rules are reached only on the kind itself: draw it alone for those checks.
  const alone = options.kinds ? spdOperator(backend, { kinds: options.kinds, compositions: ['alone'] }) : arbitrary;
  const numRuns = options.numRuns ?? 25;
  return (check) =>
    runProperty(check.name, check.ownRules ? alone : arbitrary, (g) => check.run(subjectOf(g.operator, backend, g.fromReference ? g.dense : undefined)), {
      numRuns,
      describe: describeGenerated,
      parameters: options.fastCheck,
    });
}
