/** What the page offers on window.mats, shared by the page script and the test driving it. */
import type { GpuMode, ReductionStrategy } from '@mats/backend-gpu';

/** sum_i G_i (x) A_i x = b on an [out, in] block (the merge system of one linear layer). */
export interface KroneckerSumProblem {
  out: number;
  in: number;
  /** Per task, G_i [out, out] row-major, symmetric positive definite. */
  g: number[][];
  /** Per task, A_i [in, in] row-major, symmetric positive definite. */
  a: number[][];
  /** [out, in] row-major */
  b: number[];
  rtol: number;
  maxIterations: number;
  preconditioner: 'none' | 'kronecker';
  /** A GL mode to run exactly (default: the best the browser offers). */
  mode?: GpuMode;
}

export interface SolveResult {
  /** gpu.js mode the page's backend ran (webgl2 or webgl). */
  mode: string;
  device: string;
  status: string;
  message: string;
  iterations: number;
  residualNorm: number;
  /** [out, in] row-major, float32 values */
  x: number[];
  preconditioner: string;
  milliseconds: number;
}

export interface GemmProblem {
  m: number;
  k: number;
  n: number;
  /** [m, k] row-major */
  a: number[];
  /** [k, n] row-major */
  b: number[];
  mode?: GpuMode;
}

export interface GemmResult {
  mode: string;
  device: string;
  /** [m, n] row-major */
  c: number[];
  sumOfSquares: number;
  norm: number;
  /** How dot and nrm2 finished ('device' unless the compensation probe failed). */
  reduction: ReductionStrategy;
}

export interface GemmThroughputResult {
  mode: string;
  device: string;
  n: number;
  gflops: number;
  msPerGemm: number;
}

export interface BrowserApi {
  solveKroneckerSum(problem: KroneckerSumProblem): SolveResult;
  gemm(problem: GemmProblem): GemmResult;
  /** gemm GFLOP/s at size n on the page's backend (for npm run bench:gpu-gemm). */
  gemmThroughput(n: number, mode?: GpuMode): GemmThroughputResult;
}
