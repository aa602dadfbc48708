import {
  BlockDiagonalOperator,
  DenseOperator,
  DiagonalOperator,
  GramOperator,
  IdentityOperator,
  InvalidOperatorError,
  KroneckerOperator,
  ScaledOperator,
  ShapeError,
  SumOperator,
  denseOf,
  disposeOperator,
  solve,
  type LinearOperator,
} from '@mats/core';
import { randomArray, randomSpd, referenceKronecker, referenceMatVec } from '@mats/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { countAllocations, cpu32, cpu64 as be, distance, host, operator } from './helpers.js';

const spd = (n: number, seed: number) => be.fromArray(randomSpd(n, seed), [n, n]);

describe('operator constructors check their data and name what is wrong', () => {
  it('factors must be square, finite and symmetric', () => {
    expect(() => new KroneckerOperator(be.zeros([2, 3]), spd(2, 1))).toThrow(/KroneckerOperator factor G must be a square 2-D matrix, got shape \[2, 3\]/);
    const nan = randomSpd(3, 1);
    nan[4] = NaN;
    expect(() => new KroneckerOperator(spd(2, 1), be.fromArray(nan, [3, 3]))).toThrow(/KroneckerOperator factor A has a non-finite entry NaN at \[1, 1\]/);
    const skew = randomSpd(3, 2);
    skew[1] += 0.5;
    expect(() => new GramOperator(be.fromArray(skew, [3, 3]), 2, { label: 'fc1.weight task 2' })).toThrow(
      /^fc1\.weight task 2: GramOperator factor A is not symmetric: \[0, 1\] = .* but \[1, 0\] = .*symmetrise it/,
    );
    expect(() => new DenseOperator(spd(4, 1), { shape: [3] })).toThrow(/block shape \[3\] has 3 elements, the matrix is \[4, 4\]/);
    expect(() => new DiagonalOperator(be.fromArray([1, Infinity], [2]))).toThrow(InvalidOperatorError);
    expect(() => new GramOperator(spd(2, 1), -1)).toThrow(/rows must be an integer >= 0, got -1/);
  });

  it('KroneckerOperator.fromHost: the same operator as from uploads, with its host arrays checked and kept (float64) or read back (float32)', () => {
    const g = randomSpd(5, 4);
    const a = randomSpd(3, 5);
    const made = KroneckerOperator.fromHost(be, g, a, { psd: true });
    const uploaded = new KroneckerOperator(be.fromArray(g, [5, 5]), be.fromArray(a, [3, 3]), { psd: true });
    expect(made.shape).toEqual([5, 3]);
    expect(made.tags.psd).toBe(true);
    expect(made.hostG.data).toBe(g); // kept, not copied back
    expect(Array.from(made.hostA.data)).toEqual(Array.from(uploaded.hostA.data));
    const x = be.fromArray(randomArray(15, 6), [5, 3]);
    const [y1, y2] = [be.zeros([5, 3]), be.zeros([5, 3])];
    made.apply(x, y1);
    uploaded.apply(x, y2);
    expect(distance(host(y1), host(y2))).toBeLessThanOrEqual(1e-14 * distance(host(y2), new Float64Array(15)));
    const skew = randomSpd(3, 2);
    skew[1] += 0.5;
    // A refused factor: both uploads are released (they are nobody's yet).
    const dispose = vi.spyOn(be, 'dispose');
    try {
      expect(() => KroneckerOperator.fromHost(be, g, skew)).toThrow(/KroneckerOperator factor A is not symmetric: \[0, 1\]/);
      expect(dispose.mock.calls.map((c) => c[0].shape)).toEqual([[5, 5], [3, 3]]);
    } finally {
      dispose.mockRestore();
    }
    const narrow = KroneckerOperator.fromHost(cpu32, g, a);
    expect(narrow.hostG.data).not.toBe(g);
    expect(Array.from(narrow.hostG.data)).toEqual(Array.from(Float32Array.from(g)));
  });

  it('accepts float32 rounding asymmetry and rejects real asymmetry', () => {
    const a = randomSpd(4, 3);
    const nearly = Float32Array.from(a);
    nearly[1] = Math.fround(nearly[1] * (1 + 2 ** -22));
    expect(() => new KroneckerOperator(cpu32.fromArray(nearly, [4, 4]), cpu32.fromArray(randomSpd(2, 1), [2, 2]))).not.toThrow();
    nearly[1] *= 1.01;
    expect(() => new KroneckerOperator(cpu32.fromArray(nearly, [4, 4]), cpu32.fromArray(randomSpd(2, 1), [2, 2]))).toThrow(/not symmetric/);
  });

  it('sums and block-diagonals need parts of one dtype, and sums one block shape', () => {
    expect(() => new SumOperator([])).toThrow(/at least one part/);
    expect(() => new SumOperator([new IdentityOperator(be, [2]), new IdentityOperator(cpu32, [2])])).toThrow(/part 1 \(identity \[2\]\) is float32, part 0 is float64/);
    expect(() => new BlockDiagonalOperator([new IdentityOperator(be, [2]), new IdentityOperator(cpu32, [2])])).toThrow(/block 1 is float32/);
    expect(() => new ScaledOperator(NaN, new IdentityOperator(be, [2]))).toThrow(/alpha must be finite/);
  });

  it('apply checks the block shape and says how to fix it', () => {
    const k = new KroneckerOperator(spd(2, 1), spd(3, 2));
    expect(() => k.apply(be.zeros([6]), be.zeros([2, 3]))).toThrow(/kronecker \[2, 3\]: apply got x of shape \[6\], expected the block shape \[2, 3\] \(reshape it with backend.reshape\)/);
    const x = be.zeros([2, 3]);
    expect(() => k.apply(x, x)).toThrow(/needs out distinct from x/);
  });
});

describe('tags are inferred by composition', () => {
  const psdK = new KroneckerOperator(spd(2, 1), spd(2, 2), { psd: true });
  const unknownK = new KroneckerOperator(spd(2, 1), spd(2, 2));
  const user: LinearOperator = { kind: 'opaque', shape: [2, 2], dtype: 'float64', apply: (x, out) => be.copy(x, out) };
  it.each([
    ['a Diagonal with entries >= 0', new DiagonalOperator(be.fromArray([0, 1], [2])), true],
    ['a Diagonal with a negative entry', new DiagonalOperator(be.fromArray([-1, 1], [2])), false],
    ['a Kronecker of factors declared psd', psdK, true],
    ['a Kronecker of factors not declared psd', unknownK, false],
    ['a sum of psd parts', new SumOperator([psdK, new IdentityOperator(be, [2, 2])]), true],
    ['a sum with a part not known psd', new SumOperator([psdK, unknownK]), false],
    ['a non-negative scaling of a psd part', new ScaledOperator(2, psdK), true],
    ['a negative scaling', new ScaledOperator(-2, psdK), false],
    ['a sum with a user part without tags', new SumOperator([psdK, user]), false],
    ['a block-diagonal of psd blocks', new BlockDiagonalOperator([psdK, new IdentityOperator(be, [3])]), true],
  ] as const)('%s: psd %s', (_, op, psd) => {
    expect(op.tags.psd).toBe(psd);
  });
  it('symmetric is known for built-ins, unknown through user parts', () => {
    expect(new SumOperator([psdK, unknownK]).tags.symmetric).toBe(true);
    expect(new SumOperator([psdK, user]).tags.symmetric).toBe(false);
  });
});

describe('operators follow the math conventions of DESIGN.md §3', () => {
  it('Kronecker: W -> G W A on an [out, in] block', () => {
    const [g, a, w] = [randomSpd(2, 1), randomSpd(3, 2), randomArray(6, 3)];
    const out = be.zeros([2, 3]);
    new KroneckerOperator(be.fromArray(g, [2, 2]), be.fromArray(a, [3, 3])).apply(be.fromArray(w, [2, 3]), out);
    // G W A by hand.
    const expected = new Float64Array(6);
    for (let r = 0; r < 2; r++)
      for (let c = 0; c < 3; c++)
        for (let r2 = 0; r2 < 2; r2++) for (let c2 = 0; c2 < 3; c2++) expected[r * 3 + c] += g[r * 2 + r2] * w[r2 * 3 + c2] * a[c2 * 3 + c];
    expect(distance(host(out), expected)).toBeLessThan(1e-14);
    expect(distance(referenceMatVec(referenceKronecker(g, a, 2, 3), w, 6), expected)).toBeLessThan(1e-14);
  });

  it('Kronecker with prepare (the packed-once product) equals the dense reference at every apply', () => {
    // Shapes that are not multiples of the register tiles, float64 and float32.
    for (const [backend, tol] of [[be, 1e-12], [cpu32, 1e-5]] as const) {
      const [m, n] = [37, 53];
      const [g, a] = [randomSpd(m, 4), randomSpd(n, 5)];
      const k = new KroneckerOperator(backend.fromArray(g, [m, m]), backend.fromArray(a, [n, n]), { prepare: true });
      const dense = referenceKronecker(g, a, m, n);
      for (let round = 0; round < 3; round++) {
        const w = randomArray(m * n, 10 + round);
        const out = backend.zeros([m, n]);
        k.apply(backend.fromArray(w, [m, n]), out);
        const expected = referenceMatVec(dense, w, m * n);
        const scale = Math.max(...expected.map(Math.abs));
        expect(distance(host(out), expected) / scale).toBeLessThan(tol);
      }
      k.dispose();
    }
  });

  it('Kronecker prepares its product once, with prepare only, and releases it with the operator', () => {
    const [m, n] = [9, 13];
    const plain = new KroneckerOperator(spd(m, 6), spd(n, 7));
    const k = new KroneckerOperator(spd(m, 6), spd(n, 7), { prepare: true });
    const disposed = vi.fn();
    const original = be.prepareKroneckerSum.bind(be);
    const prepare = vi.spyOn(be, 'prepareKroneckerSum').mockImplementation((g, a, options) => {
      const prepared = original(g, a, options);
      return prepared && { apply: (x, y) => prepared.apply(x, y), dispose: () => (disposed(), prepared.dispose()) };
    });
    try {
      const x = be.fromArray(randomArray(m * n, 8), [m, n]);
      const out = be.zeros([m, n]);
      plain.apply(x, out);
      plain.apply(x, out);
      expect(prepare).toHaveBeenCalledTimes(0);
      k.apply(x, out);
      k.apply(x, out);
      k.apply(x, out);
      expect(prepare).toHaveBeenCalledTimes(1);
      expect(disposed).not.toHaveBeenCalled();
      k.dispose();
      expect(disposed).toHaveBeenCalledTimes(1);
    } finally {
      prepare.mockRestore();
    }
  });

  it('the Kronecker preconditioner of a PCG solve is prepared once, not repacked at every iteration', () => {
    const parts = [1, 2, 3].map((i) => new KroneckerOperator(spd(6, i), spd(7, 10 + i), { psd: true }));
    const sum = new SumOperator(parts);
    const prepare = vi.spyOn(be, 'prepareKroneckerSum');
    try {
      const result = solve(sum, be.fromArray(randomArray(42, 3), [6, 7]), { method: 'pcg', preconditioner: 'kronecker', rtol: 1e-10 });
      expect(result.iterations).toBeGreaterThan(1);
      // One call for the system (3 parts), one for the preconditioner's X (x) Y inverse (1 part).
      expect(prepare.mock.calls.map((c) => c[0].length).sort()).toEqual([1, 3]);
    } finally {
      prepare.mockRestore();
      sum.dispose();
      parts.forEach((p) => p.dispose());
    }
  });

  it('a sum whose prepared product the backend declines applies its Kronecker parts without preparing them', () => {
    const parts = [new KroneckerOperator(spd(4, 1), spd(5, 2)), new KroneckerOperator(spd(4, 3), spd(5, 4))];
    const sum = new SumOperator(parts);
    const prepare = vi.spyOn(be, 'prepareKroneckerSum').mockReturnValue(undefined);
    try {
      const w = randomArray(20, 9);
      const out = be.zeros([4, 5]);
      for (let round = 0; round < 3; round++) sum.apply(be.fromArray(w, [4, 5]), out);
      // Only the sum asked (once: its answer is cached); no part asked for itself.
      expect(prepare.mock.calls.map((c) => c[0].length)).toEqual([2]);
      const expected = referenceMatVec(denseOf(sum), w, 20);
      expect(distance(host(out), expected)).toBeLessThan(1e-12 * Math.max(...expected.map(Math.abs)));
    } finally {
      prepare.mockRestore();
      sum.dispose();
      parts.forEach((p) => p.dispose());
    }
  });

  it('Gram: W -> W A, with diag(A) repeated on every row as its diagonal', () => {
    const a = randomSpd(3, 2);
    const op = new GramOperator(be.fromArray(a, [3, 3]), 2);
    expect(Array.from(host(op.diagonal()))).toEqual([a[0], a[4], a[8], a[0], a[4], a[8]]);
  });

  it('BlockDiagonal: blocks act on consecutive ranges of one flat vector', () => {
    const k = new KroneckerOperator(spd(2, 1), spd(2, 2));
    const d = new DiagonalOperator(be.fromArray([2, 3, 4], [3]));
    const bd = new BlockDiagonalOperator([k, d]);
    expect(bd.shape).toEqual([7]);
    expect(bd.offsets).toEqual([0, 4, 7]);
    const x = randomArray(7, 5);
    const out = be.zeros([7]);
    bd.apply(be.fromArray(x, [7]), out);
    const kx = be.zeros([2, 2]);
    k.apply(be.fromArray(x.subarray(0, 4), [2, 2]), kx);
    expect(distance(host(out), [...host(kx), 2 * x[4], 3 * x[5], 4 * x[6]])).toBeLessThan(1e-14);
  });
});

describe('denseOf and dispose', () => {
  it('denseOf builds the matrix of a user operator from unit vectors', () => {
    const k = operator('kronecker', 2, 2, 3);
    const user: LinearOperator = { kind: 'opaque', shape: [2, 2], dtype: 'float64', apply: (x, out) => k.operator.apply(x, out) };
    expect(distance(denseOf(user, be), k.dense)).toBeLessThan(1e-14);
    expect(() => denseOf(user)).toThrow(/opaque \[2, 2\] has no toDense\(\) and no backend/);
  });

  it('disposeOperator releases what the library made, and the operator rebuilds it on demand', () => {
    const g = operator('sum-of-two-kroneckers', 3, 3, 4);
    const b = be.fromArray(randomArray(9, 1), [3, 3]);
    const first = solve(g.operator, b);
    const cached = countAllocations(be, () => solve(g.operator, b));
    disposeOperator(g.operator);
    let again = first;
    // S, T and the denominators are uploaded again, the scratch made again.
    expect(countAllocations(be, () => (again = solve(g.operator, b)))).toBeGreaterThanOrEqual(cached + 4);
    expect(distance(host(again.x), host(first.x))).toBeLessThan(1e-12);
  });
});
