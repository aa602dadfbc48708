/**
 * C [m, n] <- alpha A [m, k] B [k, n] + beta C on host float64 arrays, for the host
 * factorizations (blocked triangular solves): the system BLAS where the 'blas' variant is what
 * 'auto' (or MATS_CPU_KERNELS) resolves to, else the WebAssembly kernels where the runtime has
 * them and MATS_CPU_KERNELS does not ask for 'typescript', the TypeScript kernel otherwise.
 */
import { GemmScratch, gemmFlat } from './gemm-driver.js';
import { resolveVariant } from './kernel-variants.js';
import { createKernelSet } from './kernels/kernel-set.js';
import { hostBlas } from './native/host-blas.js';
import { kernelMemory } from './wasm/kernel-memory.js';
import { WasmGemm } from './wasm/wasm-gemm.js';

type HostGemm = (m: number, n: number, k: number, alpha: number, a: Float64Array, b: Float64Array, beta: number, c: Float64Array) => void;

let hostGemmImpl: HostGemm | undefined;

function create(): HostGemm {
  const kernels = createKernelSet();
  const scratch = new GemmScratch((n) => new Float64Array(n));
  const typescript: HostGemm = (m, n, k, alpha, a, b, beta, c) => gemmFlat(kernels, scratch, false, false, m, n, k, alpha, a, b, beta, c);
  const blas = hostBlas();
  if (blas) return (m, n, k, alpha, a, b, beta, c) => blas.gemm(true, false, false, m, n, k, alpha, a, Math.max(1, k), b, Math.max(1, n), beta, c, Math.max(1, n));
  const resolved = resolveVariant({});
  const memory = resolved.variant === 'typescript' ? undefined : kernelMemory();
  if (typeof memory !== 'object') return typescript;
  const wasm = new WasmGemm(memory, kernels, 'float64', resolved.threads, 64 ** 3);
  return (m, n, k, alpha, a, b, beta, c) => {
    if (!wasm.run(false, false, m, n, k, alpha, a, b, beta, c)) typescript(m, n, k, alpha, a, b, beta, c);
  };
}

export function hostGemm(m: number, n: number, k: number, alpha: number, a: Float64Array, b: Float64Array, beta: number, c: Float64Array): void {
  hostGemmImpl ??= create();
  hostGemmImpl(m, n, k, alpha, a, b, beta, c);
}
