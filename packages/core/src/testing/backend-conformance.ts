/**
 * The backend conformance suite. A backend package calls describeBackendConformance from its
 * own tests; every primitive is checked against the plain float64 reference, on fixed cases
 * and on random ones (fast-check). Rounding-error bounds scale with the dtype's unit roundoff,
 * so a float32 backend gets float32 tolerances and a wrong kernel fails in either precision.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, DType, Tensor, Transpose } from '../backend/backend.js';
import {
  DisposedTensorError,
  DTypeMismatchError,
  ForeignTensorError,
  NotPositiveDefiniteError,
  ShapeError,
} from '../backend/errors.js';
import { countAllocations } from './count-allocations.js';
import { randomArray, randomSpd } from './random.js';
import { referenceDot, referenceGemm, referenceMatmul, referenceTranspose } from './reference.js';
import { unitRoundoff } from './tolerance.js';

export interface BackendConformanceOptions {
  /** Creates a fresh backend of the given dtype (the suite never disposes backends). */
  create(dtype: DType): Backend;
  /** The dtypes this backend supports. */
  dtypes: readonly DType[];
  /** Runs per fast-check property (default 25). */
  numRuns?: number;
  /** Largest size used by the fixed gemm cases (default 257); lower it for slow modes. */
  maxGemmSize?: number;
}

/** The sizes the fixed cases run at: tile remainders of every width, and a few blocks deep. */
export const CONFORMANCE_SIZES = [1, 3, 7, 33, 129, 257] as const;

/**
 * Non-square [m, k, n] gemm shapes: thin, wide, and every remainder modulo the usual tile
 * widths (2, 4, 8) in m and n, exact multiples included.
 */
export const CONFORMANCE_GEMM_SHAPES: readonly (readonly [number, number, number])[] = [
  [3, 7, 5],
  [5, 3, 4],
  [6, 5, 8],
  [9, 16, 12],
  [4, 4, 16],
  [10, 11, 6],
  [64, 17, 64],
  [1, 33, 7],
  [33, 1, 129],
  [129, 33, 7],
  [7, 129, 1],
  [5, 2, 257],
  [257, 9, 3],
];

const TRANSPOSES: readonly (readonly [Transpose, Transpose])[] = [
  ['N', 'N'],
  ['N', 'T'],
  ['T', 'N'],
  ['T', 'T'],
];

export function describeBackendConformance(label: string, options: BackendConformanceOptions): void {
  const numRuns = options.numRuns ?? 25;
  const maxGemmSize = options.maxGemmSize ?? 257;
  for (const dtype of options.dtypes) {
    describe(`${label} ${dtype} backend conformance`, () => {
      const backend = options.create(dtype);
      const u = unitRoundoff(dtype);
      /**
       * Smallest normal number: the absolute error floor once products underflow. GPUs (and
       * CPUs with flush-to-zero) drop subnormals altogether, so what is lost below the normal
       * range is up to this much, not the smallest subnormal.
       */
      const tiny = dtype === 'float64' ? 2 ** -1022 : 2 ** -126;
      const stored = (values: ArrayLike<number>) => Float64Array.from(dtype === 'float32' ? Float32Array.from(values) : values);

      /** Relative check of a reduction of n terms: error <= c n u sum|terms|. */
      const expectReduction = (actual: number, expected: number, magnitude: number, n: number) => {
        expect(Math.abs(actual - expected)).toBeLessThanOrEqual(4 * (n + 2) * u * magnitude + Number.MIN_VALUE);
      };

      describe('storage', () => {
        it('round-trips values through fromArray and toArray in its dtype', () => {
          const values = randomArray(33, 1);
          const t = backend.fromArray(values, [3, 11]);
          expect(t.dtype).toBe(dtype);
          expect(t.shape).toEqual([3, 11]);
          expect(t.size).toBe(33);
          const back = backend.toArray(t);
          expect(back).toBeInstanceOf(dtype === 'float64' ? Float64Array : Float32Array);
          expect(Array.from(back)).toEqual(Array.from(stored(values)));
          backend.dispose(t);
        });

        it('returns a copy from toArray, not a view of the storage', () => {
          const t = backend.fromArray([1, 2, 3], [3]);
          const host = backend.toArray(t);
          host[0] = 42;
          expect(backend.toArray(t)[0]).toBe(1);
        });

        it('creates zeros, scalars and empty tensors', () => {
          expect(Array.from(backend.toArray(backend.zeros([2, 3])))).toEqual([0, 0, 0, 0, 0, 0]);
          expect(backend.zeros([]).size).toBe(1);
          expect(backend.zeros([0, 5]).size).toBe(0);
        });

        it('rejects data whose length does not match the shape, naming both', () => {
          expect(() => backend.fromArray([1, 2, 3], [2, 2])).toThrow(ShapeError);
          expect(() => backend.fromArray([1, 2, 3], [2, 2])).toThrow(/\[2, 2\]/);
          expect(() => backend.zeros([2, -1])).toThrow(ShapeError);
        });

        it('reshapes without copying and rejects a size change', () => {
          const t = backend.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
          const v = backend.reshape(t, [6]);
          expect(v.shape).toEqual([6]);
          backend.scal(2, v);
          expect(Array.from(backend.toArray(t))).toEqual([2, 4, 6, 8, 10, 12]);
          expect(() => backend.reshape(t, [4])).toThrow(ShapeError);
        });
      });

      describe('host values into and out of existing tensors (write, read)', () => {
        it('write overwrites a tensor in place, in its dtype, and keeps no reference to the source', () => {
          const t = backend.zeros([3, 11]);
          const view = backend.reshape(t, [33]);
          const values = randomArray(33, 2);
          backend.write(t, values);
          expect(Array.from(backend.toArray(view))).toEqual(Array.from(stored(values)));
          values[0] = 42;
          expect(backend.toArray(t)[0]).toBe(stored(randomArray(33, 2))[0]);
          backend.write(view, new Float32Array(33).fill(0.5));
          expect(Array.from(backend.toArray(t))).toEqual(new Array(33).fill(0.5));
        });

        it('read fills a caller\'s Float64Array or Float32Array and returns it', () => {
          const values = randomArray(33, 3);
          const t = backend.fromArray(values, [3, 11]);
          const into64 = new Float64Array(33);
          expect(backend.read(t, into64)).toBe(into64);
          expect(Array.from(into64)).toEqual(Array.from(stored(values)));
          const into32 = new Float32Array(33);
          expect(backend.read(t, into32)).toBe(into32);
          expect(Array.from(into32)).toEqual(Array.from(Float32Array.from(stored(values))));
        });

        it('write and read allocate no tensor: an operator computing on the host can fill apply\'s out', () => {
          const t = backend.zeros([8]);
          const host = new Float64Array(8);
          const made = countAllocations(backend, () => {
            for (let k = 0; k < 3; k++) {
              backend.read(t, host);
              for (let i = 0; i < 8; i++) host[i] += i;
              backend.write(t, host);
            }
          });
          expect(made).toBe(0);
          expect(Array.from(backend.toArray(t))).toEqual([0, 3, 6, 9, 12, 15, 18, 21]);
        });

        it('rejects a length that is not the tensor\'s size, and disposed or foreign tensors', () => {
          const t = backend.zeros([2, 2]);
          expect(() => backend.write(t, [1, 2, 3])).toThrow(ShapeError);
          expect(() => backend.write(t, [1, 2, 3])).toThrow(/write: 3 values do not fill the tensor of shape \[2, 2\]/);
          expect(() => backend.read(t, new Float64Array(5))).toThrow(/read: an array of 5 elements does not fit the tensor of shape \[2, 2\]/);
          const other = options.create(dtype);
          expect(() => backend.write(other.zeros([2]), [1, 2])).toThrow(ForeignTensorError);
          backend.dispose(t);
          expect(() => backend.write(t, [1, 2, 3, 4])).toThrow(DisposedTensorError);
          expect(() => backend.read(t, new Float64Array(4))).toThrow(DisposedTensorError);
          const empty = backend.zeros([0]);
          backend.write(empty, []);
          expect(backend.read(empty, new Float64Array(0)).length).toBe(0);
        });
      });

      describe('level 1 against the float64 reference', () => {
        for (const n of CONFORMANCE_SIZES) {
          it(`dot, nrm2, axpy, axpby, scal, copy, fill, mul, div, add at n = ${n}`, () => {
            checkLevel1(n, 1000 + n);
          });
        }

        it('random sizes and values (fast-check)', () => {
          fc.assert(
            fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (n, seed) => {
              checkLevel1(n, seed);
            }),
            { numRuns },
          );
        });

        it('accumulates dot and nrm2 in float64 even for float32 storage', () => {
          // 1 + n * 2^-24 rounds back to 1 at every step of a float32 accumulation.
          const n = 4096;
          const x = new Float64Array(n + 1).fill(2 ** -24);
          x[0] = 1;
          const ones = backend.fromArray(new Float64Array(n + 1).fill(1), [n + 1]);
          const tx = backend.fromArray(x, [n + 1]);
          expect(Math.abs(backend.dot(tx, ones) - (1 + n * 2 ** -24))).toBeLessThan(1e-12);
          const y = new Float64Array(n + 1).fill(2 ** -12);
          y[0] = 1;
          const ty = backend.fromArray(y, [n + 1]);
          expect(Math.abs(backend.nrm2(ty) - Math.sqrt(1 + n * 2 ** -24))).toBeLessThan(1e-12);
        });

        it('computes nrm2 without overflow or underflow', () => {
          const big = dtype === 'float64' ? 1e200 : 1e30;
          const small = dtype === 'float64' ? 1e-200 : 1e-30;
          const tb = backend.fromArray([3 * big, 4 * big], [2]);
          expect(backend.nrm2(tb) / (5 * big)).toBeCloseTo(1, 6);
          const ts = backend.fromArray([3 * small, 4 * small], [2]);
          expect(backend.nrm2(ts) / (5 * small)).toBeCloseTo(1, 6);
          expect(backend.nrm2(backend.zeros([5]))).toBe(0);
        });

        it('lets out alias an input in mul, div and add', () => {
          const x = backend.fromArray([1, 2, 3], [3]);
          const y = backend.fromArray([4, 5, 6], [3]);
          backend.mul(x, y, x);
          expect(Array.from(backend.toArray(x))).toEqual([4, 10, 18]);
          backend.add(x, y, y);
          expect(Array.from(backend.toArray(y))).toEqual([8, 15, 24]);
          backend.div(x, y, x);
          expect(backend.toArray(x)[0]).toBeCloseTo(0.5, 6);
        });

        it('copies ranges between tensors of any shape and rejects ranges that do not fit', () => {
          const src = backend.fromArray([1, 2, 3, 4, 5, 6], [2, 3]);
          const dst = backend.zeros([4]);
          backend.copyRange(src, 2, dst, 1, 3);
          expect(Array.from(backend.toArray(dst))).toEqual([0, 3, 4, 5]);
          backend.copyRange(src, 0, dst, 0, 0);
          expect(() => backend.copyRange(src, 4, dst, 0, 3)).toThrow(ShapeError);
          expect(() => backend.copyRange(src, 0, dst, 2, 3)).toThrow(/destination range \[2, 5\)/);
          expect(() => backend.copyRange(src, -1, dst, 0, 1)).toThrow(ShapeError);
        });

        it('rejects operands whose sizes differ', () => {
          const x = backend.zeros([3]);
          const y = backend.zeros([4]);
          expect(() => backend.dot(x, y)).toThrow(ShapeError);
          expect(() => backend.axpy(1, x, y)).toThrow(ShapeError);
          expect(() => backend.axpby(1, x, 1, y)).toThrow(ShapeError);
          expect(() => backend.add(x, x, y)).toThrow(ShapeError);
          expect(() => backend.copy(x, y)).toThrow(ShapeError);
        });
      });

      describe('gemm against the float64 reference', () => {
        const alphas = [1, -0.5, 2.5];
        const betas = [0, 1, -1.5];
        for (const n of CONFORMANCE_SIZES.filter((s) => s <= maxGemmSize)) {
          for (const [ta, tb] of TRANSPOSES) {
            it(`square n = ${n}, ${ta}${tb}`, () => {
              checkGemm(ta, tb, n, n, n, alphas[n % 3], betas[n % 3], n);
            });
          }
        }
        for (const [m, k, n] of CONFORMANCE_GEMM_SHAPES) {
          it(`non-square m=${m} k=${k} n=${n}, every transpose, alpha and beta`, () => {
            for (const [ta, tb] of TRANSPOSES) {
              for (const alpha of alphas) for (const beta of betas) checkGemm(ta, tb, m, n, k, alpha, beta, m * 7 + n);
            }
          });
        }

        it('random shapes, transposes, alpha and beta (fast-check)', () => {
          // Uniform sizes: fast-check's default integer bias would rarely pick tile multiples.
          fc.assert(
            fc.property(
              fc.noBias(fc.integer({ min: 1, max: 40 })),
              fc.noBias(fc.integer({ min: 1, max: 40 })),
              fc.noBias(fc.integer({ min: 1, max: 40 })),
              fc.constantFrom(...TRANSPOSES),
              fc.double({ min: -3, max: 3, noNaN: true }),
              fc.constantFrom(0, 1, 0.5, -2),
              fc.integer(),
              (m, n, k, [ta, tb], alpha, beta, seed) => checkGemm(ta, tb, m, n, k, alpha, beta, seed),
            ),
            { numRuns: 2 * numRuns },
          );
        });

        it('overwrites C when beta = 0, even where C holds NaN', () => {
          const a = backend.fromArray([1, 2, 3, 4], [2, 2]);
          const c = backend.fromArray([NaN, NaN, Infinity, NaN], [2, 2]);
          backend.gemm('N', 'N', 1, a, a, 0, c);
          expect(Array.from(backend.toArray(c))).toEqual([7, 10, 15, 22]);
        });

        it('rejects shapes that do not fit, naming them', () => {
          const a = backend.zeros([2, 3]);
          const b = backend.zeros([2, 3]);
          const c = backend.zeros([2, 3]);
          expect(() => backend.gemm('N', 'N', 1, a, b, 0, c)).toThrow(/inner dimensions/);
          expect(() => backend.gemm('N', 'T', 1, a, b, 0, c)).toThrow(/C is \[2, 3\], expected \[2, 2\]/);
          expect(() => backend.gemm('N', 'N', 1, backend.zeros([6]), b, 0, c)).toThrow(/2-D/);
        });
      });

      describe('dtype and ownership checks', () => {
        const otherDtype: DType = dtype === 'float64' ? 'float32' : 'float64';
        const foreignDtypeTensor = (): Tensor =>
          options.dtypes.includes(otherDtype)
            ? options.create(otherDtype).fromArray([1, 2, 3, 4], [2, 2])
            : ({ backend, dtype: otherDtype, shape: [2, 2], size: 4, disposed: false } as unknown as Tensor);

        it('throws when two dtypes meet, naming both', () => {
          const mine = backend.fromArray([1, 2, 3, 4], [2, 2]);
          const other = foreignDtypeTensor();
          const ops: [string, () => unknown][] = [
            ['dot', () => backend.dot(mine, other)],
            ['nrm2', () => backend.nrm2(other)],
            ['axpy', () => backend.axpy(1, other, mine)],
            ['axpby', () => backend.axpby(1, mine, 2, other)],
            ['copyRange', () => backend.copyRange(other, 0, mine, 0, 1)],
            ['scal', () => backend.scal(2, other)],
            ['copy', () => backend.copy(other, mine)],
            ['fill', () => backend.fill(other, 0)],
            ['mul', () => backend.mul(mine, other, mine)],
            ['div', () => backend.div(other, mine, mine)],
            ['add', () => backend.add(mine, mine, other)],
            ['gemm', () => backend.gemm('N', 'N', 1, mine, other, 0, mine)],
            ['toArray', () => backend.toArray(other)],
          ];
          for (const [name, op] of ops) {
            let error: unknown;
            try {
              op();
            } catch (e) {
              error = e;
            }
            expect(error, name).toBeInstanceOf(DTypeMismatchError);
            expect((error as Error).message, name).toContain('float64');
            expect((error as Error).message, name).toContain('float32');
            expect((error as Error).message, name).toContain(name);
          }
        });

        it('rejects a tensor of another backend instance', () => {
          const other = options.create(dtype).fromArray([1, 2], [2]);
          const mine = backend.fromArray([1, 2], [2]);
          expect(() => backend.dot(mine, other)).toThrow(ForeignTensorError);
        });
      });

      describe('dispose', () => {
        it('marks the tensor disposed; further use throws and a second dispose is harmless', () => {
          const t = backend.fromArray([1, 2, 3], [3]);
          const view = backend.reshape(t, [1, 3]);
          backend.dispose(t);
          expect(t.disposed).toBe(true);
          expect(() => backend.toArray(t)).toThrow(DisposedTensorError);
          expect(() => backend.nrm2(t)).toThrow(DisposedTensorError);
          expect(() => backend.toArray(view)).toThrow(DisposedTensorError);
          expect(() => backend.dispose(t)).not.toThrow();
        });
      });

      describe('host linalg', () => {
        for (const n of [1, 3, 7, 33]) {
          it(`cholesky, triangular solves and eigh at n = ${n}`, () => {
            const a = randomSpd(n, n);
            const l = backend.linalg.cholesky(a, n);
            for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
            const llt = referenceMatmul(l, referenceTranspose(l, n, n), n, n, n);
            expectClose64(llt, a, 1e-12);

            const b = randomArray(n * 2, n + 1);
            const y = backend.linalg.solveTriangular(l, n, b, 2, { lower: true });
            expectClose64(referenceMatmul(l, y, n, n, 2), b, 1e-10);
            const x = backend.linalg.solveTriangular(l, n, b, 2, { lower: true, transpose: true });
            expectClose64(referenceMatmul(referenceTranspose(l, n, n), x, n, n, 2), b, 1e-10);
            const u = referenceTranspose(l, n, n);
            const z = backend.linalg.solveTriangular(u, n, b, 2, { lower: false });
            expectClose64(referenceMatmul(u, z, n, n, 2), b, 1e-10);

            const { values, vectors } = backend.linalg.eigh(a, n);
            for (let j = 1; j < n; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
            const av = referenceMatmul(a, vectors, n, n, n);
            const vd = new Float64Array(n * n);
            for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vd[i * n + j] = vectors[i * n + j] * values[j];
            expectClose64(av, vd, 1e-10);
            const vtv = referenceMatmul(referenceTranspose(vectors, n, n), vectors, n, n, n);
            const identity = new Float64Array(n * n);
            for (let i = 0; i < n; i++) identity[i * n + i] = 1;
            expectClose64(vtv, identity, 1e-10);
          });
        }

        it('spdInverse and gram, where the backend offers them (optional), against float64 references', () => {
          const { spdInverse, gram } = backend.linalg;
          for (const n of [1, 3, 7, 33]) {
            const a = randomSpd(n, n + 2);
            if (spdInverse) {
              const x = spdInverse.call(backend.linalg, a, n);
              for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(x[i * n + j]).toBe(x[j * n + i]);
              const identity = new Float64Array(n * n);
              for (let i = 0; i < n; i++) identity[i * n + i] = 1;
              expectClose64(referenceMatmul(a, x, n, n, n), identity, 1e-10);
            }
            if (gram) {
              const vectors = [a, randomArray(n * n, n + 3), randomArray(n * n, n + 4)];
              const g = gram.call(backend.linalg, vectors);
              const reference = new Float64Array(9);
              for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < n * n; k++) reference[i * 3 + j] += vectors[i][k] * vectors[j][k];
              expectClose64(g, reference, 1e-12);
            }
          }
          if (spdInverse) expect(() => spdInverse.call(backend.linalg, Float64Array.from([1, 0, 0, 0, 1, 2, 0, 2, 1]), 3)).toThrow(NotPositiveDefiniteError);
        });

        it('names the failing pivot of a matrix that is not positive definite', () => {
          // Leading 2x2 block is positive definite; the third pivot is 1 - 4 < 0.
          const a = Float64Array.from([1, 0, 0, 0, 1, 2, 0, 2, 1]);
          let error: unknown;
          try {
            backend.linalg.cholesky(a, 3);
          } catch (e) {
            error = e;
          }
          expect(error).toBeInstanceOf(NotPositiveDefiniteError);
          expect((error as NotPositiveDefiniteError).pivotIndex).toBe(2);
          expect((error as Error).message).toMatch(/pivot 2/);
        });
      });

      function checkLevel1(n: number, seed: number): void {
        const xs = stored(randomArray(n, seed));
        const ys = stored(randomArray(n, seed + 1).map((v) => v + (v >= 0 ? 0.5 : -0.5))); // away from 0 for div
        const x = backend.fromArray(xs, [n]);
        const y = backend.fromArray(ys, [n]);
        let magnitude = 0;
        for (let i = 0; i < n; i++) magnitude += Math.abs(xs[i] * ys[i]);
        expectReduction(backend.dot(x, y), referenceDot(xs, ys), magnitude, n);
        expectReduction(backend.nrm2(x), Math.sqrt(referenceDot(xs, xs)), Math.sqrt(referenceDot(xs, xs)), n);

        const alpha = 0.75 - (seed % 7) / 3;
        const out = backend.zeros([n]);
        backend.copy(y, out);
        backend.axpy(alpha, x, out);
        expectElementwise(backend.toArray(out), xs.map((v, i) => alpha * v + ys[i]), xs.map((v, i) => Math.abs(alpha * v) + Math.abs(ys[i])));
        const beta = (seed % 5) / 2 - 1;
        const out2 = backend.fromArray(ys, [n]);
        backend.axpby(alpha, x, beta, out2);
        expectElementwise(backend.toArray(out2), xs.map((v, i) => alpha * v + beta * ys[i]), xs.map((v, i) => Math.abs(alpha * v) + Math.abs(beta * ys[i])), 2);
        backend.fill(out2, NaN);
        backend.axpby(alpha, x, 0, out2);
        expectElementwise(backend.toArray(out2), xs.map((v) => alpha * v), xs.map((v) => Math.abs(alpha * v)));
        backend.dispose(out2);
        backend.scal(alpha, out);
        expectElementwise(
          backend.toArray(out),
          xs.map((v, i) => alpha * (alpha * v + ys[i])),
          xs.map((v, i) => Math.abs(alpha) * (Math.abs(alpha * v) + Math.abs(ys[i]))),
          2,
        );
        backend.mul(x, y, out);
        expectElementwise(backend.toArray(out), xs.map((v, i) => v * ys[i]), xs.map((v, i) => Math.abs(v * ys[i])));
        backend.div(x, y, out);
        expectElementwise(backend.toArray(out), xs.map((v, i) => v / ys[i]), xs.map((v, i) => Math.abs(v / ys[i])));
        backend.add(x, y, out);
        expectElementwise(backend.toArray(out), xs.map((v, i) => v + ys[i]), xs.map((v, i) => Math.abs(v) + Math.abs(ys[i])));
        backend.fill(out, -2.5);
        expect(Array.from(backend.toArray(out))).toEqual(new Array(n).fill(-2.5));
        backend.copy(x, out);
        expect(Array.from(backend.toArray(out))).toEqual(Array.from(xs));
        for (const t of [x, y, out]) backend.dispose(t);
      }

      function checkGemm(ta: Transpose, tb: Transpose, m: number, n: number, k: number, alpha: number, beta: number, seed: number): void {
        const aShape = ta === 'N' ? [m, k] : [k, m];
        const bShape = tb === 'N' ? [k, n] : [n, k];
        const a = backend.fromArray(randomArray(m * k, seed), aShape);
        const b = backend.fromArray(randomArray(k * n, seed + 1), bShape);
        const c = backend.fromArray(randomArray(m * n, seed + 2), [m, n]);
        // The reference reads back exactly what the backend stores.
        const ref = referenceGemm(ta, tb, m, n, k, alpha, backend.toArray(a), backend.toArray(b), beta, backend.toArray(c));
        backend.gemm(ta, tb, alpha, a, b, beta, c);
        const got = backend.toArray(c);
        for (let i = 0; i < m * n; i++) {
          const bound = 2 * (k + 3) * (u * ref.magnitude[i] + tiny) + 2 * u * Math.abs(ref.value[i]);
          if (!(Math.abs(got[i] - ref.value[i]) <= bound)) {
            throw new Error(
              `gemm ${ta}${tb} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}: C[${Math.floor(i / n)}, ${i % n}] = ${got[i]}, ` +
                `expected ${ref.value[i]} within ${bound}`,
            );
          }
        }
        for (const t of [a, b, c]) backend.dispose(t);
      }

      function expectElementwise(actual: ArrayLike<number>, expected: ArrayLike<number>, magnitude: ArrayLike<number>, ops = 1): void {
        for (let i = 0; i < expected.length; i++) {
          const bound = 2 * (ops + 1) * u * magnitude[i];
          if (!(Math.abs(actual[i] - expected[i]) <= bound)) {
            throw new Error(`element ${i}: ${actual[i]}, expected ${expected[i]} within ${bound}`);
          }
        }
      }
    });
  }
}

function expectClose64(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, scale))) {
      throw new Error(`element ${i}: ${actual[i]}, expected ${expected[i]} (tolerance ${tol} x ${Math.max(1, scale)})`);
    }
  }
}
