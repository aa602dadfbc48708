/**
 * The native BLAS addon (native/blas.c) and the 'blas' kernel variant: gemm against the
 * float64 reference on strided and transposed operands, the addon's own bounds checks (memory
 * safety is the addon's job, not only its caller's), and what it reports. Where the addon is
 * not built these tests skip, unless MATS_REQUIRE_NATIVE_BLAS=1 (CI), where that fails.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NotPositiveDefiniteError } from '@mats/core';
import { randomArray, randomSpd, referenceGemm, unitRoundoff } from '@mats/core/testing';
import { createCpuBackend, kernelVariantAvailability, spdInverse } from '../src/index.js';
import { hostBlas } from '../src/native/host-blas.js';
import { nativeBlas, type NativeBlas } from '../src/native/native-blas.js';

const loaded = nativeBlas();
const blas: NativeBlas | undefined = typeof loaded === 'object' ? loaded : undefined;

describe('native BLAS addon', () => {
  it.runIf(process.env.MATS_REQUIRE_NATIVE_BLAS === '1')('is built and loads where CI requires it', () => {
    expect(loaded, typeof loaded === 'string' ? loaded : '').toBeTypeOf('object');
    expect(kernelVariantAvailability('blas')).toEqual({ available: true });
  });

  it.skipIf(blas !== undefined)('says why the blas variant is unavailable, and refuses it by name', () => {
    const a = kernelVariantAvailability('blas');
    expect(a.available).toBe(false);
    expect(() => createCpuBackend('float64', { kernels: 'blas' })).toThrow(/'blas' is unavailable/);
  });

  describe.skipIf(blas === undefined)('where built', () => {
    const b = blas!;

    for (const dtype of ['float64', 'float32'] as const) {
      it(`${dtype} gemm on strided, transposed row-major operands equals the reference (fast-check)`, () => {
        const u = unitRoundoff(dtype);
        const create = (values: Float64Array) => (dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values));
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 90 }),
            fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 5 }), fc.constantFrom(0, 1, -0.5), fc.integer(),
            (m, n, k, ta, tb, pad, beta, seed) => {
              const [aRows, aCols] = ta ? [k, m] : [m, k];
              const [bRows, bCols] = tb ? [n, k] : [k, n];
              const [lda, ldb, ldc] = [Math.max(1, aCols) + pad, Math.max(1, bCols) + pad, n + pad];
              const a = create(randomArray(Math.max(1, aRows * lda), seed));
              const bm = create(randomArray(Math.max(1, bRows * ldb), seed + 1));
              const c = create(randomArray(m * ldc, seed + 2));
              // The reference takes dense operands: gather the strided ones.
              const dense = (x: ArrayLike<number>, rows: number, cols: number, ld: number) => Float64Array.from({ length: rows * cols }, (_, i) => x[Math.floor(i / cols) * ld + (i % cols)]);
              const ref = referenceGemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.5, dense(a, aRows, aCols, lda), dense(bm, bRows, bCols, ldb), beta, dense(c, m, n, ldc));
              const padding = Array.from({ length: m }, (_, r) => Array.from(c.subarray(r * ldc + n, (r + 1) * ldc)));
              b.gemm(dtype === 'float64', ta, tb, m, n, k, 1.5, a, lda, bm, ldb, beta, c, ldc);
              for (let r = 0; r < m; r++) {
                for (let j = 0; j < n; j++) {
                  const i = r * n + j;
                  const bound = 2 * (k + 3) * u * ref.magnitude[i] + 2 * u * Math.abs(ref.value[i]);
                  if (!(Math.abs(c[r * ldc + j] - ref.value[i]) <= bound)) throw new Error(`${ta}${tb} m=${m} n=${n} k=${k}: C[${r}, ${j}] = ${c[r * ldc + j]}, expected ${ref.value[i]}`);
                }
                expect(Array.from(c.subarray(r * ldc + n, (r + 1) * ldc))).toEqual(padding[r]); // the padding is left alone
              }
            },
          ),
          { numRuns: 60 },
        );
      });
    }

    it('scales C by beta when k = 0, with empty A and B (no data pointer at all)', () => {
      for (const beta of [0, 1.5]) {
        const c = Float64Array.from([1, Number.NaN, 3, 4]);
        b.gemm(true, false, false, 2, 2, 0, 1, new Float64Array(0), 1, new Float64Array(0), 2, beta, c, 2);
        expect(Array.from(c)).toEqual(beta === 0 ? [0, 0, 0, 0] : [1.5, Number.NaN, 4.5, 6]);
      }
      const backend = createCpuBackend('float64', { kernels: 'blas' });
      const c = backend.fromArray([1, Number.NaN, 3, 4], [2, 2]);
      backend.gemm('N', 'N', 1, backend.zeros([2, 0]), backend.zeros([0, 2]), 0, c);
      expect(Array.from(backend.toArray(c))).toEqual([0, 0, 0, 0]);
    });

    it('runs on views of a shared WebAssembly memory (where the backend keeps large tensors)', () => {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
      const a = new Float64Array(memory.buffer, 8, 4);
      const c = new Float64Array(memory.buffer, 256, 4);
      a.set([1, 2, 3, 4]);
      b.gemm(true, false, false, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2);
      expect(Array.from(c)).toEqual([7, 10, 15, 22]);
    });

    it('refuses operands too short for the call, of the wrong type, or bad dimensions, naming them', () => {
      const x = new Float64Array(16);
      expect(() => b.gemm(true, false, false, 4, 4, 4, 1, x, 4, x.subarray(1), 4, 0, new Float64Array(16), 4)).toThrow(/B holds 15 elements, the call needs 16/);
      expect(() => b.gemm(true, false, false, 4, 4, 4, 1, x, 4, x, 4, 0, new Float64Array(16), 5)).toThrow(/C holds 16 elements, the call needs 19/);
      expect(() => b.gemm(true, true, false, 2, 4, 4, 1, x, 1, x, 4, 0, x, 4)).toThrow(/bad dimensions/); // A stored [4, 2] needs lda >= 2
      expect(() => b.gemm(false, false, false, 4, 4, 4, 1, x, 4, x, 4, 0, new Float64Array(16), 4)).toThrow(/A must be a Float32Array/);
      expect(() => b.gemm(true, false, false, -1, 4, 4, 1, x, 4, x, 4, 0, x, 4)).toThrow(/bad dimensions/);
      expect(() => b.gemm(true, false, false, 4, 4, 4, 1, [1, 2] as unknown as Float64Array, 4, x, 4, 0, x, 4)).toThrow(/A must be a Float64Array/);
      expect(() => b.gemm(true, false, false, 4.5, 4, 4, 1, x, 4, x, 4, 0, x, 4)).toThrow(/m must be an integer/);
      expect(() => b.spdInverse(new Float64Array(3), 2)).toThrow(/A holds 3 elements, the call needs 4/);
      expect(() => (b.spdInverse as (...args: unknown[]) => number)(new Float64Array(4))).toThrow(/expected 2 arguments/);
      expect(() => b.setThreads(0)).toThrow(/threads must be in/);
    });

    it('inverts an SPD matrix through LAPACK (against the A A^-1 = I identity), and names a failed pivot', () => {
      const n = 70;
      const a = randomSpd(n, 5);
      // The addon itself, and the host linear algebra (which takes it when 'auto' is 'blas').
      const direct = Float64Array.from(a);
      expect(b.spdInverse(direct, n)).toBe(0);
      const inverse = spdInverse(a, n);
      if (hostBlas() !== undefined) expect(Array.from(inverse)).toEqual(Array.from(direct));
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(inverse[i * n + j]).toBe(inverse[j * n + i]);
      const product = referenceGemm('N', 'N', n, n, n, 1, a, inverse, 0, new Float64Array(n * n));
      const norm = Math.max(...Array.from({ length: n }, (_, i) => a.slice(i * n, (i + 1) * n).reduce((s, v) => s + Math.abs(v), 0)));
      for (let i = 0; i < n * n; i++) {
        // |A A^-1 - I| <= c n u |A| |A^-1|, elementwise through the reference's magnitude.
        expect(Math.abs(product.value[i] - (i % (n + 1) === 0 ? 1 : 0))).toBeLessThanOrEqual(4 * n * unitRoundoff('float64') * product.magnitude[i] + 1e-300 * norm);
      }
      // Pivot 2 fails: the leading 3 x 3 block is singular.
      const bad = Float64Array.from([1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]);
      expect(() => spdInverse(bad, 4)).toThrow(NotPositiveDefiniteError);
      try {
        spdInverse(bad, 4);
      } catch (e) {
        expect((e as NotPositiveDefiniteError).pivotIndex).toBe(2);
      }
      const nan = Float64Array.from(a);
      nan[3 * n + 3] = Number.NaN;
      expect(() => spdInverse(nan, n)).toThrow(/pivot 3 is NaN/);
    });

    it('applies a float32-product K-FAC sum on float64 tensors in place (y = x), and refuses a factor as out', () => {
      const backend = createCpuBackend('float64', { kernels: 'blas' });
      const g = backend.fromArray(randomSpd(4, 1), [4, 4]);
      const a = backend.fromArray(randomSpd(4, 2), [4, 4]);
      const xs = randomArray(16, 3);
      const x = backend.fromArray(xs, [4, 4]);
      const prepared = backend.prepareKroneckerSum([g], [a], { precision: 'float32' })!;
      prepared.apply(x, x);
      const expected = referenceGemm('N', 'N', 4, 4, 4, 1, backend.toArray(g), referenceGemm('N', 'N', 4, 4, 4, 1, xs, backend.toArray(a), 0, new Float64Array(16)).value, 0, new Float64Array(16));
      const got = backend.toArray(x);
      for (let i = 0; i < 16; i++) expect(Math.abs(got[i] - expected.value[i])).toBeLessThanOrEqual(64 * unitRoundoff('float32') * expected.magnitude[i]);
      expect(() => prepared.apply(x, a)).toThrow(/out must not be one of the factors/);
      prepared.dispose();
    });

    it('refuses to apply a prepared K-FAC sum whose factor was disposed (it reads the factors in place)', () => {
      const backend = createCpuBackend('float64', { kernels: 'blas' });
      const g = backend.fromArray(randomSpd(5, 1), [5, 5]);
      const a = backend.fromArray(randomSpd(3, 2), [3, 3]);
      const x = backend.fromArray(randomArray(15, 3), [5, 3]);
      const prepared = backend.prepareKroneckerSum([g], [a])!;
      prepared.apply(x, x); // y may be x
      const expected = referenceGemm('N', 'N', 5, 3, 5, 1, backend.toArray(g), referenceGemm('N', 'N', 5, 3, 3, 1, randomArray(15, 3), backend.toArray(a), 0, new Float64Array(15)).value, 0, new Float64Array(15));
      const got = backend.toArray(x);
      for (let i = 0; i < 15; i++) expect(Math.abs(got[i] - expected.value[i])).toBeLessThanOrEqual(64 * unitRoundoff('float64') * expected.magnitude[i]);
      backend.dispose(a);
      expect(() => prepared.apply(x, x)).toThrow(/one of its factors was disposed/);
      prepared.dispose();
    });

    it('says what it is linked against', () => {
      const info = b.info();
      expect(info.library.length).toBeGreaterThan(0);
      if (info.library === 'OpenBLAS') {
        expect(info.core!.length).toBeGreaterThan(0);
        expect(info.threads).toBeGreaterThanOrEqual(1);
      }
    });

    it("is what 'auto' picks, and its backend's gemm goes through it (C aliasing A is refused first)", () => {
      const saved = process.env.MATS_CPU_KERNELS;
      delete process.env.MATS_CPU_KERNELS;
      const backend = createCpuBackend('float64');
      if (saved !== undefined) process.env.MATS_CPU_KERNELS = saved;
      expect(backend.mode).toBe('blas');
      const a = backend.fromArray([1, 2, 3, 4], [2, 2]);
      const c = backend.zeros([2, 2]);
      backend.gemm('T', 'N', 1, a, a, 0, c);
      expect(backend.toArray(c)).toEqual(Float64Array.from([10, 14, 14, 20]));
      expect(() => backend.gemm('N', 'N', 1, a, a, 0, a)).toThrow(/must not share storage/);
    });
  });
});
