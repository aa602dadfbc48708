/**
 * The level-1 kernels on tensors in the kernel memory, at sizes the conformance suite does not
 * reach (several claimed blocks, ragged tails, threads), against the TypeScript kernels; and
 * the streaming kernels the merge uses (task arithmetic, DARE's drop), bit for bit against
 * the TypeScript loops they replace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { randomArray, unitRoundoff } from '@mats/core/testing';
import { createCpuBackend, hostVectors } from '../src/index.js';

const sizes = fc.oneof(fc.integer({ min: 16384, max: 70000 }), fc.integer({ min: 131072, max: 300000 }));

describe('level-1 operations on kernel-memory tensors', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: agree with the TypeScript kernels on 1, 2 and 3 threads (fast-check)`, async () => {
      const plain = createCpuBackend(dtype, { kernels: 'typescript' });
      const wasm = [1, 2, 3].map((threads) => createCpuBackend(dtype, threads === 1 ? { kernels: 'wasm-simd' } : { kernels: 'wasm-simd-threads', threads }));
      await wasm[2].warmUp();
      const u = unitRoundoff(dtype);
      fc.assert(
        fc.property(sizes, fc.integer(), fc.double({ min: -3, max: 3, noNaN: true }), (n, seed, alpha) => {
          const xs = randomArray(n, seed);
          const ys = randomArray(n, seed + 1).map((v) => v + (v >= 0 ? 0.5 : -0.5));
          const dots: number[] = [];
          let reference: Float64Array | Float32Array = new Float64Array(0);
          let referenceNorm = 0;
          for (const backend of [plain, ...wasm]) {
            const x = backend.fromArray(xs, [n]);
            const y = backend.fromArray(ys, [n]);
            const out = backend.zeros([n]);
            dots.push(backend.dot(x, y));
            backend.axpy(alpha, x, y);
            backend.axpby(0.5, x, -2, y);
            backend.scal(alpha, y);
            backend.mul(x, y, out);
            backend.div(out, x, out);
            backend.add(out, x, out);
            const norm = backend.nrm2(out);
            const result = backend.toArray(out);
            if (backend === plain) {
              reference = result;
              referenceNorm = norm;
            } else {
              // Elementwise: the same f64 arithmetic rounded once, except div (x y / x) which may
              // differ in the last bit of the quotient.
              for (let i = 0; i < n; i++) {
                if (!(Math.abs(result[i] - reference[i]) <= 8 * u * (Math.abs(reference[i]) + Math.abs(xs[i])))) {
                  throw new Error(`${backend.mode}/${backend.threads} n=${n}: out[${i}] = ${result[i]}, expected ${reference[i]}`);
                }
              }
              expect(Math.abs(norm - referenceNorm)).toBeLessThanOrEqual(4 * (n + 2) * 2 ** -53 * referenceNorm);
            }
          }
          // Reductions add block partials in block order: the same bits on any thread count.
          expect(dots[2]).toBe(dots[1]);
          expect(dots[3]).toBe(dots[1]);
          let magnitude = 0;
          for (let i = 0; i < n; i++) magnitude += Math.abs(xs[i] * ys[i]);
          expect(Math.abs(dots[1] - dots[0])).toBeLessThanOrEqual(4 * (n + 2) * 2 ** -53 * magnitude);
        }),
        { numRuns: 6 },
      );
    });
  }

  it('keeps nrm2 safe from overflow and NaN on kernel-memory tensors', () => {
    const backend = createCpuBackend('float64', { kernels: 'wasm-simd' });
    const n = 40000;
    const big = backend.fromArray(new Float64Array(n).fill(1e300), [n]);
    expect(backend.nrm2(big) / (1e300 * Math.sqrt(n))).toBeCloseTo(1, 12);
    const values = new Float64Array(n).fill(1);
    values[33333] = Number.NaN;
    expect(backend.nrm2(backend.fromArray(values, [n]))).toBeNaN();
  });

  it('returns a tensor\'s kernel memory on dispose, and reuses it', () => {
    const backend = createCpuBackend('float64', { kernels: 'wasm-simd' });
    const a = backend.zeros([50000]);
    const address = (a as unknown as { data: Float64Array }).data.byteOffset;
    backend.dispose(a);
    const b = backend.zeros([50000]);
    expect((b as unknown as { data: Float64Array }).data.byteOffset).toBe(address);
    expect(Array.from(backend.toArray(b).subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });
});

describe('streaming kernels of the merge', () => {
  const vectors = hostVectors()!;

  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: task arithmetic equals the two-pass TypeScript loop bit for bit (differences or task vectors)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 200000 }), fc.integer({ min: 1, max: 6 }), fc.integer(), fc.boolean(), (n, models, seed, taskVectors) => {
          const make = (s: number) => {
            const a = vectors.allocate(dtype, n)!;
            a.set(randomArray(n, s));
            return a;
          };
          const base = make(seed);
          const xs = Array.from({ length: models }, (_, i) => make(seed + 1 + i));
          const weights = xs.map((_, i) => 0.5 + i);
          const out = vectors.allocate(dtype, n)!;
          expect(vectors.taskArithmetic(out, base, xs, weights, 0.3, taskVectors)).toBe(true);
          // What @mats/merge's kernels.ts does: float64 sum of w (x - base) (or of w x for task
          // vectors), then base + lambda sum.
          const sum = new Float64Array(n);
          xs.forEach((x, i) => {
            for (let j = 0; j < n; j++) sum[j] += weights[i] * (taskVectors ? x[j] : x[j] - base[j]);
          });
          const expected = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
          for (let j = 0; j < n; j++) expected[j] = base[j] + 0.3 * sum[j];
          for (let j = 0; j < n; j++) if (!Object.is(out[j], expected[j])) throw new Error(`n=${n} [${j}]: ${out[j]} vs ${expected[j]}`);
          for (const a of [base, ...xs, out]) vectors.release(a);
        }),
        { numRuns: 8 },
      );
    });
  }

  it('declines arrays outside the kernel memory', () => {
    const plain = new Float64Array(10);
    expect(vectors.taskArithmetic(plain, plain, [plain], [1], 1)).toBe(false);
    expect(vectors.dare(plain, plain, plain, 1, 0, 0.5, 2)).toBeUndefined();
    expect(vectors.map('axpy', 10, plain, plain, undefined, 1)).toBe(false);
  });
});
