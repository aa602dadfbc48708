/** What the page offers on window.mats, shared by the page script and the test driving it. */
import type { GpuMode, ReductionStrategy } from '@mats/backend-gpu';

export interface GemmProblem {
  m: number;
  k: number;
  n: number;
  /** [m, k] row-major */
  a: number[];
  /** [k, n] row-major */
  b: number[];
  /** A GL mode to run exactly (default: the best the browser offers). */
  mode?: GpuMode;
}

export interface GemmResult {
  /** gpu.js mode the page's backend runs (webgl2 or webgl). */
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
  gemm(problem: GemmProblem): GemmResult;
  /** gemm GFLOP/s at size n on the page's backend (for npm run bench:gpu-gemm). */
  gemmThroughput(n: number, mode?: GpuMode): GemmThroughputResult;
}
