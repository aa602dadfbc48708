import { createCpuBackend } from '@mats/backend-cpu';
import { KroneckerOperator, SumOperator } from '@mats/core';
import { randomArray, referenceMatmul, referenceMatVec, referenceSpdSolve, referenceSymmetricEigen, unitRoundoff } from '@mats/core/testing';
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../bench/src/browser/chromium.js';
import { buildPage } from '../../bench/src/browser/page-build.js';
import { serveDirectory, type StaticServer } from '../../bench/src/browser/static-server.js';
import { describeWithChromium } from './chromium-gate.js';
import type { BrowserApi, GemmProblem, GemmResult, KroneckerSumProblem } from './page/protocol.js';

const u = unitRoundoff('float32');
const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/** A symmetric [n, n] factor I + (R + R^T) / (2.5 sqrt n), stored as float32 values. */
function factor(n: number, seed: number): number[] {
  const r = randomArray(n * n, seed);
  const f: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f.push(Math.fround((r[i * n + j] + r[j * n + i]) / (2.5 * Math.sqrt(n)) + (i === j ? 1 : 0)));
  return f;
}

function kroneckerSumProblem(preconditioner: 'none' | 'kronecker', mode?: 'webgl2' | 'webgl'): KroneckerSumProblem {
  const [out, inp, tasks] = [16, 24, 3];
  return {
    out,
    in: inp,
    g: Array.from({ length: tasks }, (_, i) => factor(out, 100 + i)),
    a: Array.from({ length: tasks }, (_, i) => factor(inp, 200 + i)),
    b: Array.from(randomArray(out * inp, 300), Math.fround),
    rtol: 1e-5,
    maxIterations: 300,
    preconditioner,
    mode,
  };
}

/** The float64 answer: the dense matrix of the same operator on the CPU backend, solved directly. */
function float64Reference(problem: KroneckerSumProblem): { dense: Float64Array; x: Float64Array; condition: number } {
  const cpu = createCpuBackend('float64');
  const { out, in: inp } = problem;
  const operator = new SumOperator(
    problem.g.map((g, i) => new KroneckerOperator(cpu.fromArray(g, [out, out]), cpu.fromArray(problem.a[i], [inp, inp]), { psd: true })),
  );
  const dense = operator.toDense();
  const n = out * inp;
  const { values } = referenceSymmetricEigen(dense, n);
  return { dense, x: referenceSpdSolve(dense, Float64Array.from(problem.b), n), condition: values[n - 1] / values[0] };
}

describeWithChromium('the GPU backend in a real browser (Chromium, WebGL on SwiftShader)', () => {
  let outdir: string;
  let server: StaticServer;
  let browser: LaunchedBrowser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    outdir = await buildPage();
    server = await serveDirectory(outdir);
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(server.url);
    await page.waitForSelector('body[data-state]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('loads the bundled page, solves its demo Sum of Kroneckers on WebGL and shows the result', async () => {
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    expect(await page.textContent('#status')).toMatch(/^PCG ran on gpu\.js webgl2? on /);
    expect(await page.textContent('#result')).toMatch(/converged in \d+ iterations, \|\|b - A x\|\| = /);
    expect(pageErrors).toEqual([]);
  });

  for (const [mode, preconditioner] of [
    ['webgl2', 'kronecker'],
    ['webgl2', 'none'],
    ['webgl', 'kronecker'],
  ] as const) {
    it(`solves a Sum of Kroneckers with float32 PCG on ${mode} (preconditioner ${preconditioner}) to the float64 answer`, async () => {
      const problem = kroneckerSumProblem(preconditioner, mode);
      const result = await page.evaluate((p) => (window as unknown as { mats: BrowserApi }).mats.solveKroneckerSum(p), problem);
      expect(result.mode).toBe(mode);
      expect(result.status, result.message).toBe('converged');
      const reference = float64Reference(problem);
      const n = problem.out * problem.in;
      // The residual of the returned x, in float64: PCG's float32 check was honest.
      const ax = referenceMatVec(reference.dense, Float64Array.from(result.x), n);
      const residual = norm(Array.from(problem.b, (v, i) => v - ax[i])) / norm(problem.b);
      expect(residual).toBeLessThanOrEqual(1.05 * problem.rtol);
      // ||x - x*|| / ||x*|| <= condition number x relative residual.
      const error = norm(Array.from(result.x, (v, i) => v - reference.x[i])) / norm(reference.x);
      expect(error).toBeLessThanOrEqual(reference.condition * residual + 8 * u);
    });
  }

  for (const mode of ['webgl2', 'webgl'] as const) {
    it(`computes gemm and reductions on ${mode} that match the float64 reference`, async () => {
      const [m, k, n] = [33, 47, 29];
      const problem: GemmProblem = { m, k, n, a: Array.from(randomArray(m * k, 1)), b: Array.from(randomArray(k * n, 2)), mode };
      const result = await page.evaluate((p) => (window as unknown as { mats: BrowserApi }).mats.gemm(p), problem);
      expect(result.mode).toBe(mode);
      // SwiftShader keeps the compensated sums (the backend's probe passed).
      expect(result.reduction).toBe('device');
      checkGemm(problem, result);
    });
  }
});

function checkGemm(problem: GemmProblem, result: GemmResult): void {
  const { m, k, n } = problem;
  const a32 = Float64Array.from(Float32Array.from(problem.a));
  const b32 = Float64Array.from(Float32Array.from(problem.b));
  const reference = referenceMatmul(a32, b32, m, k, n);
  const absA = a32.map(Math.abs);
  const absB = b32.map(Math.abs);
  const magnitude = referenceMatmul(absA, absB, m, k, n);
  let sumOfSquares = 0;
  for (let i = 0; i < m * n; i++) {
    expect(Math.abs(result.c[i] - reference[i])).toBeLessThanOrEqual(2 * (k + 3) * u * magnitude[i]);
    sumOfSquares += result.c[i] * result.c[i];
  }
  // The reductions run on the page's float32 C; compensated sums match float64 closely.
  expect(Math.abs(result.sumOfSquares - sumOfSquares)).toBeLessThanOrEqual(4 * u * sumOfSquares);
  expect(Math.abs(result.norm - Math.sqrt(sumOfSquares))).toBeLessThanOrEqual(4 * u * Math.sqrt(sumOfSquares));
}
