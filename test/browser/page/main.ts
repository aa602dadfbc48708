/**
 * The browser page's script: builds a GPU backend on WebGL (requireGpu, so it never quietly
 * runs on the CPU), exposes window.mats for the test that drives the page, and runs a demo
 * problem at load to show a result to a person who opens the page.
 */
import { createGpuBackend, type GpuBackend, type GpuMode } from '@mats/backend-gpu';
import { measureGemm } from '../../../bench/src/gemm-throughput.js';
import type { BrowserApi, GemmProblem, GemmResult, GemmThroughputResult } from './protocol.js';

const backends = new Map<string, GpuBackend>();

/** One backend per requested mode; the default is the best GL mode the browser offers. */
function gpuBackend(mode?: GpuMode): GpuBackend {
  const key = mode ?? 'default';
  let backend = backends.get(key);
  if (backend === undefined) {
    backend = createGpuBackend({ requireGpu: true, mode });
    backends.set(key, backend);
  }
  return backend;
}

/** C = A B and a few reductions on the GPU backend: the WebGL path end to end. */
function gemm(problem: GemmProblem): GemmResult {
  const b = gpuBackend(problem.mode);
  const { m, k, n } = problem;
  const ta = b.fromArray(problem.a, [m, k]);
  const tb = b.fromArray(problem.b, [k, n]);
  const tc = b.zeros([m, n]);
  b.gemm('N', 'N', 1, ta, tb, 0, tc);
  const flat = b.reshape(tc, [m * n]);
  const result: GemmResult = {
    mode: b.mode,
    device: b.describe(),
    c: Array.from(b.toArray(tc)),
    sumOfSquares: b.dot(flat, flat),
    norm: b.nrm2(flat),
    reduction: b.reduction,
  };
  for (const t of [ta, tb, tc]) b.dispose(t);
  return result;
}

function gemmThroughput(n: number, mode?: GpuMode): GemmThroughputResult {
  const b = gpuBackend(mode);
  return { mode: b.mode, device: b.describe(), ...measureGemm(b, n) };
}

const api: BrowserApi = { gemm, gemmThroughput };
(window as unknown as { mats: BrowserApi }).mats = api;

function demo(): void {
  const status = document.getElementById('status') as HTMLElement;
  const out = document.getElementById('result') as HTMLElement;
  try {
    const n = 64;
    const a = Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const b = Array.from({ length: n * n }, (_, i) => Math.cos(i));
    const t0 = performance.now();
    const r = gemm({ m: n, k: n, n, a, b });
    const ms = performance.now() - t0;
    out.textContent = `gemm ${n}x${n}x${n} in ${ms.toFixed(1)} ms\n||C||_F = ${r.norm}\nC[0, 0..3] = ${r.c.slice(0, 4).join(', ')}`;
    status.textContent = `ran on ${r.device}`;
    document.body.dataset.state = 'done';
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message}`;
    document.body.dataset.state = 'failed';
  }
}

demo();
