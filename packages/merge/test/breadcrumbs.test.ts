/**
 * breadcrumbs (Model Breadcrumbs) through the real pipeline, against a reference written here
 * from METHODS.md (mergekit's documentation of the mask), and its METHODS.md invariant.
 * Through mergekit configs it is checked in mergekit-config.test.ts too.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expectTensorsClose, floatsOf, mergeInMemory, mergeProblemArbitrary } from '@mats/merge/testing';

type Arrays = Map<string, Float64Array>;

const setupArb = mergeProblemArbitrary({ maxModels: 3, steps: 16 });
const tausOf = (base: Arrays, model: Arrays) => new Map([...model].map(([n, x]) => [n, x.map((v, j) => v - base.get(n)![j])]));
const RUNS = { numRuns: 10 };

/** The breadcrumbs mask from METHODS.md: rank |tau| (ties by index), drop the top and the bottom. */
function referenceBreadcrumbs(tau: Float64Array, density: number, gamma: number): Float64Array {
  const n = tau.length;
  const kept = Math.floor(density * n);
  // The outliers removed: gamma's share, but never so many that fewer than `kept` could stay.
  const outliers = Math.min(Math.floor(gamma * n), n - kept);
  const byMagnitude = [...tau.keys()].sort((a, b) => Math.abs(tau[b]) - Math.abs(tau[a]) || a - b);
  const keep = new Set(byMagnitude.slice(outliers, outliers + kept));
  return tau.map((v, j) => (keep.has(j) ? v : 0));
}

describe('breadcrumbs', () => {
  it('is base + lambda * sum_i w_i mask_i(tau_i), each model with its own density and gamma', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, fc.array(fc.record({ density: fc.constantFrom(0.3, 0.5, 0.9, 1), gamma: fc.constantFrom(0, 0.1, 0.25) }), { minLength: 3, maxLength: 3 }), async ({ base, models, weights }, knobs) => {
        const modelKnobs = models.map((_, i) => knobs[i]);
        const { tensors } = await mergeInMemory({ method: 'breadcrumbs', parameters: { lambda: 0.7 }, base, models, weights, modelKnobs });
        const b = floatsOf(base);
        const expected: Arrays = new Map([...b].map(([name, x]) => [name, x.map((v) => v)]));
        models.forEach((m, i) => {
          for (const [name, tau] of tausOf(b, floatsOf(m))) {
            const masked = referenceBreadcrumbs(tau, knobs[i].density, knobs[i].gamma);
            const out = expected.get(name)!;
            masked.forEach((t, j) => (out[j] += 0.7 * weights[i] * t));
          }
        });
        expectTensorsClose(tensors, expected, 1e-6);
      }),
      RUNS,
    );
  });

  it('with density 1 equals task arithmetic', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async ({ base, models, weights }) => {
        const crumbs = await mergeInMemory({ method: 'breadcrumbs', parameters: { density: 1, gamma: 0.2, lambda: 0.5 }, base, models, weights });
        const ta = await mergeInMemory({ method: 'task_arithmetic', parameters: { lambda: 0.5 }, base, models, weights });
        expectTensorsClose(crumbs.tensors, ta.tensors, 1e-6);
      }),
      RUNS,
    );
  });
});

