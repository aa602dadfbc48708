/**
 * The streaming merge pass on the WebAssembly kernels (pipeline/array-pool.ts, methods/kernels.ts):
 * the same bits as the TypeScript loops whatever the precision, output dtype and chunking; the
 * pool's reuse; and the fast NaN/Inf check on kernel-memory arrays.
 */
import fc from 'fast-check';
import { hostVectors } from '@mats/backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { ArrayPool } from '../src/pipeline/array-pool.js';
import { firstNonFinite, firstNonFiniteFast } from '../src/pipeline/nonfinite.js';
import { randomModel, type Fixture } from './fixtures.js';
import { mergeInMemory } from './merge-harness.js';

const saved = process.env.MATS_CPU_KERNELS;
afterEach(() => {
  if (saved === undefined) delete process.env.MATS_CPU_KERNELS;
  else process.env.MATS_CPU_KERNELS = saved;
});

/** The merge twice: on the WebAssembly kernels, and with MATS_CPU_KERNELS=typescript (the loops). */
async function bothPaths(options: Parameters<typeof mergeInMemory>[0]) {
  delete process.env.MATS_CPU_KERNELS;
  const kernels = await mergeInMemory(options);
  process.env.MATS_CPU_KERNELS = 'typescript';
  const loops = await mergeInMemory(options);
  delete process.env.MATS_CPU_KERNELS;
  return { kernels, loops };
}

function expectSameBits(a: Map<string, Float64Array>, b: Map<string, Float64Array>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [name, values] of a) {
    const other = b.get(name)!;
    for (let i = 0; i < values.length; i++) {
      if (!Object.is(values[i], other[i])) throw new Error(`${name}[${i}]: ${values[i]} on the kernels, ${other[i]} in the loops`);
    }
  }
}

describe('streaming merge on the WebAssembly kernels', () => {
  const shapes = { 'a.weight': [37, 29], 'b.bias': [300], 'c.weight': [64, 50] };
  const setup = fc.record({ seed: fc.nat(1000), models: fc.integer({ min: 1, max: 4 }), chunk: fc.integer({ min: 7, max: 5000 }) });

  it('task_arithmetic and dare give the same bits as the TypeScript loops (precisions, output dtypes, chunks)', async () => {
    expect(hostVectors()).toBeDefined();
    await fc.assert(
      fc.asyncProperty(
        setup,
        fc.constantFrom('float32', 'float64'),
        fc.constantFrom('float32', 'float64', 'bfloat16'),
        fc.constantFrom<[string, Record<string, unknown>]>(['task_arithmetic', { lambda: 0.7 }], ['dare', { p: 0.3, lambda: 0.9 }]),
        async ({ seed, models, chunk }, precision, outputDtype, [method, parameters]) => {
          const base: Fixture = randomModel(seed, shapes);
          const list = Array.from({ length: models }, (_, i) => randomModel(seed + 1 + i, shapes));
          const weights = list.map((_, i) => 0.5 + i);
          const { kernels, loops } = await bothPaths({ method, parameters, base, models: list, weights, precision, outputDtype, chunkElements: chunk, seed: 5 });
          expectSameBits(kernels.tensors, loops.tensors);
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe('ArrayPool', () => {
  it('hands out kernel-memory views of the length asked for, and reuses what is given back', () => {
    const pool = new ArrayPool();
    const a = pool.take('float32', 1000);
    expect(a.length).toBe(1000);
    expect(hostVectors()!.addressOf(a)).toBeDefined();
    const address = hostVectors()!.addressOf(a);
    pool.give(a);
    const b = pool.take('float32', 900, true);
    expect(hostVectors()!.addressOf(b)).toBe(address);
    expect(Array.from(b.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(pool.take('float64', 10)).toBeInstanceOf(Float64Array);
    expect(() => pool.give(new Float32Array(4))).toThrow(/did not hand out/);
    pool.dispose();
  });

  it('falls back to ordinary arrays without the kernels', () => {
    process.env.MATS_CPU_KERNELS = 'typescript';
    const pool = new ArrayPool();
    const a = pool.take('float64', 5);
    expect(a.buffer).toBeInstanceOf(ArrayBuffer);
    pool.dispose();
  });
});

describe('firstNonFiniteFast', () => {
  it('finds the first NaN or Inf of kernel-memory and ordinary arrays as firstNonFinite does (fast-check)', () => {
    const vectors = hostVectors()!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200000 }), fc.array(fc.tuple(fc.nat(), fc.constantFrom(Number.NaN, Infinity, -Infinity)), { maxLength: 3 }), fc.boolean(), (n, bad, f64) => {
        const kernel = vectors.allocate(f64 ? 'float64' : 'float32', n)!;
        const plain = f64 ? new Float64Array(n) : new Float32Array(n);
        for (let i = 0; i < n; i++) kernel[i] = plain[i] = Math.sin(i) * 1e3;
        for (const [where, value] of bad) if (n > 0) kernel[where % n] = plain[where % n] = value;
        expect(firstNonFiniteFast(kernel)).toBe(firstNonFinite(plain));
        expect(firstNonFiniteFast(plain)).toBe(firstNonFinite(plain));
        vectors.release(kernel);
      }),
      { numRuns: 30 },
    );
  });
});
