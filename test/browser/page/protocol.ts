/** What the page offers on window.mats, shared by the page script and the test driving it. */

export interface GemmProblem {
  m: number;
  k: number;
  n: number;
  /** [m, k] row-major */
  a: number[];
  /** [k, n] row-major */
  b: number[];
}

export interface GemmResult {
  /** gpu.js mode the page's backend runs (webgl2 or webgl). */
  mode: string;
  device: string;
  /** [m, n] row-major */
  c: number[];
  sumOfSquares: number;
  norm: number;
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
  gemmThroughput(n: number): GemmThroughputResult;
}
