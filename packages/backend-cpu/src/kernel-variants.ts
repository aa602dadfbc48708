/**
 * The CPU backend's kernel variants, and which one a backend gets.
 *
 * - 'typescript': plain TypeScript kernels (register-tiled gemm); runs anywhere, browsers too.
 * - 'wasm-simd': gemm on WebAssembly SIMD kernels compiled from assembly/ by `npm run build`,
 *   on the calling thread.
 * - 'wasm-simd-threads': the same kernels on several threads (worker_threads sharing one
 *   WebAssembly memory), for products large enough to pay for the hand-off.
 * - 'blas': 'wasm-simd-threads' with gemm and the K-FAC sum matvec on the system BLAS
 *   (OpenBLAS) through the native addon (src/native/native-blas.ts), in Node where
 *   `npm run build` could build it. WebAssembly's 128-bit SIMD cannot use the wide vector
 *   units a native BLAS does (docs/DESIGN.md, "CPU kernels").
 *
 * Level-1 operations run the TypeScript kernels in every variant: they stream each operand
 * once, so they are bound by memory bandwidth, and moving operands into WebAssembly memory
 * would cost as much as the operation (see docs/DESIGN.md, "CPU kernels").
 */
import { environment } from './environment.js';
import { kernelMemory, availableCores } from './wasm/kernel-memory.js';
import { nativeBlas } from './native/native-blas.js';
import { nodeBuiltins } from './wasm/node-builtins.js';

export type CpuKernelVariant = 'typescript' | 'wasm-simd' | 'wasm-simd-threads' | 'blas';

export const CPU_KERNEL_VARIANTS: readonly CpuKernelVariant[] = ['typescript', 'wasm-simd', 'wasm-simd-threads', 'blas'];

/** The variants that run several threads (and so take options.threads). */
const THREADED: readonly CpuKernelVariant[] = ['wasm-simd-threads', 'blas'];

export interface CpuBackendOptions {
  /**
   * Which kernels to run. 'auto' (the default) takes the fastest this runtime supports, unless
   * the environment variable MATS_CPU_KERNELS names a variant. Naming an unavailable variant
   * throws and says why it is unavailable.
   */
  kernels?: CpuKernelVariant | 'auto';
  /**
   * Threads for 'wasm-simd-threads', the calling thread included (default: MATS_CPU_THREADS,
   * else the available cores; at least 2 when that variant is named).
   */
  threads?: number;
  /** gemm products with fewer multiply-adds (m n k) run the TypeScript kernel (default 32768). */
  wasmMinWork?: number;
  /** gemm products with fewer multiply-adds than this stay on one thread (default 262144). */
  threadMinWork?: number;
  /**
   * Tensors with at least this many elements live in the WebAssembly memory, where level-1
   * operations run on the SIMD kernels (default 16384); tests lower it to reach every size.
   */
  level1MinElements?: number;
  /** Level-1 operations on fewer elements than this stay on one thread (default 131072). */
  level1ThreadMinElements?: number;
}

/** Whether a variant can run here, and if not, why. */
export function kernelVariantAvailability(variant: CpuKernelVariant): { available: true } | { available: false; reason: string } {
  if (variant === 'typescript') return { available: true };
  const memory = kernelMemory();
  if (typeof memory === 'string') return { available: false, reason: memory };
  if (THREADED.includes(variant) && !nodeBuiltins) return { available: false, reason: 'worker threads need Node' };
  if (variant === 'blas') {
    const blas = nativeBlas();
    if (typeof blas === 'string') return { available: false, reason: blas };
  }
  return { available: true };
}

/** The variants that can run in this process. */
export function availableKernelVariants(): CpuKernelVariant[] {
  return CPU_KERNEL_VARIANTS.filter((v) => kernelVariantAvailability(v).available);
}

export interface ResolvedVariant {
  variant: CpuKernelVariant;
  threads: number;
  /** Why 'auto' did not pick the fastest variant, when it did not. */
  note?: string;
}

export function resolveVariant(options: CpuBackendOptions): ResolvedVariant {
  let requested = options.kernels ?? 'auto';
  if (requested !== 'auto' && !CPU_KERNEL_VARIANTS.includes(requested)) {
    throw new TypeError(`cpu backend: unknown kernel variant '${String(requested)}'; expected 'auto', ${CPU_KERNEL_VARIANTS.map((v) => `'${v}'`).join(', ')}`);
  }
  const fromEnv = environment('MATS_CPU_KERNELS');
  if (requested === 'auto' && fromEnv !== undefined && fromEnv !== 'auto') {
    if (!(CPU_KERNEL_VARIANTS as readonly string[]).includes(fromEnv)) {
      throw new TypeError(`MATS_CPU_KERNELS=${fromEnv}: expected one of auto, ${CPU_KERNEL_VARIANTS.join(', ')}`);
    }
    requested = fromEnv as CpuKernelVariant;
  }
  // 'auto' on one core stays on one thread; an explicit request for threads gets at least 2.
  const threads = resolveThreads(options.threads, THREADED.includes(requested as CpuKernelVariant) ? 2 : 1);
  if (requested !== 'auto') {
    const availability = kernelVariantAvailability(requested);
    if (!availability.available) throw new Error(`cpu backend: kernel variant '${requested}' is unavailable: ${availability.reason}`);
    return { variant: requested, threads: THREADED.includes(requested) ? threads : 1 };
  }
  const wasm = kernelVariantAvailability('wasm-simd');
  if (!wasm.available) return { variant: 'typescript', threads: 1, note: `WebAssembly kernels unavailable: ${wasm.reason}` };
  const blas = kernelVariantAvailability('blas');
  if (blas.available) return { variant: 'blas', threads };
  const noBlas = `no native BLAS: ${blas.reason}`;
  if (threads > 1 && kernelVariantAvailability('wasm-simd-threads').available) return { variant: 'wasm-simd-threads', threads, note: noBlas };
  return { variant: 'wasm-simd', threads: 1, note: `${threads > 1 ? 'worker threads unavailable' : 'one core available'}; ${noBlas}` };
}

function resolveThreads(requested: number | undefined, minimumDefault: number): number {
  const fromEnv = environment('MATS_CPU_THREADS');
  const value = requested ?? (fromEnv !== undefined ? Number(fromEnv) : Math.max(minimumDefault, availableCores()));
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new RangeError(`cpu backend: threads must be an integer in [1, 64], got ${requested ?? `MATS_CPU_THREADS=${fromEnv}`}`);
  }
  return value;
}
