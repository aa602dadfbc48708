import { randomArray, referenceMatmul, unitRoundoff } from '@mats/core/testing';
import { rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../bench/src/browser/chromium.js';
import { buildPage } from '../../bench/src/browser/page-build.js';
import { serveDirectory, type StaticServer } from '../../bench/src/browser/static-server.js';
import { describeWithChromium } from './chromium-gate.js';
import type { BrowserApi, GemmProblem, GemmResult } from './page/protocol.js';

const u = unitRoundoff('float32');

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

  it('loads the bundled page, runs its demo on WebGL and shows the result', async () => {
    expect(await page.getAttribute('body', 'data-state')).toBe('done');
    const status = await page.textContent('#status');
    expect(status).toMatch(/^ran on gpu\.js webgl2? on /);
    expect(await page.textContent('#result')).toMatch(/\|\|C\|\|_F = \d/);
    expect(pageErrors).toEqual([]);
  });

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
