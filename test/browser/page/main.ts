/**
 * The browser page's script: builds a GPU backend on WebGL (requireGpu, so it never quietly
 * runs on the CPU), exposes window.mats for the test that drives the page, and at load solves
 * a demo Sum of Kroneckers with PCG and shows the result.
 */
import { createGpuBackend, type GpuBackend, type GpuMode } from '@mats/backend-gpu';
import { disposeOperator, KroneckerOperator, pcg, SumOperator } from '@mats/core';
import { measureGemm } from '../../../bench/src/gemm-throughput.js';
import type { BrowserApi, GemmProblem, GemmResult, GemmThroughputResult, KroneckerSumProblem, SolveResult } from './protocol.js';

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

/** PCG on sum_i G_i (x) A_i, every iteration on the GPU backend. */
function solveKroneckerSum(problem: KroneckerSumProblem): SolveResult {
  const backend = gpuBackend(problem.mode);
  const { out, in: inp } = problem;
  const parts = problem.g.map(
    (g, i) =>
      new KroneckerOperator(backend.fromArray(g, [out, out]), backend.fromArray(problem.a[i], [inp, inp]), {
        psd: true,
        label: `task ${i}`,
      }),
  );
  const operator = new SumOperator(parts);
  const b = backend.fromArray(problem.b, [out, inp]);
  const t0 = performance.now();
  const r = pcg(operator, b, { rtol: problem.rtol, maxIterations: problem.maxIterations, preconditioner: problem.preconditioner });
  const x = Array.from(backend.toArray(r.x));
  const milliseconds = performance.now() - t0;
  const result: SolveResult = {
    mode: backend.mode,
    device: backend.describe(),
    status: r.status,
    message: r.message,
    iterations: r.iterations,
    residualNorm: r.residualNorm,
    x,
    preconditioner: r.preconditioner,
    milliseconds,
  };
  backend.dispose(r.x);
  backend.dispose(b);
  for (const part of parts) {
    backend.dispose(part.g);
    backend.dispose(part.a);
  }
  disposeOperator(operator);
  return result;
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
  const measured = measureGemm(b, n); // first: the GL context exists once a kernel has run
  return { mode: b.mode, device: b.describe(), ...measured };
}

const api: BrowserApi = { solveKroneckerSum, gemm, gemmThroughput };
(window as unknown as { mats: BrowserApi }).mats = api;

/** I + (S + S^T) / (2.5 sqrt n), S uniform in [-1, 1] from a seeded LCG: SPD, eigenvalues in ~[0.35, 1.65]. */
function demoFactor(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0; // Numerical Recipes' LCG
    return (state / 2 ** 32) * 2 - 1;
  };
  const s = Array.from({ length: n * n }, next);
  const f: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f.push((s[i * n + j] + s[j * n + i]) / (2.5 * Math.sqrt(n)) + (i === j ? 1 : 0));
  return f;
}

function demo(): void {
  const status = document.getElementById('status') as HTMLElement;
  const out = document.getElementById('result') as HTMLElement;
  try {
    const [rows, cols, tasks] = [32, 48, 4];
    const problem: KroneckerSumProblem = {
      out: rows,
      in: cols,
      g: Array.from({ length: tasks }, (_, i) => demoFactor(rows, 1 + i)),
      a: Array.from({ length: tasks }, (_, i) => demoFactor(cols, 10 + i)),
      b: Array.from({ length: rows * cols }, (_, i) => Math.cos(i)),
      rtol: 1e-5,
      maxIterations: 200,
      preconditioner: 'kronecker',
    };
    const r = solveKroneckerSum(problem);
    out.textContent =
      `sum of ${tasks} Kroneckers on a [${rows}, ${cols}] block, preconditioner ${r.preconditioner}\n` +
      `${r.status} in ${r.iterations} iterations, ||b - A x|| = ${r.residualNorm.toExponential(3)}, ${r.milliseconds.toFixed(0)} ms\n` +
      `x[0, 0..3] = ${r.x.slice(0, 4).map((v) => v.toFixed(6)).join(', ')}`;
    status.textContent = `PCG ran on ${r.device}`;
    document.body.dataset.state = r.status === 'converged' ? 'done' : 'failed';
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message}`;
    document.body.dataset.state = 'failed';
  }
}

demo();
