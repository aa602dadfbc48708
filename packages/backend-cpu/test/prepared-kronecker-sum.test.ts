/**
 * The fused K-FAC sum matvec (backend.prepareKroneckerSum) against the plain gemm path and a
 * float64 reference: random shapes (rectangular blocks, ragged edges, one to several row
 * blocks per thread), 1 to 9 models, both dtypes, float32 products on a float64 backend
 * (mixed precision), one and several threads; and its life cycle through core's SumOperator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KroneckerOperator, sumOf, type SumOperator, type Tensor } from '@mats/core';
import { countAllocations, randomArray, randomSpd, unitRoundoff } from '@mats/core/testing';
import { createCpuBackend, kernelVariantAvailability, type CpuBackendOptions } from '../src/index.js';

/** sum_i G_i X A_i in float64, and sum_i |G_i| |X| |A_i| for the error bound. */
function reference(g: Float64Array[], a: Float64Array[], x: Float64Array, m: number, n: number): { value: Float64Array; magnitude: Float64Array } {
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < g.length; i++) {
    const t = new Float64Array(m * n);
    const ta = new Float64Array(m * n);
    for (let r = 0; r < m; r++) {
      for (let p = 0; p < m; p++) {
        const gv = g[i][r * m + p];
        for (let c = 0; c < n; c++) {
          t[r * n + c] += gv * x[p * n + c];
          ta[r * n + c] += Math.abs(gv * x[p * n + c]);
        }
      }
    }
    for (let r = 0; r < m; r++) {
      for (let p = 0; p < n; p++) {
        const tv = t[r * n + p];
        const tav = ta[r * n + p];
        for (let c = 0; c < n; c++) {
          value[r * n + c] += tv * a[i][p * n + c];
          magnitude[r * n + c] += tav * Math.abs(a[i][p * n + c]);
        }
      }
    }
  }
  return { value, magnitude };
}

const variants: [string, CpuBackendOptions][] = [
  ['wasm-simd', { kernels: 'wasm-simd' }],
  ['wasm-simd-threads (2)', { kernels: 'wasm-simd-threads', threads: 2 }],
  ['wasm-simd-threads (3)', { kernels: 'wasm-simd-threads', threads: 3 }],
];
if (kernelVariantAvailability('blas').available) variants.push(['blas', { kernels: 'blas' }]);

describe('prepareKroneckerSum (fused K-FAC sum matvec)', () => {
  for (const [label, options] of variants) {
    for (const dtype of ['float64', 'float32'] as const) {
      for (const precision of dtype === 'float64' ? (['float64', 'float32'] as const) : (['float32'] as const)) {
        it(`${label}, ${dtype} tensors, ${precision} products: equals sum_i G_i X A_i (fast-check)`, async () => {
          const backend = createCpuBackend(dtype, options);
          await backend.warmUp();
          const u = unitRoundoff(precision);
          fc.assert(
            fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (m, n, models, seed) => {
              const g = Array.from({ length: models }, (_, i) => randomSpd(m, seed + 3 * i));
              const a = Array.from({ length: models }, (_, i) => randomSpd(n, seed + 3 * i + 1));
              const xs = randomArray(m * n, seed - 1);
              const gt = g.map((v) => backend.fromArray(v, [m, m]));
              const at = a.map((v) => backend.fromArray(v, [n, n]));
              const x = backend.fromArray(xs, [m, n]);
              const y = backend.zeros([m, n]);
              const prepared = backend.prepareKroneckerSum(gt, at, { precision });
              expect(prepared).toBeDefined();
              prepared!.apply(x, y);
              prepared!.apply(x, y); // applying twice gives the same (buffers are reused, not accumulated)
              const got = backend.toArray(y);
              const ref = reference(g, a, Float64Array.from(backend.toArray(x)), m, n);
              for (let i = 0; i < m * n; i++) {
                const bound = 2 * (m + n + models + 2) * u * ref.magnitude[i] + 4 * unitRoundoff(dtype) * Math.abs(ref.value[i]);
                if (!(Math.abs(got[i] - ref.value[i]) <= bound)) {
                  throw new Error(`m=${m} n=${n} models=${models}: y[${i}] = ${got[i]}, expected ${ref.value[i]} (bound ${bound})`);
                }
              }
              prepared!.dispose();
              expect(() => prepared!.apply(x, y)).toThrow(/after dispose/);
              for (const t of [...gt, ...at, x, y]) backend.dispose(t);
            }),
            { numRuns: 10 },
          );
        });
      }
    }
  }

  it('declines where it cannot help: the typescript variant, non-square factors', () => {
    const ts = createCpuBackend('float64', { kernels: 'typescript' });
    const f = ts.fromArray(randomSpd(4, 1), [4, 4]);
    expect(ts.prepareKroneckerSum([f], [f])).toBeUndefined();
    const wasm = createCpuBackend('float64', { kernels: 'wasm-simd' });
    const rect = wasm.fromArray(randomArray(12, 1), [3, 4]);
    expect(wasm.prepareKroneckerSum([rect], [rect])).toBeUndefined();
  });

  it('names a wrong shape of x', () => {
    const backend = createCpuBackend('float64', { kernels: 'wasm-simd' });
    const f = backend.fromArray(randomSpd(4, 1), [4, 4]);
    const prepared = backend.prepareKroneckerSum([f], [f])!;
    expect(() => prepared.apply(backend.zeros([4, 3]), backend.zeros([4, 4]))).toThrow(/\[4, 4\]/);
    prepared.dispose();
  });

  it("runs a Sum of Kroneckers' apply, allocates nothing per apply and is released with the sum", () => {
    const backend = createCpuBackend('float64');
    const [m, n] = [40, 24];
    const parts = [0, 1, 2].map((i) => new KroneckerOperator(backend.fromArray(randomSpd(m, i), [m, m]), backend.fromArray(randomSpd(n, 10 + i), [n, n]), { psd: true }));
    const sum = sumOf(parts) as SumOperator;
    const x = backend.fromArray(randomArray(m * n, 5), [m, n]);
    const y = backend.zeros([m, n]);
    const expected = backend.zeros([m, n]);
    const term = backend.zeros([m, n]);
    for (const p of parts) {
      p.apply(x, term);
      backend.axpy(1, term, expected);
    }
    let calls = 0;
    const original = backend.prepareKroneckerSum.bind(backend);
    backend.prepareKroneckerSum = (g: readonly Tensor[], a: readonly Tensor[], o?: { precision?: 'float64' | 'float32' }) => {
      calls++;
      return original(g, a, o);
    };
    sum.apply(x, y);
    expect(countAllocations(backend, () => sum.apply(x, y))).toBe(0);
    expect(calls).toBe(1);
    const got = backend.toArray(y);
    const want = backend.toArray(expected);
    for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-10 * (1 + Math.abs(want[i])));
    sum.dispose();
    sum.apply(x, y); // prepared again after release
    expect(calls).toBe(2);
  });
});
