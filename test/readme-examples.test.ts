import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { denseOf, dispatchRule } from '@mats/core';
import { createCpuBackend } from '@mats/backend-cpu';
import { countAllocations, describeOperatorConformance, randomArray, randomSpd, referenceKronecker, referenceMatVec, referenceSpdSolve } from '@mats/core/testing';
import { describe, expect, it } from 'vitest';
import { kfacMerge } from '../packages/core/examples/kfac-merge.js';
import { ChainSmoothness, smoothedFisherExample } from '../packages/core/examples/host-stencil.js';
import { LowRankPlusDiagonal, lowRankExample } from '../packages/core/examples/low-rank-plus-diagonal.js';
import { checkJacobiPcg } from '../packages/core/examples/test-your-solver.js';
import { cpu32, cpu64, distance, host, norm } from './helpers.js';

const coreDir = fileURLToPath(new URL('../packages/core/', import.meta.url));

describe('packages/core/README.md', () => {
  const readme = readFileSync(`${coreDir}README.md`, 'utf8');
  const examples = [...readme.matchAll(/<!-- example: (\S+) -->\n\n```ts\n([\s\S]*?)```/g)];

  it('shows every example file verbatim', () => {
    expect(examples.map((m) => m[1])).toEqual([
      'examples/kfac-merge.ts',
      'examples/low-rank-plus-diagonal.ts',
      'examples/host-stencil.ts',
      'examples/test-your-solver.ts',
      'examples/your-operator/tridiagonal.ts',
      'examples/your-operator/tridiagonal.test.ts',
    ]);
    for (const [, path, code] of examples) expect(code, path).toBe(readFileSync(`${coreDir}${path}`, 'utf8'));
  });
});

describe('README example: a user operator with its own rules', () => {
  const { backend, c, fisher, b, exact, merged } = lowRankExample();
  const n = c.shape[0];
  const dense = denseOf(c, backend);

  it('is solved by its registered Woodbury rule', () => {
    expect(dispatchRule('solve', c, b, {})).toBe('registered:low-rank-plus-diagonal');
    expect(exact.method).toBe('registered:low-rank-plus-diagonal');
    expect(exact.status).toBe('converged');
    const expected = referenceSpdSolve(dense, host(b), n);
    expect(distance(host(exact.x), expected)).toBeLessThan(1e-12 * norm(expected));
  });

  it('applies without allocating and has the diagonal its rule says', () => {
    const x = backend.fromArray(randomArray(n, 1), c.shape);
    const out = backend.zeros(c.shape);
    c.apply(x, out);
    expect(distance(host(out), referenceMatVec(dense, host(x), n))).toBeLessThan(1e-13);
  });

  it('merges with a diagonal Fisher by PCG, Jacobi built from its registered diagonal', () => {
    expect(merged.method).toBe('pcg');
    expect(merged.preconditioner).toBe('jacobi');
    expect(merged.status).toBe('converged');
    const total = denseOf(c, backend).map((v, i) => v + fisher.toDense()[i]);
    const expected = referenceSpdSolve(total, host(b), n);
    expect(distance(host(merged.x), expected)).toBeLessThan(1e-8 * norm(expected));
  });
});

// The user operator passes the operator conformance suite, in both precisions.
describeOperatorConformance('low-rank-plus-diagonal', {
  create: createCpuBackend,
  dtypes: ['float64', 'float32'],
  operator: (backend) =>
    new LowRankPlusDiagonal(backend.fromArray(randomArray(12, 1).map((v) => 1.5 + v), [12, 1]), backend.fromArray(randomArray(36, 2), [12, 3])),
});

describe('README example: an operator that computes on the host', () => {
  const { backend, prior, fisher, b, merged } = smoothedFisherExample();
  const n = prior.n;
  const dense = denseOf(prior, backend);

  it('is the chain stencil I + lambda L', () => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const expected = i === j ? 1 + 2 * prior.lambda : Math.abs(i - j) === 1 ? -prior.lambda : 0;
        expect(Math.abs(dense[i * n + j] - expected)).toBeLessThan(1e-15);
      }
    }
  });

  it('applies into out through read and write, allocating no tensor', () => {
    const x = backend.fromArray(randomArray(n, 1), [n]);
    const out = backend.zeros([n]);
    backend.fill(out, 7); // overwritten, not added to
    expect(countAllocations(backend, () => prior.apply(x, out))).toBe(0);
    expect(distance(host(out), referenceMatVec(dense, host(x), n))).toBeLessThan(1e-13);
  });

  it('merges with a diagonal Fisher by PCG, Jacobi built from its registered diagonal', () => {
    expect(merged.method).toBe('pcg');
    expect(merged.preconditioner).toBe('jacobi');
    expect(merged.status).toBe('converged');
    const total = dense.map((v, i) => v + fisher.toDense()[i]);
    const expected = referenceSpdSolve(total, host(b), n);
    expect(distance(host(merged.x), expected)).toBeLessThan(1e-8 * norm(expected));
  });
});

describeOperatorConformance('chain-smoothness (host stencil)', {
  create: createCpuBackend,
  dtypes: ['float64', 'float32'],
  operator: (backend) => new ChainSmoothness(backend, 12, 0.7),
});

describe('README example: a K-FAC merge of three models', () => {
  const [out, inp] = [5, 4];
  const tasks = [0, 1, 2].map((i) => ({ g: randomSpd(out, 10 + i), a: randomSpd(inp, 20 + i), w: randomArray(out * inp, 30 + i) }));
  const { merged, paper } = kfacMerge(tasks, out, inp);

  it('solves (sum G_i (x) A_i) W = sum G_i W_i A_i by Kronecker-preconditioned PCG', () => {
    expect(merged.method).toBe('pcg');
    expect(merged.preconditioner).toBe('kronecker (nearest)');
    expect(merged.status).toBe('converged');
    const dense = tasks.map((t) => referenceKronecker(t.g, t.a, out, inp)).reduce((s, m) => s.map((v, i) => v + m[i]));
    const rhs = tasks.map((t) => referenceMatVec(referenceKronecker(t.g, t.a, out, inp), t.w, out * inp)).reduce((s, v) => s.map((x, i) => x + v[i]));
    const expected = referenceSpdSolve(dense, rhs, out * inp);
    expect(distance(host(merged.x), expected)).toBeLessThan(1e-7 * norm(expected));
    expect(paper.preconditioner).toBe('none');
    expect(['converged', 'maxIterations']).toContain(paper.status);
  });
});

describe('README example: testing a solver with the arbitraries', () => {
  it('passes for PCG with Jacobi', () => {
    expect(() => checkJacobiPcg(cpu64)).not.toThrow();
  });
  it('fails, with a counterexample, where the solver cannot meet it (float32 at rtol 1e-10)', () => {
    expect(() => checkJacobiPcg(cpu32)).toThrow(/Property failed/);
  });
});
