/**
 * The CPU backend's WebAssembly DARE kernel (hostVectors().dare, which the streaming merge
 * runs) against the method's own draw, applyDareDrop (methods/dare-mask.ts): the same entries
 * dropped and the survivors scaled the same, bit for bit. It lives here, not in backend-cpu,
 * because backend-cpu cannot import @mats/merge; a copy of the draw there would keep agreeing
 * with the kernel after dare-mask.ts changed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomArray } from '@mats/core/testing';
import { hostVectors } from '@mats/backend-cpu';
import { applyDareDrop } from '../src/methods/dare-mask.js';

describe("the WebAssembly DARE kernel draws what dare-mask.ts draws", () => {
  const vectors = hostVectors();
  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: the same drops, the same scaling (fast-check)`, () => {
      expect(vectors, 'this machine runs the WebAssembly kernels').toBeDefined();
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 100000 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.integer(), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.boolean(), (n, offset, key, p, rescale) => {
          const x = vectors!.allocate(dtype, n)!;
          const base = vectors!.allocate(dtype, n)!;
          const tau = vectors!.allocate(dtype, n)!;
          x.set(randomArray(n, key));
          base.set(randomArray(n, key + 1));
          const dropped = vectors!.dare(tau, x, base, key >>> 0, offset, p, rescale ? 1 / (1 - p) : 1);
          const expected = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
          for (let j = 0; j < n; j++) expected[j] = x[j] - base[j];
          expect(dropped).toBe(applyDareDrop(expected, key >>> 0, offset, p, rescale));
          for (let j = 0; j < n; j++) if (!Object.is(tau[j], expected[j])) throw new Error(`n=${n} [${j}]: ${tau[j]} vs ${expected[j]}`);
          for (const a of [x, base, tau]) vectors!.release(a);
        }),
        { numRuns: 12 },
      );
    });
  }
});
