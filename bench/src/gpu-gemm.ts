/**
 * gemm throughput of the gpu.js backend in every mode that can run here, this project's CPU
 * backend (float32) side by side in the same run, and WebGL in headless Chromium where Debian's
 * Chromium is installed. `npm run bench:gpu-gemm [-- 128 256 512]`; headlessgl needs an X
 * server: `xvfb-run -a npm run bench:gpu-gemm`.
 */
import { createCpuBackend } from '@mats/backend-cpu';
import { ALL_MODES, createGpuBackend, unavailableReason, type GpuBackend } from '@mats/backend-gpu';
import type { Backend } from '@mats/core';
import { rmSync } from 'node:fs';
import { chromiumUnavailable, launchChromium } from './browser/chromium.js';
import { buildPage } from './browser/page-build.js';
import { serveDirectory } from './browser/static-server.js';
import { measureGemm, type GemmThroughput } from './gemm-throughput.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const ns = sizes.length > 0 ? sizes : [128, 256, 512];

interface Row extends GemmThroughput {
  label: string;
}

const notes: string[] = [];
const rows: Row[] = [];

const backends: [string, Backend][] = [];
for (const mode of ALL_MODES) {
  const reason = unavailableReason(mode);
  if (reason === null) backends.push([`gpu.js ${mode} (node)`, createGpuBackend({ mode })]);
  else notes.push(`gpu.js ${mode} in node: not measured, ${reason}`);
}
backends.push(['backend-cpu float32 (node)', createCpuBackend('float32')]);
for (const n of ns) for (const [label, backend] of backends) rows.push({ label, ...measureGemm(backend, n) });
for (const [label, backend] of backends) {
  if (label.startsWith('gpu.js')) notes.push(`${label}: ${(backend as GpuBackend).describe()}`);
}

if (chromiumUnavailable !== null) {
  notes.push(`browser: not measured, ${chromiumUnavailable}`);
} else {
  const outdir = await buildPage();
  const server = await serveDirectory(outdir);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-state]');
    for (const mode of ['webgl2', 'webgl']) {
      for (const n of ns) {
        const r = await page.evaluate(([size, m]) => (globalThis as unknown as BenchWindow).mats.gemmThroughput(size, m), [n, mode] as const);
        rows.push({ label: `gpu.js ${r.mode} (chromium)`, n: r.n, gflops: r.gflops, msPerGemm: r.msPerGemm });
        if (n === ns[0]) notes.push(`gpu.js ${r.mode} (chromium): ${r.device}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface BenchWindow {
  mats: { gemmThroughput(n: number, mode: string): GemmThroughput & { mode: string; device: string } };
}

for (const note of notes) console.log(`- ${note}`);
console.log(`\ngemm float32 GFLOP/s (best of repeated runs), node ${process.version}`);
console.log('| n | backend | GFLOP/s | ms per gemm |');
console.log('|---|---|---|---|');
rows.sort((a, b) => a.n - b.n);
for (const r of rows) console.log(`| ${r.n} | ${r.label} | ${r.gflops.toFixed(3)} | ${r.msPerGemm.toFixed(2)} |`);
