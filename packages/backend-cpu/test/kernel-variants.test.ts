/**
 * Kernel variant selection, and the WebAssembly gemm on shapes larger than the conformance
 * suite's (several blocks of C per thread, split by rows and by columns, several k slices).
 */
import os from 'node:os';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Transpose } from '@mats/core';
import { randomArray, referenceGemm, unitRoundoff } from '@mats/core/testing';
import { availableKernelVariants, createCpuBackend, kernelVariantAvailability, type CpuKernelVariant } from '../src/index.js';
import { blocking } from '../src/wasm/wasm-gemm.js';

describe('kernel variants', () => {
  const saved = { kernels: process.env.MATS_CPU_KERNELS, threads: process.env.MATS_CPU_THREADS };
  afterEach(() => {
    for (const [key, value] of [['MATS_CPU_KERNELS', saved.kernels], ['MATS_CPU_THREADS', saved.threads]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('has every variant available under Node once built (npm test builds the .wasm first)', () => {
    for (const v of ['typescript', 'wasm-simd', 'wasm-simd-threads'] as const) {
      const a = kernelVariantAvailability(v);
      expect(a.available, a.available ? v : `${v}: ${a.reason}`).toBe(true);
    }
    const blas = kernelVariantAvailability('blas').available ? ['blas'] : [];
    expect(availableKernelVariants()).toEqual(['typescript', 'wasm-simd', 'wasm-simd-threads', ...blas]);
  });

  it('reports the variant it runs in mode, and the thread count', () => {
    for (const kernels of ['typescript', 'wasm-simd'] as const) {
      const b = createCpuBackend('float32', { kernels });
      expect(b.mode).toBe(kernels);
      expect(b.threads).toBe(1);
    }
    const t = createCpuBackend('float64', { kernels: 'wasm-simd-threads', threads: 3 });
    expect(t.mode).toBe('wasm-simd-threads');
    expect(t.threads).toBe(3);
  });

  it("picks the fastest variant for 'auto': the native BLAS where built, else threads where there are several cores", () => {
    delete process.env.MATS_CPU_KERNELS;
    delete process.env.MATS_CPU_THREADS;
    const b = createCpuBackend('float64');
    const cores = os.availableParallelism();
    const blas = kernelVariantAvailability('blas');
    expect(b.mode).toBe(blas.available ? 'blas' : cores > 1 ? 'wasm-simd-threads' : 'wasm-simd');
    expect(b.threads).toBe(cores > 1 ? cores : 1);
    if (!blas.available && cores > 1) expect(b.modeNote).toContain(blas.reason);
  });

  it('takes MATS_CPU_KERNELS and MATS_CPU_THREADS for auto, and names a bad value', () => {
    process.env.MATS_CPU_KERNELS = 'typescript';
    expect(createCpuBackend('float64').mode).toBe('typescript');
    expect(createCpuBackend('float64', { kernels: 'wasm-simd' }).mode).toBe('wasm-simd');
    process.env.MATS_CPU_KERNELS = 'wasm-simd-threads';
    process.env.MATS_CPU_THREADS = '5';
    expect(createCpuBackend('float64').threads).toBe(5);
    process.env.MATS_CPU_KERNELS = 'gpu';
    expect(() => createCpuBackend('float64')).toThrow(/MATS_CPU_KERNELS=gpu/);
    process.env.MATS_CPU_KERNELS = 'auto';
    process.env.MATS_CPU_THREADS = 'many';
    expect(() => createCpuBackend('float64')).toThrow(/MATS_CPU_THREADS=many/);
  });

  it('rejects a bad thread count or threshold', () => {
    expect(() => createCpuBackend('float64', { kernels: 'wasm-simd-threads', threads: 0 })).toThrow(/threads/);
    expect(() => createCpuBackend('float64', { kernels: 'wasm-simd-threads', threads: 1.5 })).toThrow(/threads/);
    expect(() => createCpuBackend('float64', { wasmMinWork: -1 })).toThrow(/wasmMinWork/);
    expect(() => createCpuBackend('float64', { kernels: 'bogus' as CpuKernelVariant })).toThrow(/bogus/);
  });

  it('runs a threaded gemm on helper threads once warmed up', async () => {
    const b = createCpuBackend('float64', { kernels: 'wasm-simd-threads', threads: 2, threadMinWork: 0 });
    await b.warmUp();
    const x = b.fromArray(randomArray(64 * 64, 3), [64, 64]);
    const c = b.zeros([64, 64]);
    b.gemm('N', 'N', 1, x, x, 0, c);
    expect(b.lastGemmHelpers).toBe(1);
    const single = createCpuBackend('float64', { kernels: 'wasm-simd', wasmMinWork: 0 });
    const y = single.fromArray(randomArray(64 * 64, 3), [64, 64]);
    const d = single.zeros([64, 64]);
    single.gemm('N', 'N', 1, y, y, 0, d);
    expect(single.lastGemmHelpers).toBe(0);
  });
});

describe('blocking of C for the threads', () => {
  it('cuts enough blocks for dynamic claiming, split by rows first, by columns when short', () => {
    const count = (mp: number, np: number, t: number, mr: number, nr: number) => {
      const { mc, nc } = blocking(mp, np, mr, nr, t);
      expect(mc % mr).toBe(0);
      expect(nc % nr).toBe(0);
      return Math.ceil(mp / mc) * Math.ceil(np / nc);
    };
    expect(count(1024, 1024, 2, 4, 4)).toBeGreaterThanOrEqual(8);
    expect(count(8, 4096, 2, 4, 8)).toBeGreaterThanOrEqual(8); // short and wide: columns split
    expect(count(4, 4, 2, 4, 4)).toBe(1);
    expect(blocking(1024, 1024, 4, 4, 1)).toEqual({ mc: 128, nc: 1024 });
  });
});

describe('WebAssembly gemm on larger shapes (fast-check, against the float64 reference)', () => {
  const transposes: [Transpose, Transpose][] = [['N', 'N'], ['N', 'T'], ['T', 'N'], ['T', 'T']];
  for (const dtype of ['float64', 'float32'] as const) {
    it(`${dtype}: random shapes up to 300, 1 to 4 threads, several k slices`, async () => {
      const backends = [1, 2, 3, 4].map((threads) =>
        createCpuBackend(dtype, threads === 1 ? { kernels: 'wasm-simd', wasmMinWork: 0 } : { kernels: 'wasm-simd-threads', threads, wasmMinWork: 0, threadMinWork: 0 }),
      );
      await backends[3].warmUp();
      const u = unitRoundoff(dtype);
      fc.assert(
        fc.property(
          fc.noBias(fc.integer({ min: 1, max: 300 })),
          fc.noBias(fc.integer({ min: 1, max: 300 })),
          fc.noBias(fc.integer({ min: 1, max: 600 })),
          fc.constantFrom(...transposes),
          fc.constantFrom(0, 1, -0.5),
          fc.integer({ min: 0, max: 3 }),
          fc.integer(),
          (m, n, k, [ta, tb], beta, which, seed) => {
            const backend = backends[which];
            const a = backend.fromArray(randomArray(m * k, seed), ta === 'N' ? [m, k] : [k, m]);
            const b = backend.fromArray(randomArray(k * n, seed + 1), tb === 'N' ? [k, n] : [n, k]);
            const c = backend.fromArray(randomArray(m * n, seed + 2), [m, n]);
            const ref = referenceGemm(ta, tb, m, n, k, 1.5, backend.toArray(a), backend.toArray(b), beta, backend.toArray(c));
            backend.gemm(ta, tb, 1.5, a, b, beta, c);
            const got = backend.toArray(c);
            for (let i = 0; i < m * n; i++) {
              const bound = 2 * (k + 3) * u * ref.magnitude[i] + 2 * u * Math.abs(ref.value[i]);
              if (!(Math.abs(got[i] - ref.value[i]) <= bound)) {
                throw new Error(`${dtype} ${ta}${tb} m=${m} n=${n} k=${k} threads=${which + 1}: C[${i}] = ${got[i]}, expected ${ref.value[i]}`);
              }
            }
          },
        ),
        { numRuns: 12 },
      );
    });
  }
});
