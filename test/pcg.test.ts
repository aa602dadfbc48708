import { DenseOperator, DiagonalOperator, KroneckerOperator, SumOperator, pcg, pcgMany, solve, type LinearOperator } from '@mats/core';
import { randomArray, randomSpd, referenceMatVec, referenceSpdSolve } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { countAllocations, cpu32, cpu64, distance, host, norm, operator } from './helpers.js';

const be = cpu64;

/** Textbook CG (Saad, Algorithm 6.18) on a dense float64 matrix: the residual norms per iteration. */
function referenceCgHistory(a: Float64Array, b: Float64Array, n: number, iterations: number): number[] {
  const x = new Float64Array(n);
  const r = Float64Array.from(b);
  const p = Float64Array.from(b);
  let rr = r.reduce((s, v) => s + v * v, 0);
  const history = [Math.sqrt(rr)];
  for (let k = 0; k < iterations; k++) {
    const q = referenceMatVec(a, p, n);
    const alpha = rr / p.reduce((s, v, i) => s + v * q[i], 0);
    for (let i = 0; i < n; i++) {
      x[i] += alpha * p[i];
      r[i] -= alpha * q[i];
    }
    const next = r.reduce((s, v) => s + v * v, 0);
    for (let i = 0; i < n; i++) p[i] = r[i] + (next / rr) * p[i];
    rr = next;
    history.push(Math.sqrt(rr));
  }
  return history;
}

describe('pcg', () => {
  const g = operator('sum-of-kroneckers', 4, 3, 11);
  const b = randomArray(g.n, 5);
  const bt = be.fromArray(b, g.operator.shape);

  it('follows textbook CG step by step, and converges to the dense solution', () => {
    const r = pcg(g.operator, bt, { rtol: 1e-12 });
    expect(r.status, r.message).toBe('converged');
    const reference = referenceCgHistory(g.dense, b, g.n, r.iterations);
    // The last entry is the confirmed true residual; the others are the recursive ones.
    r.history.slice(0, -1).forEach((h, k) => expect(Math.abs(h - reference[k])).toBeLessThanOrEqual(1e-9 * reference[0]));
    expect(distance(host(r.x), referenceSpdSolve(g.dense, b, g.n))).toBeLessThanOrEqual(1e-9 * norm(referenceSpdSolve(g.dense, b, g.n)));
    expect(r.x.shape).toEqual(g.operator.shape);
    expect(r.initialResidualNorm).toBeCloseTo(norm(b), 12);
    expect(r.message).toMatch(/^converged in \d+ iterations/);
  });

  it('stops when ||r|| <= max(atol, rtol ||b||), whichever is larger', () => {
    const loose = pcg(g.operator, bt, { rtol: 1e-2 });
    const absolute = pcg(g.operator, bt, { rtol: 1e-12, atol: 1e-2 * norm(b) });
    expect(loose.residualNorm).toBeLessThanOrEqual(1e-2 * norm(b));
    expect(absolute.iterations).toBe(loose.iterations);
    expect(pcg(g.operator, bt, { rtol: 1e-10 }).iterations).toBeGreaterThan(loose.iterations);
  });

  it('accepts b in any shape of the block size and returns x in that shape', () => {
    const flat = be.fromArray(b, [g.n]);
    const r = pcg(g.operator, flat, { rtol: 1e-12 });
    expect(r.x.shape).toEqual([g.n]);
    expect(distance(host(r.x), host(pcg(g.operator, bt, { rtol: 1e-12 }).x))).toBeLessThan(1e-12);
  });

  it('starts from x0 without modifying it, and returns x0 at once when it already solves the system', () => {
    const exact = be.fromArray(referenceSpdSolve(g.dense, b, g.n), g.operator.shape);
    const before = host(exact);
    const r = pcg(g.operator, bt, { x0: exact, rtol: 1e-8 });
    expect(r.iterations).toBe(0);
    expect(r.status).toBe('converged');
    expect(host(exact)).toEqual(before);
    expect(r.initialResidualNorm).toBeLessThan(1e-8 * norm(b));
    const near = be.fromArray(host(exact).map((v, i) => v + 1e-3 * Math.sin(i)), g.operator.shape);
    expect(pcg(g.operator, bt, { x0: near, rtol: 1e-10 }).iterations).toBeLessThan(pcg(g.operator, bt, { rtol: 1e-10 }).iterations);
  });

  it('returns zero after 0 iterations for a zero right-hand side, whatever x0', () => {
    const zero = be.zeros(g.operator.shape);
    const r = pcg(g.operator, zero, { x0: bt });
    expect(r.status).toBe('converged');
    expect(r.iterations).toBe(0);
    expect(norm(host(r.x))).toBe(0);
    expect(r.residualNorm).toBe(0);
  });

  it("reports 'maxIterations' with advice, and the true residual of the returned x", () => {
    const r = pcg(g.operator, bt, { rtol: 1e-14, maxIterations: 3 });
    expect(r.status).toBe('maxIterations');
    expect(r.iterations).toBe(3);
    expect(r.message).toMatch(/raise maxIterations.*preconditioner/);
    expect(r.residualNorm).toBeCloseTo(distance(referenceMatVec(g.dense, host(r.x), g.n), b), 12);
    expect(r.history).toHaveLength(4);
  });

  it('recomputes the true residual every k iterations', () => {
    let applies = 0;
    const counting: LinearOperator = { ...g.operator, kind: 'counting', shape: g.operator.shape, dtype: 'float64', apply: (x, out) => (applies++, g.operator.apply(x, out)) };
    const run = (every: number) => {
      applies = 0;
      pcg(counting, bt, { rtol: 1e-14, maxIterations: 12, recomputeResidualEvery: every });
      return applies;
    };
    // 12 iterations: one apply each, one more per recomputation, one for the final residual.
    expect(run(0)).toBe(12 + 1);
    expect(run(4)).toBe(12 + 3);
  });

  it("gives 'indefinite' on p^T A p <= 0 instead of stepping", () => {
    const d = new DiagonalOperator(be.fromArray([1, -1, 2], [3]));
    const r = pcg(d, be.fromArray([1, 1, 0], [3]));
    expect(r.status).toBe('indefinite');
    expect(r.iterations).toBe(0);
    expect(r.message).toMatch(/p\^T A p = 0\.00e\+0 <= 0 at iteration 1.*damping/);
    expect(norm(host(r.x))).toBe(0);
  });

  it("gives 'breakdown' when the preconditioner is not positive definite", () => {
    const bad = new DiagonalOperator(be.fromArray(new Float64Array(g.n).fill(-1), g.operator.shape));
    const r = pcg(g.operator, bt, { preconditioner: bad });
    expect(r.status).toBe('breakdown');
    expect(r.message).toMatch(/r\^T M r = .* <= 0 at iteration 0.*symmetric positive definite/);
  });

  it("gives 'nonFinite' when the operator produces NaN, naming the iteration", () => {
    let calls = 0;
    const poisoned: LinearOperator = {
      kind: 'poisoned',
      shape: g.operator.shape,
      dtype: 'float64',
      apply: (x, out) => {
        g.operator.apply(x, out);
        if (++calls === 3) be.fill(out, NaN);
      },
    };
    const r = pcg(poisoned, bt, { rtol: 1e-14 });
    expect(r.status).toBe('nonFinite');
    expect(r.message).toMatch(/NaN or Inf in A p at iteration 3/);
  });

  it('lets the callback watch every iteration and stop the solve', () => {
    const seen: number[] = [];
    const r = pcg(g.operator, bt, {
      rtol: 1e-14,
      callback: ({ iteration, residualNorm }) => {
        seen.push(residualNorm);
        return iteration === 4 ? 'stop' : undefined;
      },
    });
    expect(r.status).toBe('stopped');
    expect(r.iterations).toBe(4);
    expect(r.message).toMatch(/stopped by the callback after 4 iterations/);
    expect(seen).toEqual(r.history.slice(1));
  });

  it('stops on an AbortSignal, before the first iteration or during the solve', () => {
    const aborted = AbortSignal.abort(new Error('user cancelled'));
    const first = pcg(g.operator, bt, { signal: aborted });
    expect(first.status).toBe('stopped');
    expect(first.iterations).toBe(0);
    expect(first.message).toMatch(/AbortSignal \(user cancelled\)/);
    const controller = new AbortController();
    const during = pcg(g.operator, bt, {
      rtol: 1e-14,
      signal: controller.signal,
      callback: ({ iteration }) => void (iteration === 2 && controller.abort()),
    });
    expect(during.status).toBe('stopped');
    expect(during.iterations).toBe(2);
  });

  it('allocates the same tensors for 5 iterations as for 40: nothing per iteration', () => {
    const run = (maxIterations: number) =>
      countAllocations(be, () => pcg(g.operator, bt, { rtol: 0, maxIterations, preconditioner: 'kronecker', recomputeResidualEvery: 3 }));
    run(1); // builds the cached preconditioner
    expect(run(40)).toBe(run(5));
  });

  it('checks its inputs and names what is wrong', () => {
    expect(() => pcg(g.operator, be.zeros([5]))).toThrow(/b has shape \[5\] \(5 elements\), but sum \[4, 3\] acts on 12 elements/);
    expect(() => pcg(g.operator, cpu32.zeros(g.operator.shape))).toThrow(/dtype mismatch, float64 and float32/);
    expect(() => pcg(g.operator, bt, { rtol: -1 })).toThrow(/options.rtol must be a finite number >= 0, got -1/);
    expect(() => pcg(g.operator, bt, { maxIterations: 1.5 })).toThrow(/options.maxIterations must be an integer >= 0/);
    expect(() => pcg(g.operator, bt, { preconditioner: 'magic' as 'none' })).toThrow(/unknown preconditioner 'magic'/);
    expect(() => pcg({ kind: 'x' } as unknown as LinearOperator, bt)).toThrow(/A must be an operator/);
  });
});

describe('pcgMany', () => {
  const g = operator('sum-of-kroneckers', 3, 4, 21);
  const columns = [1, 2, 3].map((s) => randomArray(g.n, s));
  // The second right-hand side starts at its solution, the third is zero: they settle at once.
  const bs = columns.map((c, j) => cpu64.fromArray(j === 2 ? new Float64Array(g.n) : c, g.operator.shape));
  const x0s = [cpu64.zeros(g.operator.shape), cpu64.fromArray(referenceSpdSolve(g.dense, columns[1], g.n), g.operator.shape), cpu64.zeros(g.operator.shape)];

  it('runs right-hand sides in lock-step, each converging on its own', () => {
    const many = pcgMany(g.operator, bs, { x0: x0s, rtol: 1e-10 });
    expect(many.map((r) => r.status)).toEqual(['converged', 'converged', 'converged']);
    expect(many[1].iterations).toBe(0);
    expect(many[2].iterations).toBe(0);
    const single = pcg(g.operator, bs[0], { rtol: 1e-10 });
    expect(many[0].iterations).toBe(single.iterations);
    expect(distance(host(many[0].x), host(single.x))).toBeLessThan(1e-14);
  });

  it('shows the callback every column, with the largest residual of those still running', () => {
    const norms: number[][] = [];
    const many = pcgMany(g.operator, [bs[0], cpu64.fromArray(columns[2], g.operator.shape)], {
      rtol: 1e-10,
      callback: (p) => {
        norms.push(Array.from(p.residualNorms));
        expect(p.residualNorm).toBe(Math.max(...p.residualNorms));
      },
    });
    expect(norms).toHaveLength(Math.max(many[0].iterations, many[1].iterations));
    expect(norms.map((n) => n[0]).slice(0, many[0].iterations)).toEqual(many[0].history.slice(1));
  });

  it('needs one x0 per right-hand side', () => {
    expect(() => pcgMany(g.operator, bs, { x0: [x0s[0]] })).toThrow(/1 initial guesses for 3 right-hand sides/);
  });
});

describe('pcg reference mode (the paper\'s solver: scipy cg before 1.12 as the MaTS code calls it)', () => {
  const g = operator('sum-of-kroneckers', 3, 3, 31);
  const b = randomArray(g.n, 8);
  const bt = cpu64.fromArray(b, g.operator.shape);

  it('runs the fixed iteration count without a preconditioner', () => {
    const r = pcg(g.operator, bt, { reference: true, maxIterations: 4 });
    expect(r.status).toBe('maxIterations');
    expect(r.iterations).toBe(4);
    expect(r.preconditioner).toBe('none');
    expect(r.message).toMatch(/fixed 4 iterations of reference mode/);
    expect(pcg(g.operator, bt, { reference: true }).iterations).toBeLessThanOrEqual(100);
  });

  it("stops at scipy's legacy tolerance ||r|| <= tol ||b||", () => {
    const r = pcg(g.operator, bt, { reference: { tol: 1e-3 }, maxIterations: 100 });
    expect(r.status).toBe('converged');
    expect(r.residualNorm).toBeLessThanOrEqual(1e-3 * norm(b));
    expect(r.history[r.iterations - 1]).toBeGreaterThan(1e-3 * norm(b));
  });

  it('accepts x0 at once when ||b - A x0|| <= tol in absolute terms (legacy _get_atol)', () => {
    const exact = referenceSpdSolve(g.dense, b, g.n);
    // Off by about 5e-6 in residual: above tol ||b|| (||b|| < 1), below the absolute tol 1e-5.
    const scaledB = cpu64.fromArray(b.map((v) => v * 0.1), g.operator.shape);
    const x0 = cpu64.fromArray(exact.map((v, i) => 0.1 * v + (i === 0 ? 5e-6 / g.dense[0] : 0)), g.operator.shape);
    const r = pcg(g.operator, scaledB, { reference: true, x0 });
    expect(r.initialResidualNorm).toBeLessThan(1e-5);
    expect(r.initialResidualNorm).toBeGreaterThan(1e-5 * 0.1 * norm(b));
    expect(r.iterations).toBe(0);
    expect(r.status).toBe('converged');
    expect(pcg(g.operator, scaledB, { x0, rtol: 1e-5 }).iterations).toBeGreaterThan(0);
  });

  it('refuses options that would change the legacy rule', () => {
    expect(() => pcg(g.operator, bt, { reference: true, rtol: 1e-3 })).toThrow(/options.rtol cannot be combined with reference mode/);
    expect(() => pcg(g.operator, bt, { reference: true, preconditioner: 'jacobi' })).toThrow(/without a preconditioner/);
  });
});

describe('pcg in float32', () => {
  it('converges to a float32-sized tolerance and says so when asked for more', () => {
    const g = operator('sum-of-kroneckers', 4, 4, 41, cpu32);
    const b = randomArray(g.n, 3).map(Math.fround);
    const bt = cpu32.fromArray(b, g.operator.shape);
    const ok = pcg(g.operator, bt, { rtol: 1e-5 });
    expect(ok.status, ok.message).toBe('converged');
    const expected = referenceSpdSolve(g.dense, b, g.n);
    expect(distance(host(ok.x), expected)).toBeLessThan(1e-4 * g.condition * norm(expected));
    const tooTight = pcg(g.operator, bt, { rtol: 1e-12, maxIterations: 60 });
    expect(tooTight.status).toBe('stagnated');
    expect(tooTight.message).toMatch(/float32 reaches rtol \d(\.\d)?e-\d+ on this system: ask for rtol >= .*, or compute in float64/);
  });
});

describe('pcg with a user preconditioner', () => {
  it('takes any operator approximating A^-1 and names it in the result', () => {
    const g = operator('dense', 3, 3, 51);
    const inverse = new Float64Array(g.n * g.n);
    for (let j = 0; j < g.n; j++) {
      const e = new Float64Array(g.n);
      e[j] = 1;
      referenceSpdSolve(g.dense, e, g.n).forEach((v, i) => (inverse[i * g.n + j] = v));
    }
    const sym = inverse.map((v, k) => 0.5 * (v + inverse[(k % g.n) * g.n + Math.floor(k / g.n)]));
    const M = new DenseOperator(cpu64.fromArray(sym, [g.n, g.n]), { shape: g.operator.shape, psd: true });
    const r = pcg(g.operator, cpu64.fromArray(randomArray(g.n, 1), g.operator.shape), { preconditioner: M, rtol: 1e-10 });
    expect(r.iterations).toBe(1);
    expect(r.preconditioner).toBe('operator dense');
    const misfit = new DiagonalOperator(cpu64.fromArray([1, 2], [2]));
    expect(() => pcg(g.operator, cpu64.zeros(g.operator.shape), { preconditioner: misfit })).toThrow(/does not fit/);
  });
});



describe('pcg at the rounding floor (issue 13, cases 1 and 2)', () => {
  // mats with subspace: diagonal in float32: a Sum of Diagonals, the 'auto' preconditioner its
  // exact inverse, x0 the task-arithmetic guess, rtol far below float32's reach.
  const n = 4096;
  const positive = (seed: number) => randomArray(n, seed).map((v) => Math.fround(0.1 + 2 * (1 + v)));
  const [d1, d2] = [positive(1), positive(2)];
  const system = new SumOperator([new DiagonalOperator(cpu32.fromArray(d1, [n])), new DiagonalOperator(cpu32.fromArray(d2, [n]))]);
  const b = randomArray(n, 3).map(Math.fround);
  const exact = b.map((v, i) => v / (d1[i] + d2[i]));

  it('a diagonal system with its exact inverse as preconditioner stops at once, at the floor, never NaN', () => {
    const r = solve(system, cpu32.fromArray(b, [n]), { method: 'pcg', x0: cpu32.fromArray(randomArray(n, 4), [n]), rtol: 1e-12, maxIterations: 5000 });
    expect(r.preconditioner).toBe('exact inverse (sum of diagonals)');
    expect(r.status, r.message).toBe('stagnated');
    expect(r.iterations).toBeLessThanOrEqual(2);
    expect(r.message).toMatch(/^stagnated at iteration \d: the residual is at float32's rounding floor .*float32 reaches rtol \de-\d+ on this system: ask for rtol >= \de-\d+, or compute in float64$/);
    // The iterate is the solution to float32 accuracy, and the residual reported is its own.
    expect(distance(host(r.x), exact)).toBeLessThan(1e-6 * norm(exact));
    const ax = host(r.x).map((v, i) => v * (d1[i] + d2[i]));
    expect(Math.abs(r.residualNorm - distance(ax, b))).toBeLessThan(1e-2 * r.residualNorm);
  });

  it('the rtol the message names is one a solve then meets', () => {
    const kron = (seed: number) =>
      new KroneckerOperator(cpu32.fromArray(randomSpd(24, seed), [24, 24]), cpu32.fromArray(randomSpd(20, seed + 1), [20, 20]), { psd: true });
    const sum = new SumOperator([kron(10), kron(20), kron(30)]);
    const rhs = cpu32.fromArray(randomArray(480, 5), [24, 20]);
    const tight = solve(sum, rhs, { method: 'pcg', rtol: 1e-12 });
    expect(tight.status, tight.message).toBe('stagnated');
    // Far below the 10 n = 4800 iterations the budget allows (main ran them all: issue 13, case 2).
    expect(tight.iterations).toBeLessThan(200);
    const reachable = Number(/float32 reaches rtol (\S+) on this system/.exec(tight.message)![1]);
    expect(reachable).toBeGreaterThan(1e-8);
    expect(reachable).toBeLessThan(1e-4);
    expect(tight.residualNorm / norm(host(rhs))).toBeLessThanOrEqual(reachable);
    expect(solve(sum, rhs, { method: 'pcg', rtol: reachable }).status).toBe('converged');
  });

  it('stops a solve that makes no progress for stagnationWindow iterations, keeping the best iterate', () => {
    // A singular diagonal with b outside its range: no x gets ||r|| below |b_2|.
    const d = new DiagonalOperator(cpu64.fromArray([1, 2, 0, 3, 4, 5, 6, 7], [8]));
    const rhs = cpu64.fromArray([1, 1, 1, 1, 1, 1, 1, 1], [8]);
    const r = pcg(d, rhs, { rtol: 1e-10, stagnationWindow: 20 });
    expect(['stagnated', 'indefinite']).toContain(r.status);
    if (r.status === 'stagnated') {
      expect(r.message).toMatch(/has not decreased for 20 iterations|grew beyond what CG allows/);
      expect(r.message).toMatch(/float64 reaches rtol 1e\+0 on this system/);
      expect(r.iterations).toBeLessThan(60);
    }
    expect(r.residualNorm).toBeLessThanOrEqual(norm(host(rhs)));
    expect(pcg(d, rhs, { rtol: 1e-10, stagnationWindow: 0, maxIterations: 300 }).iterations).toBeGreaterThan(60);
  });

  it('checks stagnationWindow, and reference mode (the paper\'s solver) has no stagnation test', () => {
    expect(() => pcg(system, cpu32.fromArray(b, [n]), { stagnationWindow: -1 })).toThrow(/options.stagnationWindow must be an integer >= 0/);
    expect(() => pcg(system, cpu32.fromArray(b, [n]), { reference: true, stagnationWindow: 5 })).toThrow(/stagnationWindow cannot be combined with reference mode/);
    const paper = pcg(system, cpu32.fromArray(b, [n]), { reference: { tol: 1e-12 }, maxIterations: 30 });
    expect(paper.status).not.toBe('stagnated');
  });
});
